//! The names the legacy clients (`shub://`, the sregistry client) send: `[E/]C/N[:tag]
//! [@version]`, with the collection spelt `C` (default entity) or `E/C`. Their signatures
//! cover the spelling, so it is kept.
use super::{validate_tag, ContainerPath, DEFAULT_SEGMENT, DEFAULT_TAG};
use crate::error::DomainError;

/// A `[E/]C/N[:tag][@version]` reference from a legacy client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyRef {
    pub path: ContainerPath,
    /// The collection as the client spelt it (`C` or `E/C`); its signatures cover this.
    pub collection: String,
    pub tag: Option<String>,
    pub version: Option<String>,
}

impl LegacyRef {
    /// Parses `[E/]C/N[:tag][@version]` (a trailing `/` is ignored).
    pub fn parse(reference: &str) -> Result<Self, DomainError> {
        let reference = reference.trim_end_matches('/');
        let invalid = || {
            DomainError::invalid(format!(
                "invalid reference {reference:?}: expected [entity/]collection/name[:tag][@version]"
            ))
        };
        let (rest, version) = match reference.rsplit_once('@') {
            Some((rest, v)) => (rest, Some(v.to_string())),
            None => (reference, None),
        };
        let (path, tag) = match rest.rsplit_once(':') {
            Some((path, tag)) if !tag.contains('/') => (path, Some(tag.to_string())),
            Some(_) => return Err(invalid()),
            None => (rest, None),
        };
        if let Some(tag) = &tag {
            validate_tag(tag)?;
        }
        let parts: Vec<&str> = path.split('/').collect();
        let (entity, collection, name) = match parts.as_slice() {
            [c, n] => (DEFAULT_SEGMENT, *c, *n),
            [e, c, n] => (*e, *c, *n),
            _ => return Err(invalid()),
        };
        let path = ContainerPath::new(entity, collection, name)?;
        Ok(LegacyRef {
            collection: spelling(&path.entity, &path.collection),
            path,
            tag,
            version,
        })
    }

    /// The tag asked for, or `latest`.
    pub fn tag_or_default(&self) -> &str {
        self.tag.as_deref().unwrap_or(DEFAULT_TAG)
    }
}

/// How the legacy clients spell a Silo collection: `C` in the default entity, else `E/C`.
pub fn spelling(entity: &str, collection: &str) -> String {
    if entity == DEFAULT_SEGMENT {
        collection.to_string()
    } else {
        format!("{entity}/{collection}")
    }
}

/// Parses a collection as a legacy client spells it (`C` or `E/C`) into (entity, collection).
pub fn parse_collection(spelt: &str) -> Result<(String, String), DomainError> {
    match spelt
        .trim_matches('/')
        .split('/')
        .collect::<Vec<_>>()
        .as_slice()
    {
        [c] => Ok((DEFAULT_SEGMENT.to_string(), c.to_string())),
        [e, c] => Ok((e.to_string(), c.to_string())),
        _ => Err(DomainError::invalid(format!(
            "invalid collection {spelt:?}: expected collection or entity/collection"
        ))),
    }
}
