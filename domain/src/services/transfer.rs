//! Moving image bytes: upload sessions (capability URLs that need no credentials), direct
//! uploads, and downloads that count usage.
use chrono::Duration;
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait,
};

use super::{now, random_hex, ChangeKind, ImageView, Registry};
use crate::entities::{container, download_event, image, upload_session};
use crate::error::{DomainError, Result};
use crate::names::{ImageRef, Sha256Hex};
use crate::policy::Actor;
use crate::store::{BlobReader, ByteRange, ByteStream, Expected, UploadId};

/// How long an upload capability stays valid.
pub(crate) const UPLOAD_SESSION_HOURS: i64 = 24;

/// A started upload: the bytes go to the capability `session_id`.
#[derive(Clone, Debug)]
pub struct UploadTicket {
    pub session_id: String,
    pub image_id: i64,
}

/// An image being downloaded.
pub struct Download {
    pub view: ImageView,
    pub reader: BlobReader,
}

impl Registry {
    /// Starts a single-part upload for an image the actor may write.
    pub async fn begin_upload(
        &self,
        actor: &Actor,
        image_id: i64,
        size: u64,
        sha256: Option<&Sha256Hex>,
    ) -> Result<UploadTicket> {
        let view = self.image_for_write(actor, image_id).await?;
        let principal = actor.require_user()?;
        self.admit_push_bytes(&view.owner.entity.name, size).await?;
        if let Some(sha) = sha256 {
            if sha.as_str() != view.image.sha256 {
                return Err(DomainError::invalid(format!(
                    "sha256sum {sha} does not match the image hash sha256.{}",
                    view.image.sha256
                )));
            }
        }
        let size = i64::try_from(size).map_err(|_| DomainError::invalid("filesize too large"))?;
        let session = upload_session::ActiveModel {
            id: Set(random_hex(32)),
            image_id: Set(image_id),
            user_id: Set(principal.user_id),
            kind: Set("single".into()),
            expected_sha256: Set(view.image.sha256.clone()),
            expected_size: Set(size),
            created_at: Set(now()),
            expires_at: Set(now() + Duration::hours(UPLOAD_SESSION_HOURS)),
            part_size: Set(0),
        }
        .insert(&self.db)
        .await?;
        Ok(UploadTicket {
            session_id: session.id,
            image_id,
        })
    }

    /// Receives the bytes of an upload session. Knowing the session id is the credential.
    pub async fn receive_upload(&self, session_id: &str, data: ByteStream) -> Result<image::Model> {
        let not_found = || DomainError::not_found("upload session");
        let session = upload_session::Entity::find_by_id(session_id.to_string())
            .one(&self.db)
            .await?
            .ok_or_else(not_found)?;
        if session.expires_at <= now() {
            upload_session::Entity::delete_by_id(session.id)
                .exec(&self.db)
                .await?;
            return Err(not_found());
        }
        let expected = Expected {
            sha256: Some(Sha256Hex::parse(&session.expected_sha256)?),
            size: Some(session.expected_size as u64),
        };
        let image = self
            .store_image_bytes(session.image_id, data, &expected)
            .await?;
        upload_session::Entity::delete_by_id(session.id)
            .exec(&self.db)
            .await?;
        Ok(image)
    }

    /// Forgets upload sessions past their expiry, and the bytes of expired multipart
    /// uploads; returns how many sessions.
    pub async fn sweep_expired_uploads(&self) -> Result<u64> {
        let expired = upload_session::Entity::find()
            .filter(upload_session::Column::ExpiresAt.lte(now()))
            .all(&self.db)
            .await?;
        for session in &expired {
            if session.kind == "multipart" {
                self.store
                    .abort_multipart(&UploadId::parse(&session.id)?)
                    .await?;
            }
            self.forget_session(&session.id).await?;
        }
        let oci = self.sweep_expired_oci_uploads().await?;
        Ok(expired.len() as u64 + oci)
    }

    /// The legacy one-request upload (`POST /v1/imagefile/{id}`).
    pub async fn upload_direct(
        &self,
        actor: &Actor,
        image_id: i64,
        data: ByteStream,
        size: Option<u64>,
    ) -> Result<image::Model> {
        let view = self.image_for_write(actor, image_id).await?;
        let entity = &view.owner.entity.name;
        self.admit_push_bytes(entity, size.unwrap_or(0)).await?;
        let expected = Expected {
            sha256: Some(Sha256Hex::parse(&view.image.sha256)?),
            size,
        };
        self.lease_blob(&Sha256Hex::parse(&view.image.sha256)?, 0)
            .await?;
        let data = self.uploads.track(data);
        let blob = self.store.put(data, &expected).await?;
        if size.is_none() {
            self.admit_stored_bytes(entity, &blob).await?;
        }
        self.mark_uploaded(image_id, &blob).await
    }

    async fn store_image_bytes(
        &self,
        image_id: i64,
        data: ByteStream,
        expected: &Expected,
    ) -> Result<image::Model> {
        if let Some(sha) = &expected.sha256 {
            self.lease_blob(sha, 0).await?;
        }
        let data = self.uploads.track(data);
        let blob = self.store.put(data, expected).await?;
        self.mark_uploaded(image_id, &blob).await
    }

    /// Records that an image's bytes are committed to the store: the image becomes uploaded
    /// in a transaction holding the blob's row (see `blobs.rs`), so garbage collection cannot
    /// delete the bytes under it.
    pub(crate) async fn mark_uploaded(
        &self,
        image_id: i64,
        blob: &crate::store::StoredBlob,
    ) -> Result<image::Model> {
        crate::fault::point("db-commit");
        self.lease_blob(&blob.sha256, blob.size).await?;
        if let Err(e) = self.after_upload_inspect(image_id, blob).await {
            // Refused bytes are discarded; other failures may mean they were collected. Bytes
            // that vanished while being read were collected, even if a concurrent push of the
            // same content has stored them again since: this push retries.
            let refused = matches!(e, DomainError::InvalidInput(_));
            let collected = e.is_missing_blob() || self.store.size(&blob.sha256).await?.is_none();
            if !refused && collected {
                return Err(super::blobs::blob_removed(&blob.sha256));
            }
            return Err(e);
        }
        let txn = self.hold_blob(&blob.sha256, blob.size).await?;
        let record = image::Entity::find_by_id(image_id)
            .one(&txn)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("image {image_id}")))?;
        let mut active: image::ActiveModel = record.into();
        active.size = Set(blob.size as i64);
        active.uploaded = Set(true);
        active.updated_at = Set(now());
        let updated = active.update(&txn).await?;
        txn.commit().await?;
        // Every upload path (library single and multipart, OCI SIF, sregistry) ends here.
        self.publish_for_container(ChangeKind::ImagePushed, updated.container_id)
            .await;
        Ok(updated)
    }

    /// Confirms a finished upload (`PUT …/_complete`).
    pub async fn complete_upload(&self, actor: &Actor, image_id: i64) -> Result<ImageView> {
        let view = self.image_for_write(actor, image_id).await?;
        if !view.image.uploaded {
            return Err(DomainError::Conflict(format!(
                "image {image_id} has not received its bytes; upload them before completing"
            )));
        }
        Ok(view)
    }

    /// Opens an uploaded image for download. `record` says whether this request counts as a
    /// download (the adapter knows: a GET of the whole file or of its first bytes does, a
    /// HEAD or a later range does not).
    pub async fn download(
        &self,
        actor: &Actor,
        reference: &ImageRef,
        arch: Option<&str>,
        range: Option<ByteRange>,
        protocol: &str,
        record: bool,
    ) -> Result<Download> {
        let view = self.uploaded_image(actor, reference, arch).await?;
        let sha = Sha256Hex::parse(&view.image.sha256)?;
        let reader = self.store.open(&sha, range).await?;
        if record {
            self.record_download(actor.user_id(), &view, protocol)
                .await?;
        }
        Ok(Download { view, reader })
    }

    async fn uploaded_image(
        &self,
        actor: &Actor,
        reference: &ImageRef,
        arch: Option<&str>,
    ) -> Result<ImageView> {
        let view = self.image(actor, reference, arch).await?;
        if !view.image.uploaded {
            return Err(DomainError::not_found(format!(
                "image {} has no uploaded content",
                view.image.sha256
            )));
        }
        Ok(view)
    }

    /// Counts a download and hands out a capability for the bytes (the 303 download mode:
    /// the client then fetches ranges of the capability URL).
    /// A presigned URL of the blob store for the image (counted as a download), when the
    /// store serves downloads itself; `None` (nothing counted) otherwise.
    pub async fn store_download_url(
        &self,
        actor: &Actor,
        reference: &ImageRef,
        arch: Option<&str>,
        protocol: &str,
    ) -> Result<Option<String>> {
        if !self.store.redirects_downloads() {
            return Ok(None);
        }
        let view = self.uploaded_image(actor, reference, arch).await?;
        let sha = Sha256Hex::parse(&view.image.sha256)?;
        let filename = format!("{}_{}.sif", view.owner.container.name, sha);
        let Some(url) = self.store.presigned_download(&sha, Some(&filename)) else {
            return Ok(None);
        };
        self.record_download(actor.user_id(), &view, protocol)
            .await?;
        Ok(Some(url))
    }

    pub async fn download_redirect(
        &self,
        actor: &Actor,
        reference: &ImageRef,
        arch: Option<&str>,
        protocol: &str,
    ) -> Result<(ImageView, String)> {
        let view = self.uploaded_image(actor, reference, arch).await?;
        let token = self.download_token(actor, &view, protocol).await?;
        self.record_download(actor.user_id(), &view, protocol)
            .await?;
        Ok((view, token))
    }

    /// Opens the image a download capability grants. `record` as for [`Registry::download`].
    pub async fn download_granted(
        &self,
        token: &str,
        range: Option<ByteRange>,
        record: bool,
    ) -> Result<Download> {
        let grant = self.verify_download_token(token).await?;
        let view = self.granted_image(&grant).await?;
        let sha = Sha256Hex::parse(&view.image.sha256)?;
        let reader = self.store.open(&sha, range).await?;
        if record {
            self.record_download(grant.user_id, &view, &grant.protocol)
                .await?;
        }
        Ok(Download { view, reader })
    }

    pub(crate) async fn record_download(
        &self,
        user_id: Option<i64>,
        view: &ImageView,
        protocol: &str,
    ) -> Result<()> {
        let txn = self.db.begin().await?;
        download_event::ActiveModel {
            image_id: Set(view.image.id),
            container_id: Set(view.owner.container.id),
            user_id: Set(user_id),
            protocol: Set(protocol.to_string()),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        container::Entity::update_many()
            .col_expr(
                container::Column::DownloadCount,
                Expr::col(container::Column::DownloadCount).add(1),
            )
            .filter(container::Column::Id.eq(view.owner.container.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        // Cached lookups carry the container's download count.
        self.lookups_changed();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::{NewCollection, NewContainer, NewEntity, NewToken};
    use crate::store::FsBlobStore;
    use crate::testing::TestDb;
    use bytes::Bytes;
    use std::sync::Arc;

    async fn registry_with_image(db: &TestDb) -> (Registry, Actor, i64, Vec<u8>) {
        let store = FsBlobStore::open(db.dir.path().join("blobs"))
            .await
            .unwrap();
        let registry = Registry::new(db.db.clone(), Arc::new(store)).with_accept_non_sif(true);
        registry.create_user("alice", "", false).await.unwrap();
        let token = registry
            .create_token(
                "alice",
                NewToken {
                    label: "t".into(),
                    scope: None,
                    expires_in_days: None,
                },
            )
            .await
            .unwrap();
        let actor = registry.authenticate(&token.secret).await.unwrap();
        let entity = registry
            .create_entity(
                &actor,
                NewEntity {
                    name: "alice".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let (_, coll) = registry
            .create_collection(
                &actor,
                NewCollection {
                    entity_id: entity.id,
                    name: "c".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let view = registry
            .create_container(
                &actor,
                NewContainer {
                    collection_id: coll.id,
                    name: "n".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let bytes = b"image bytes".to_vec();
        let sha =
            Sha256Hex::parse(&hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes))).unwrap();
        let image = registry
            .create_image(&actor, view.container.id, &sha, "")
            .await
            .unwrap();
        (registry, actor, image.image.id, bytes)
    }

    fn body(bytes: &[u8]) -> ByteStream {
        Box::pin(futures::stream::iter(vec![Ok(Bytes::copy_from_slice(
            bytes,
        ))]))
    }

    #[tokio::test]
    async fn expired_sessions_refuse_bytes_and_are_swept() {
        let db = TestDb::new().await;
        let (registry, actor, image_id, bytes) = registry_with_image(&db).await;
        let live = registry
            .begin_upload(&actor, image_id, bytes.len() as u64, None)
            .await
            .unwrap();
        let stale = registry
            .begin_upload(&actor, image_id, bytes.len() as u64, None)
            .await
            .unwrap();
        let mut expired: upload_session::ActiveModel =
            upload_session::Entity::find_by_id(stale.session_id.clone())
                .one(registry.db())
                .await
                .unwrap()
                .unwrap()
                .into();
        expired.expires_at = Set(now() - Duration::minutes(1));
        expired.update(registry.db()).await.unwrap();

        assert_eq!(registry.sweep_expired_uploads().await.unwrap(), 1);
        let err = registry
            .receive_upload(&stale.session_id, body(&bytes))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::NotFound(_)));
        let image = registry
            .receive_upload(&live.session_id, body(&bytes))
            .await
            .unwrap();
        assert!(image.uploaded);
        assert_eq!(image.size, bytes.len() as i64);
        // A session is single-use.
        let again = registry
            .receive_upload(&live.session_id, body(&bytes))
            .await
            .unwrap_err();
        assert!(matches!(again, DomainError::NotFound(_)));
    }

    #[tokio::test]
    async fn anonymous_and_foreign_actors_cannot_start_uploads() {
        let db = TestDb::new().await;
        let (registry, _, image_id, _) = registry_with_image(&db).await;
        let err = registry
            .begin_upload(&Actor::Anonymous, image_id, 1, None)
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::Unauthenticated));
        registry.create_user("bob", "", false).await.unwrap();
        let token = registry
            .create_token(
                "bob",
                NewToken {
                    label: "t".into(),
                    scope: None,
                    expires_in_days: None,
                },
            )
            .await
            .unwrap();
        let bob = registry.authenticate(&token.secret).await.unwrap();
        let err = registry
            .begin_upload(&bob, image_id, 1, None)
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::Forbidden(_)));
    }
}
