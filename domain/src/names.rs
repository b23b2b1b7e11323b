//! One parser for every name a client sends: `entity/collection/container[:tag|:sha256.<hex>]`.
//! The rules are those of the strictest client (Apptainer's library client push refs).
use crate::error::{DomainError, Result};
use std::sync::LazyLock;

pub mod legacy;

static SEGMENT: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$").unwrap());
static TAG: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$").unwrap());
static ARCH: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"^[a-z0-9_]{1,32}$").unwrap());

/// Longest accepted entity, collection or container name.
pub const MAX_SEGMENT_LEN: usize = 128;
/// The entity and collection used when a pull reference leaves them out.
pub const DEFAULT_SEGMENT: &str = "default";
/// The tag used when a reference has none.
pub const DEFAULT_TAG: &str = "latest";
/// The architecture assumed when neither the client nor the image names one.
pub const DEFAULT_ARCH: &str = "amd64";

/// Validates an entity, collection or container name.
pub fn validate_segment(kind: &str, name: &str) -> Result<()> {
    if name.len() > MAX_SEGMENT_LEN || !SEGMENT.is_match(name) {
        return Err(DomainError::invalid(format!(
            "invalid {kind} name {name:?}: use lower-case letters and digits, separated by single '.', '_' or '-' (at most {MAX_SEGMENT_LEN} characters)"
        )));
    }
    Ok(())
}

pub fn validate_tag(tag: &str) -> Result<()> {
    if !TAG.is_match(tag) {
        return Err(DomainError::invalid(format!(
            "invalid tag {tag:?}: use letters, digits, '.', '_' or '-' (at most 128 characters)"
        )));
    }
    Ok(())
}

pub fn validate_arch(arch: &str) -> Result<()> {
    if !ARCH.is_match(arch) {
        return Err(DomainError::invalid(format!(
            "invalid architecture {arch:?}"
        )));
    }
    Ok(())
}

/// A lower-case hex sha256 digest.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Sha256Hex(String);

impl Sha256Hex {
    pub fn parse(hex: &str) -> Result<Self> {
        if hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Sha256Hex(hex.to_string()))
        } else {
            Err(DomainError::invalid(format!(
                "invalid sha256 digest {hex:?}"
            )))
        }
    }
    /// Parses the library API's `sha256.<hex>` form.
    pub fn parse_library(hash: &str) -> Result<Self> {
        match hash.strip_prefix("sha256.") {
            Some(hex) => Self::parse(hex),
            None => Err(DomainError::invalid(format!(
                "invalid image hash {hash:?}: expected sha256.<64 hex digits>"
            ))),
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The library API's `sha256.<hex>` form.
    pub fn library_form(&self) -> String {
        format!("sha256.{}", self.0)
    }
}

impl std::fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `entity/collection/container`, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerPath {
    pub entity: String,
    pub collection: String,
    pub container: String,
}

impl ContainerPath {
    pub fn new(entity: &str, collection: &str, container: &str) -> Result<Self> {
        validate_segment("entity", entity)?;
        validate_segment("collection", collection)?;
        validate_segment("container", container)?;
        Ok(ContainerPath {
            entity: entity.into(),
            collection: collection.into(),
            container: container.into(),
        })
    }

    /// Parses `[[entity/]collection/]container`; missing parts become `default`.
    pub fn parse_short(path: &str) -> Result<Self> {
        let parts: Vec<&str> = path.split('/').collect();
        match parts.as_slice() {
            [e, c, n] => Self::new(e, c, n),
            [c, n] => Self::new(DEFAULT_SEGMENT, c, n),
            [n] => Self::new(DEFAULT_SEGMENT, DEFAULT_SEGMENT, n),
            _ => Err(DomainError::invalid(format!(
                "invalid container path {path:?}: expected entity/collection/container"
            ))),
        }
    }
}

impl std::fmt::Display for ContainerPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.entity, self.collection, self.container)
    }
}

/// What follows the `:` of an image reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Version {
    Tag(String),
    Hash(Sha256Hex),
}

/// A full image reference: a container path and a tag or content hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    pub path: ContainerPath,
    pub version: Version,
}

impl ImageRef {
    /// Parses `[[entity/]collection/]container[:tag|:sha256.<hex>]` (the library API form).
    pub fn parse(reference: &str) -> Result<Self> {
        let reference = reference.trim_start_matches("library://").trim_matches('/');
        let (path, version) = match reference.rsplit_once(':') {
            Some((path, v)) => (path, v),
            None => (reference, DEFAULT_TAG),
        };
        let path = ContainerPath::parse_short(path)?;
        let version = if version.starts_with("sha256.") {
            Version::Hash(Sha256Hex::parse_library(version)?)
        } else {
            validate_tag(version)?;
            Version::Tag(version.to_string())
        };
        Ok(ImageRef { path, version })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_and_short_refs() {
        let r = ImageRef::parse("alice/tools/bwa:v1").unwrap();
        assert_eq!(r.path.to_string(), "alice/tools/bwa");
        assert_eq!(r.version, Version::Tag("v1".into()));
        let r = ImageRef::parse("tools/bwa").unwrap();
        assert_eq!(r.path.to_string(), "default/tools/bwa");
        assert_eq!(r.version, Version::Tag("latest".into()));
        let hex = "a".repeat(64);
        let r = ImageRef::parse(&format!("e/c/n:sha256.{hex}")).unwrap();
        assert_eq!(r.version, Version::Hash(Sha256Hex::parse(&hex).unwrap()));
    }

    #[test]
    fn rejects_bad_names() {
        for bad in [
            "Alice/c/n:v1",
            "a/b/c/d",
            "a//n",
            "a/c/n:sha256.zz",
            "a/c/n:bad tag",
            "a/c/-n",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad} should be rejected");
        }
        assert!(validate_segment("entity", &"a".repeat(129)).is_err());
    }
}
