//! The checks on a pushed manifest that need no database: size, JSON, schema version, media
//! type (declared and `Content-Type`), digest against the URL's reference, and every
//! descriptor's media type, digest and size. [`ManifestDoc::parse`] is what
//! `oci_put_manifest` runs first and what the `oci_manifest` fuzz target feeds.
use serde_json::Value;

use super::manifests::{sha256_of, Reference};
use super::{
    parse_digest, OciCode, DOCKER_LIST, DOCKER_MANIFEST, MAX_MANIFEST_SIZE, OCI_INDEX, OCI_MANIFEST,
};
use crate::error::Result;
use crate::names::Sha256Hex;

/// A manifest that passed every check short of the repository's contents.
#[derive(Clone, Debug)]
pub struct ManifestDoc {
    pub digest: Sha256Hex,
    pub media_type: String,
    /// The declared `artifactType`, or else an image manifest's config media type.
    pub artifact_type: Option<String>,
    /// An image manifest's config and layers, `(media type, digest)`, config first.
    pub blobs: Vec<(String, Sha256Hex)>,
    /// An image manifest's layers, `(media type, digest, size)`.
    pub layers: Vec<(String, Sha256Hex, u64)>,
    /// An index's child manifests.
    pub children: Vec<Sha256Hex>,
    pub subject: Option<Sha256Hex>,
    /// The body, byte for byte.
    pub content: String,
}

fn invalid(detail: impl std::fmt::Display) -> crate::DomainError {
    OciCode::ManifestInvalid.err(detail)
}

/// A descriptor's media type, digest and size.
fn descriptor(value: &Value, what: &str) -> Result<(String, Sha256Hex, u64)> {
    let media_type = value["mediaType"]
        .as_str()
        .ok_or_else(|| invalid(format!("{what} has no mediaType")))?;
    let digest = value["digest"]
        .as_str()
        .ok_or_else(|| invalid(format!("{what} has no digest")))?;
    let size = value["size"]
        .as_u64()
        .filter(|s| i64::try_from(*s).is_ok())
        .ok_or_else(|| invalid(format!("{what} has no valid size")))?;
    Ok((media_type.to_string(), parse_digest(digest)?, size))
}

impl ManifestDoc {
    /// Checks `body`, pushed under `reference` with `content_type`.
    pub fn parse(body: &[u8], content_type: Option<&str>, reference: &Reference) -> Result<Self> {
        if body.len() > MAX_MANIFEST_SIZE {
            return Err(OciCode::SizeInvalid.err(format!(
                "manifests are limited to {MAX_MANIFEST_SIZE} bytes"
            )));
        }
        let doc: Value =
            serde_json::from_slice(body).map_err(|e| invalid(format!("not JSON: {e}")))?;
        if !doc.is_object() || doc["schemaVersion"].as_u64() != Some(2) {
            return Err(invalid("expected a JSON object with schemaVersion 2"));
        }
        let declared = doc["mediaType"].as_str();
        let media_type = match (declared, content_type) {
            (Some(d), Some(c)) if d != c => {
                return Err(invalid(format!(
                    "mediaType {d:?} differs from Content-Type {c:?}"
                )))
            }
            (Some(d), _) => d.to_string(),
            (None, Some(c)) => c.to_string(),
            (None, None) if doc.get("manifests").is_some() => OCI_INDEX.to_string(),
            (None, None) => OCI_MANIFEST.to_string(),
        };
        let digest = sha256_of(body);
        if let Reference::Digest(want) = reference {
            if *want != digest {
                return Err(OciCode::DigestInvalid.err(format!(
                    "the manifest's digest is sha256:{digest}, not sha256:{want}"
                )));
            }
        }
        let mut artifact_type = doc["artifactType"].as_str().map(str::to_string);
        let mut blobs = Vec::new();
        let mut layers = Vec::new();
        let mut children = Vec::new();
        match media_type.as_str() {
            OCI_MANIFEST | DOCKER_MANIFEST => {
                let (config_type, config_digest, _) = descriptor(&doc["config"], "config")?;
                blobs.push((config_type.clone(), config_digest));
                let no_layers = Vec::new();
                for (i, layer) in doc["layers"]
                    .as_array()
                    .unwrap_or(&no_layers)
                    .iter()
                    .enumerate()
                {
                    let (mt, d, size) = descriptor(layer, &format!("layer {i}"))?;
                    layers.push((mt.clone(), d.clone(), size));
                    blobs.push((mt, d));
                }
                artifact_type.get_or_insert(config_type);
            }
            OCI_INDEX | DOCKER_LIST => {
                let no_children = Vec::new();
                let listed = doc["manifests"].as_array().unwrap_or(&no_children);
                for (i, child) in listed.iter().enumerate() {
                    children.push(descriptor(child, &format!("manifest {i}"))?.1);
                }
            }
            other => {
                return Err(invalid(format!(
                    "unsupported manifest media type {other:?}"
                )));
            }
        }
        let subject = match doc["subject"]["digest"].as_str() {
            Some(d) => Some(parse_digest(d)?),
            None => None,
        };
        let content =
            String::from_utf8(body.to_vec()).map_err(|_| invalid("manifests are UTF-8 JSON"))?;
        Ok(ManifestDoc {
            digest,
            media_type,
            artifact_type,
            blobs,
            layers,
            children,
            subject,
            content,
        })
    }
}
