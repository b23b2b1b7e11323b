//! The OCI distribution API (`oras://`, skopeo, oras) over the same store as the library API.
//!
//! A repository is a container: `entity/collection/container`. Blobs are linked to the
//! repository that received (or mounted) them; manifests are kept byte for byte; library
//! images of a container are visible as blobs, and library tags as synthesized manifests
//! (`sif.rs`), so every image can be pulled by either protocol.
//!
//! Errors are ordinary [`DomainError`]s; those with an OCI meaning are made by
//! [`OciCode::err`] and recognised again by [`OciCode::classify`], which is how the OCI
//! adapter picks the spec's error code without a second error type.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{ContainerView, NewCollection, NewContainer, NewEntity, Registry};
use crate::entities::{image, oci_blob};
use crate::error::{DomainError, Result};
use crate::names::{ContainerPath, Sha256Hex};
use crate::policy::Actor;

mod blobs;
mod manifest_doc;
mod manifests;
mod sif;
mod token;
#[cfg(test)]
mod upload_tests;

pub use manifest_doc::ManifestDoc;
pub use manifests::{ManifestRules, PushedManifest, Reference, StoredManifest};
pub use token::{Grant, RegistryToken, ScopeRequest, TokenClaims, REGISTRY_TOKEN_SECONDS};

/// Largest manifest accepted.
pub const MAX_MANIFEST_SIZE: usize = 4 * 1024 * 1024;
/// The 2-byte `{}` config blob of SIF artifacts, servable from every repository.
pub const EMPTY_CONFIG: &[u8] = b"{}";
pub const EMPTY_CONFIG_SHA256: &str =
    "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
pub const SIF_CONFIG_MEDIA_TYPE: &str = "application/vnd.sylabs.sif.config.v1+json";
pub const SIF_LAYER_MEDIA_TYPE: &str = "application/vnd.sylabs.sif.layer.v1.sif";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// The OCI distribution spec's error codes that the domain can cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OciCode {
    BlobUnknown,
    BlobUploadInvalid,
    BlobUploadUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestUnknown,
    NameInvalid,
    NameUnknown,
    SizeInvalid,
    Unsupported,
}

const ALL_CODES: [OciCode; 11] = [
    OciCode::BlobUnknown,
    OciCode::BlobUploadInvalid,
    OciCode::BlobUploadUnknown,
    OciCode::DigestInvalid,
    OciCode::ManifestBlobUnknown,
    OciCode::ManifestInvalid,
    OciCode::ManifestUnknown,
    OciCode::NameInvalid,
    OciCode::NameUnknown,
    OciCode::SizeInvalid,
    OciCode::Unsupported,
];

impl OciCode {
    pub fn as_str(self) -> &'static str {
        match self {
            OciCode::BlobUnknown => "BLOB_UNKNOWN",
            OciCode::BlobUploadInvalid => "BLOB_UPLOAD_INVALID",
            OciCode::BlobUploadUnknown => "BLOB_UPLOAD_UNKNOWN",
            OciCode::DigestInvalid => "DIGEST_INVALID",
            OciCode::ManifestBlobUnknown => "MANIFEST_BLOB_UNKNOWN",
            OciCode::ManifestInvalid => "MANIFEST_INVALID",
            OciCode::ManifestUnknown => "MANIFEST_UNKNOWN",
            OciCode::NameInvalid => "NAME_INVALID",
            OciCode::NameUnknown => "NAME_UNKNOWN",
            OciCode::SizeInvalid => "SIZE_INVALID",
            OciCode::Unsupported => "UNSUPPORTED",
        }
    }

    /// A domain error carrying this code: "unknown" codes are `NotFound`, the rest
    /// `InvalidInput`.
    pub fn err(self, detail: impl std::fmt::Display) -> DomainError {
        let message = format!("{}: {detail}", self.as_str());
        match self {
            OciCode::BlobUnknown
            | OciCode::BlobUploadUnknown
            | OciCode::ManifestUnknown
            | OciCode::NameUnknown => DomainError::NotFound(message),
            _ => DomainError::InvalidInput(message),
        }
    }

    /// The code and detail of an error made by [`OciCode::err`].
    pub fn classify(error: &DomainError) -> Option<(OciCode, &str)> {
        let message = match error {
            DomainError::NotFound(m) | DomainError::InvalidInput(m) => m.as_str(),
            _ => return None,
        };
        let (code, detail) = message.split_once(": ")?;
        ALL_CODES
            .into_iter()
            .find(|c| c.as_str() == code)
            .map(|c| (c, detail))
    }
}

/// Parses `sha256:<hex>`, the only digest algorithm Silo stores.
pub fn parse_digest(digest: &str) -> Result<Sha256Hex> {
    match digest.split_once(':') {
        Some(("sha256", hex)) => {
            Sha256Hex::parse(hex).map_err(|_| OciCode::DigestInvalid.err(digest))
        }
        Some((algorithm, _)) if !algorithm.is_empty() => {
            Err(OciCode::Unsupported.err(format!("digest algorithm {algorithm:?}; use sha256")))
        }
        _ => Err(OciCode::DigestInvalid.err(digest)),
    }
}

/// Parses a repository name: exactly `entity/collection/container`.
pub fn parse_repository(name: &str) -> Result<ContainerPath> {
    let parts: Vec<&str> = name.split('/').collect();
    let [e, c, n] = parts.as_slice() else {
        return Err(OciCode::NameInvalid.err(format!(
            "{name:?}: repositories are entity/collection/container"
        )));
    };
    ContainerPath::new(e, c, n).map_err(|e| OciCode::NameInvalid.err(e))
}

impl Registry {
    /// A repository the actor may read.
    pub(crate) async fn oci_repo(
        &self,
        actor: &Actor,
        path: &ContainerPath,
    ) -> Result<ContainerView> {
        self.container(actor, path).await.map_err(|e| match e {
            DomainError::NotFound(_) => OciCode::NameUnknown.err(path),
            other => other,
        })
    }

    /// A repository the actor may push into, created (entity, collection, container) on
    /// first push as the policy allows.
    pub(crate) async fn oci_repo_for_write(
        &self,
        actor: &Actor,
        path: &ContainerPath,
    ) -> Result<ContainerView> {
        self.check_push(actor, path).await?;
        if let Ok(view) = self.container(actor, path).await {
            actor.require_push(&view.entity, &view.collection)?;
            return Ok(view);
        }
        // Two concurrent first pushes may both try to create: a conflict means the other won.
        let entity = match self.entity(&path.entity).await {
            Ok(entity) => entity,
            Err(DomainError::NotFound(_)) => {
                let new = NewEntity {
                    name: path.entity.clone(),
                    ..Default::default()
                };
                match self.create_entity(actor, new).await {
                    Ok(entity) => entity,
                    Err(DomainError::Conflict(_)) => self.entity(&path.entity).await?,
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        let collection = match self.collection(actor, &path.entity, &path.collection).await {
            Ok((_, collection)) => collection,
            Err(DomainError::NotFound(_)) => {
                let new = NewCollection {
                    entity_id: entity.id,
                    name: path.collection.clone(),
                    ..Default::default()
                };
                match self.create_collection(actor, new).await {
                    Ok((_, collection)) => collection,
                    Err(DomainError::Conflict(_)) => {
                        self.collection(actor, &path.entity, &path.collection)
                            .await?
                            .1
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        let new = NewContainer {
            collection_id: collection.id,
            name: path.container.clone(),
            ..Default::default()
        };
        match self.create_container(actor, new).await {
            Ok(view) => Ok(view),
            Err(DomainError::Conflict(_)) => self.container(actor, path).await,
            Err(e) => Err(e),
        }
    }

    /// Whether the actor could push into `path` (for registry token grants).
    pub(crate) async fn oci_may_push(&self, actor: &Actor, path: &ContainerPath) -> Result<bool> {
        match self.check_push(actor, path).await {
            Ok(()) => Ok(true),
            Err(DomainError::Forbidden(_) | DomainError::Unauthenticated) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether the actor could delete from the existing repository `path` (owners): for
    /// registry token grants.
    pub(crate) async fn oci_may_delete(&self, actor: &Actor, path: &ContainerPath) -> Result<bool> {
        match self.container(actor, path).await {
            Ok(view) => Ok(actor.require_manage(&view.entity, &view.collection).is_ok()),
            Err(DomainError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The size of a blob reachable from a repository: linked to it, a library image of
    /// its container, or the empty config.
    pub(crate) async fn oci_blob_in_repo(
        &self,
        container_id: i64,
        sha: &Sha256Hex,
    ) -> Result<Option<u64>> {
        if sha.as_str() == EMPTY_CONFIG_SHA256 {
            return Ok(Some(EMPTY_CONFIG.len() as u64));
        }
        let linked = oci_blob::Entity::find()
            .filter(oci_blob::Column::ContainerId.eq(container_id))
            .filter(oci_blob::Column::Digest.eq(sha.as_str()))
            .one(&self.db)
            .await?;
        if let Some(blob) = linked {
            return Ok(Some(blob.size as u64));
        }
        let image = image::Entity::find()
            .filter(image::Column::ContainerId.eq(container_id))
            .filter(image::Column::Sha256.eq(sha.as_str()))
            .filter(image::Column::Uploaded.eq(true))
            .one(&self.db)
            .await?;
        Ok(image.map(|i| i.size as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_domain_errors() {
        let e = OciCode::BlobUnknown.err("sha256:abc");
        assert!(matches!(e, DomainError::NotFound(_)));
        assert_eq!(
            OciCode::classify(&e),
            Some((OciCode::BlobUnknown, "sha256:abc"))
        );
        assert_eq!(
            OciCode::classify(&DomainError::not_found("container x")),
            None
        );
        assert!(parse_digest("sha256:zz").is_err());
        assert!(parse_digest(&format!("sha256:{EMPTY_CONFIG_SHA256}")).is_ok());
        assert!(parse_repository("a/b").is_err());
        assert!(parse_repository("a/b/c").is_ok());
    }
}
