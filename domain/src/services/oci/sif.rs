//! SIF artifacts seen from both sides: an OCI push of a SIF artifact becomes a library
//! image and tag, and a library tag is served to OCI clients as a synthesized manifest.
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;

use super::manifests::{sha256_of, StoredManifest};
use super::{
    OciCode, EMPTY_CONFIG_SHA256, OCI_MANIFEST, SIF_CONFIG_MEDIA_TYPE, SIF_LAYER_MEDIA_TYPE,
};
use crate::entities::{image, tag};
use crate::error::{DomainError, Result};
use crate::names::{validate_tag, Sha256Hex, DEFAULT_ARCH};
use crate::policy::Actor;
use crate::services::{now, ContainerView, Registry};
use crate::store::StoredBlob;

impl Registry {
    /// Records the SIF layer of a pushed artifact as an uploaded library image and points
    /// the library tag (the image's arch, default amd64) at it. Returns the image and arch
    /// tagged, for the manifest's transaction to point the tag again after the OCI tag, so
    /// that of concurrent pushes to one tag the same one ends up in both.
    pub(crate) async fn publish_sif(
        &self,
        actor: &Actor,
        repo: &ContainerView,
        sif: &Sha256Hex,
        size: u64,
        tag_name: Option<&str>,
    ) -> Result<Option<(i64, String)>> {
        let existing = image::Entity::find()
            .filter(image::Column::ContainerId.eq(repo.container.id))
            .filter(image::Column::Sha256.eq(sif.as_str()))
            .one(&self.db)
            .await?;
        let image = match existing {
            Some(found) if found.uploaded => found,
            existing => {
                let created = existing.is_none();
                let record = match existing {
                    Some(found) => found,
                    None => {
                        image::ActiveModel {
                            container_id: Set(repo.container.id),
                            sha256: Set(sif.to_string()),
                            size: Set(0),
                            arch: Set(None),
                            uploaded: Set(false),
                            description: Set(String::new()),
                            signed: Set(None),
                            encrypted: Set(None),
                            created_by: Set(actor.user_id()),
                            created_at: Set(now()),
                            updated_at: Set(now()),
                            ..Default::default()
                        }
                        .insert(&self.db)
                        .await?
                    }
                };
                // The same inspection as every library upload: arch, signatures, metadata;
                // a layer that is not a SIF image is refused (the OCI blob itself stays).
                let blob = StoredBlob {
                    sha256: sif.clone(),
                    size,
                    newly_stored: false,
                };
                match self.mark_uploaded(record.id, &blob).await {
                    Ok(updated) => updated,
                    Err(DomainError::InvalidInput(why)) => {
                        if created {
                            image::Entity::delete_by_id(record.id)
                                .exec(&self.db)
                                .await?;
                        }
                        return Err(OciCode::ManifestInvalid
                            .err(format!("the SIF layer is not a SIF image: {why}")));
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        if let Some(name) = tag_name.filter(|t| validate_tag(t).is_ok()) {
            let arch = image
                .arch
                .clone()
                .unwrap_or_else(|| DEFAULT_ARCH.to_string());
            self.set_tag(actor, repo.container.id, Some(&arch), name, image.id)
                .await?;
            return Ok(Some((image.id, arch)));
        }
        Ok(None)
    }

    /// The manifest an OCI client sees for a library image.
    fn synthesize(repo: &ContainerView, image: &image::Model) -> StoredManifest {
        let doc = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": SIF_CONFIG_MEDIA_TYPE,
                "digest": format!("sha256:{EMPTY_CONFIG_SHA256}"),
                "size": 2,
            },
            "layers": [{
                "mediaType": SIF_LAYER_MEDIA_TYPE,
                "digest": format!("sha256:{}", image.sha256),
                "size": image.size,
                "annotations": {
                    "org.opencontainers.image.title": format!("{}.sif", repo.container.name),
                },
            }],
        });
        let content = serde_json::to_vec(&doc).expect("JSON values serialize");
        StoredManifest {
            digest: sha256_of(&content),
            media_type: OCI_MANIFEST.to_string(),
            content,
        }
    }

    /// The synthesized manifest of a library tag (the default arch preferred).
    pub(crate) async fn synthesized_by_tag(
        &self,
        repo: &ContainerView,
        name: &str,
    ) -> Result<Option<StoredManifest>> {
        let tags = tag::Entity::find()
            .filter(tag::Column::ContainerId.eq(repo.container.id))
            .filter(tag::Column::Name.eq(name))
            .all(&self.db)
            .await?;
        let Some(chosen) = tags
            .iter()
            .find(|t| t.arch == DEFAULT_ARCH)
            .or_else(|| tags.first())
        else {
            return Ok(None);
        };
        let image = image::Entity::find_by_id(chosen.image_id)
            .one(&self.db)
            .await?
            .filter(|i| i.uploaded);
        Ok(image.map(|i| Self::synthesize(repo, &i)))
    }

    /// A synthesized manifest by its digest.
    pub(crate) async fn synthesized_by_digest(
        &self,
        repo: &ContainerView,
        digest: &Sha256Hex,
    ) -> Result<Option<StoredManifest>> {
        let images = image::Entity::find()
            .filter(image::Column::ContainerId.eq(repo.container.id))
            .filter(image::Column::Uploaded.eq(true))
            .order_by_asc(image::Column::Id)
            .all(&self.db)
            .await?;
        Ok(images
            .iter()
            .map(|i| Self::synthesize(repo, i))
            .find(|m| m.digest == *digest))
    }
}
