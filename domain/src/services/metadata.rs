//! SIF inspection of uploaded images: read the header, descriptors and small metadata
//! objects from the blob store by ranges, refuse what is not a SIF (unless configured to
//! accept other blobs), and keep what was found in `image_metadata`.
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::OnConflict, ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use std::collections::{BTreeMap, HashMap};

use super::{now, ImageView, Registry};
use crate::entities::{image, image_metadata};
use crate::error::{DomainError, Result};
use crate::names::Sha256Hex;
use crate::sif::{self, SifError, SifInfo, HEADER_LEN};

/// What inspection recorded about an image.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SifMetadata {
    pub arch: Option<String>,
    pub sif_created_at: Option<DateTime<Utc>>,
    pub definition: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub runscript: Option<String>,
    pub environment: Option<String>,
    pub signed: bool,
    pub fingerprints: Vec<String>,
}

impl From<image_metadata::Model> for SifMetadata {
    fn from(m: image_metadata::Model) -> Self {
        SifMetadata {
            arch: m.arch,
            sif_created_at: m.sif_created_at,
            definition: m.definition,
            labels: serde_json::from_str(&m.labels).unwrap_or_default(),
            runscript: m.runscript,
            environment: m.environment,
            signed: m.signed,
            fingerprints: serde_json::from_str(&m.fingerprints).unwrap_or_default(),
        }
    }
}

fn invalid_sif(err: SifError) -> DomainError {
    match err {
        SifError::Io(e) => DomainError::Storage(e.to_string()),
        other => DomainError::invalid(format!("not a valid SIF image: {other}")),
    }
}

impl Registry {
    /// Inspects a stored blob with three or four small ranged reads (header, descriptor
    /// table, metadata objects); partitions are never read.
    pub(crate) async fn inspect_sif(&self, sha256: &Sha256Hex) -> Result<SifInfo> {
        let file_len = self
            .store
            .size(sha256)
            .await?
            .ok_or_else(|| DomainError::not_found("blob"))?;
        let head = self
            .store
            .read_range_bytes(sha256, 0, HEADER_LEN as u64)
            .await?;
        let header = sif::parse_header(&head).map_err(invalid_sif)?;
        sif::check_bounds(&header, &[], file_len).map_err(invalid_sif)?;
        let table = self
            .store
            .read_range_bytes(
                sha256,
                header.descriptors_offset,
                header.descriptor_table_len(),
            )
            .await?;
        let descriptors = sif::parse_descriptors(&header, &table).map_err(invalid_sif)?;
        sif::check_bounds(&header, &descriptors, file_len).map_err(invalid_sif)?;
        let mut objects = Vec::new();
        for read in sif::wanted_objects(&descriptors) {
            let bytes = self
                .store
                .read_range_bytes(sha256, read.offset, read.len)
                .await?;
            objects.push((read.wanted, bytes));
        }
        Ok(sif::assemble(&header, &descriptors, &objects))
    }

    /// Stores what inspection found for an image and sets the image's arch and signed flag.
    pub(crate) async fn record_sif_metadata(&self, image_id: i64, info: &SifInfo) -> Result<()> {
        let labels = serde_json::to_string(&info.labels).expect("labels serialise");
        let fingerprints = serde_json::to_string(&info.fingerprints()).expect("strings serialise");
        let record = image::Entity::find_by_id(image_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("image {image_id}")))?;
        // The transaction starts with a write: on SQLite a read-then-write transaction fails
        // at once (no busy wait) when another writer committed in between.
        let txn = self.db.begin().await?;
        // An upsert: two uploads of the same image finishing at once both record it.
        image_metadata::Entity::insert(image_metadata::ActiveModel {
            image_id: Set(image_id),
            arch: Set(info.primary_arch.clone()),
            sif_created_at: Set(info.created_at),
            definition: Set(info.definition.clone()),
            labels: Set(labels),
            runscript: Set(info.runscript.clone()),
            environment: Set(info.environment.clone()),
            signed: Set(info.signed()),
            fingerprints: Set(fingerprints),
            inspected_at: Set(now()),
        })
        .on_conflict(
            OnConflict::column(image_metadata::Column::ImageId)
                .update_columns([
                    image_metadata::Column::Arch,
                    image_metadata::Column::SifCreatedAt,
                    image_metadata::Column::Definition,
                    image_metadata::Column::Labels,
                    image_metadata::Column::Runscript,
                    image_metadata::Column::Environment,
                    image_metadata::Column::Signed,
                    image_metadata::Column::Fingerprints,
                    image_metadata::Column::InspectedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        let mut active: image::ActiveModel = record.into();
        if let Some(arch) = &info.primary_arch {
            active.arch = Set(Some(arch.clone()));
        }
        active.signed = Set(Some(info.signed()));
        active.update(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Runs after an upload's bytes are committed and before the image counts as uploaded.
    /// A SIF image gets its metadata recorded. Anything else is refused with `InvalidInput`
    /// (the blob is discarded when this upload stored it and nothing references it, so
    /// nothing stays visible), unless the registry accepts non-SIF blobs.
    pub(crate) async fn after_upload_inspect(
        &self,
        image_id: i64,
        blob: &crate::store::StoredBlob,
    ) -> Result<()> {
        match self.inspect_sif(&blob.sha256).await {
            Ok(info) => self.record_sif_metadata(image_id, &info).await,
            Err(DomainError::InvalidInput(why)) if self.accept_non_sif => {
                tracing::info!(image_id, %why, "keeping an upload that is not a SIF image");
                Ok(())
            }
            Err(err @ DomainError::InvalidInput(_)) => {
                self.discard_refused(blob).await?;
                Err(err)
            }
            Err(err) => Err(err),
        }
    }

    /// Inspection results for images the caller has already been allowed to read.
    pub(crate) async fn metadata_of_images(
        &self,
        image_ids: &[i64],
    ) -> Result<HashMap<i64, SifMetadata>> {
        if image_ids.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(image_metadata::Entity::find()
            .filter(image_metadata::Column::ImageId.is_in(image_ids.iter().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| (m.image_id, SifMetadata::from(m)))
            .collect())
    }

    /// The inspection results for an image the caller has already resolved (and so may
    /// read); `None` for images that were never inspected or are not SIF.
    pub async fn image_metadata(&self, view: &ImageView) -> Result<Option<SifMetadata>> {
        Ok(image_metadata::Entity::find_by_id(view.image.id)
            .one(&self.db)
            .await?
            .map(SifMetadata::from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ByteStream, Expected, FsBlobStore};
    use crate::testing::TestDb;
    use std::sync::Arc;

    async fn stored(registry: &Registry, bytes: Vec<u8>) -> Sha256Hex {
        let stream: ByteStream =
            Box::pin(futures::stream::iter(vec![Ok(bytes::Bytes::from(bytes))]));
        registry
            .store()
            .put(stream, &Expected::default())
            .await
            .unwrap()
            .sha256
    }

    #[tokio::test]
    async fn uploads_record_metadata_and_deletes_remove_it() {
        use crate::names::ImageRef;
        use crate::services::{NewCollection, NewContainer, NewEntity, NewToken};
        let db = TestDb::new().await;
        let store = FsBlobStore::open(db.dir.path().join("blobs"))
            .await
            .unwrap();
        let registry = Registry::new(db.db.clone(), Arc::new(store));
        registry.create_user("alice", "", false).await.unwrap();
        let token = NewToken {
            label: "t".into(),
            scope: None,
            expires_in_days: None,
        };
        let secret = registry.create_token("alice", token).await.unwrap().secret;
        let actor = registry.authenticate(&secret).await.unwrap();
        let entity = NewEntity {
            name: "alice".into(),
            ..Default::default()
        };
        let entity = registry.create_entity(&actor, entity).await.unwrap();
        let coll = NewCollection {
            entity_id: entity.id,
            name: "c".into(),
            ..Default::default()
        };
        let (_, coll) = registry.create_collection(&actor, coll).await.unwrap();
        let cont = NewContainer {
            collection_id: coll.id,
            name: "n".into(),
            ..Default::default()
        };
        let cont = registry.create_container(&actor, cont).await.unwrap();
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let bytes = std::fs::read(fixtures.join("signed.sif")).unwrap();
        let sha =
            Sha256Hex::parse(&hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes))).unwrap();
        let view = registry
            .create_image(&actor, cont.container.id, &sha, "")
            .await
            .unwrap();
        let stream: ByteStream =
            Box::pin(futures::stream::iter(vec![Ok(bytes::Bytes::from(bytes))]));
        let image = registry
            .upload_direct(&actor, view.image.id, stream, None)
            .await
            .unwrap();
        assert!(image.uploaded);
        assert_eq!(image.arch.as_deref(), Some("amd64"));
        assert_eq!(image.signed, Some(true));
        let meta = registry.image_metadata(&view).await.unwrap().unwrap();
        assert_eq!(meta.fingerprints.len(), 1);
        assert_eq!(meta.labels["Author"], "Silo Test");

        let reference = ImageRef::parse(&format!("alice/c/n:sha256.{sha}")).unwrap();
        registry
            .delete_image(&actor, &reference, None)
            .await
            .unwrap();
        assert!(registry.image_metadata(&view).await.unwrap().is_none());
        let rows = image_metadata::Entity::find()
            .all(registry.db())
            .await
            .unwrap();
        assert!(rows.is_empty());
        assert!(
            registry.store().size(&sha).await.unwrap().is_some(),
            "left to GC"
        );
        let gc = crate::services::GcOptions {
            grace: std::time::Duration::ZERO,
            ..Default::default()
        };
        registry.collect_garbage(&gc).await.unwrap();
        assert!(registry.store().size(&sha).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn inspects_stored_blobs_by_ranges() {
        let db = TestDb::new().await;
        let store = FsBlobStore::open(db.dir.path().join("blobs"))
            .await
            .unwrap();
        let registry = Registry::new(db.db.clone(), Arc::new(store));
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let full = stored(&registry, std::fs::read(fixtures.join("full.sif")).unwrap()).await;
        let info = registry.inspect_sif(&full).await.unwrap();
        assert_eq!(info.primary_arch.as_deref(), Some("arm64"));
        assert_eq!(info.labels["maintainer"], "research-computing");

        let junk = stored(&registry, b"identical content".to_vec()).await;
        let err = registry.inspect_sif(&junk).await.unwrap_err();
        assert!(
            matches!(&err, DomainError::InvalidInput(m) if m.starts_with("not a valid SIF image")),
            "{err:?}"
        );
        // Rejection removes a blob this upload stored, and keeps one it did not.
        let mut blob = crate::store::StoredBlob {
            sha256: junk.clone(),
            size: 17,
            newly_stored: false,
        };
        let err = registry.after_upload_inspect(1, &blob).await;
        assert!(err.is_err());
        assert!(registry.store().size(&junk).await.unwrap().is_some());
        blob.newly_stored = true;
        let err = registry.after_upload_inspect(1, &blob).await;
        assert!(err.is_err());
        assert!(registry.store().size(&junk).await.unwrap().is_none());
    }
}
