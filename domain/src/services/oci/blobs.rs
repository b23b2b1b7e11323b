//! OCI blobs: stat, download, delete, cross-repository mount, and upload sessions that grow
//! in order (chunked PATCH) and are verified against their digest before they become visible.
use chrono::Duration;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::{OciCode, EMPTY_CONFIG, EMPTY_CONFIG_SHA256};
use crate::entities::{image, oci_blob, oci_upload};
use crate::error::{DomainError, Result};
use crate::names::{ContainerPath, Sha256Hex};
use crate::policy::Actor;
use crate::services::transfer::UPLOAD_SESSION_HOURS;
use crate::services::{now, random_hex, ContainerView, ImageView, Registry};
use crate::store::{BlobReader, ByteRange, ByteStream, Expected, UploadId};

impl Registry {
    /// The size of a blob of a repository the actor may read.
    pub async fn oci_blob_size(
        &self,
        actor: &Actor,
        path: &ContainerPath,
        digest: &Sha256Hex,
    ) -> Result<u64> {
        let repo = self.oci_repo(actor, path).await?;
        self.oci_blob_in_repo(repo.container.id, digest)
            .await?
            .ok_or_else(|| OciCode::BlobUnknown.err(format!("sha256:{digest}")))
    }

    /// Opens a blob. `record` (a whole-blob GET, as the adapter knows) counts a download
    /// with protocol `oras` when the blob is a library image of the repository.
    pub async fn oci_open_blob(
        &self,
        actor: &Actor,
        path: &ContainerPath,
        digest: &Sha256Hex,
        range: Option<ByteRange>,
        record: bool,
    ) -> Result<BlobReader> {
        let repo = self.oci_readable_blob(actor, path, digest).await?;
        let reader = self.store.open(digest, range).await.map_err(|e| match e {
            crate::store::StoreError::NotFound => {
                OciCode::BlobUnknown.err(format!("sha256:{digest}"))
            }
            other => other.into(),
        })?;
        if record {
            self.record_oci_pull(actor, repo, digest).await?;
        }
        Ok(reader)
    }

    /// A presigned URL of the blob store for a blob the actor may read (a whole-blob GET,
    /// counted as a pull when `record`), when the store serves downloads itself.
    pub async fn oci_blob_redirect(
        &self,
        actor: &Actor,
        path: &ContainerPath,
        digest: &Sha256Hex,
        record: bool,
    ) -> Result<Option<String>> {
        if !self.store.redirects_downloads() {
            return Ok(None);
        }
        let repo = self.oci_readable_blob(actor, path, digest).await?;
        let Some(url) = self.store.presigned_download(digest, None) else {
            return Ok(None);
        };
        if record {
            self.record_oci_pull(actor, repo, digest).await?;
        }
        Ok(Some(url))
    }

    /// The repository of a blob the actor may read, after checking the blob belongs to it.
    async fn oci_readable_blob(
        &self,
        actor: &Actor,
        path: &ContainerPath,
        digest: &Sha256Hex,
    ) -> Result<ContainerView> {
        let repo = self.oci_repo(actor, path).await?;
        let unknown = || OciCode::BlobUnknown.err(format!("sha256:{digest}"));
        self.oci_blob_in_repo(repo.container.id, digest)
            .await?
            .ok_or_else(unknown)?;
        if digest.as_str() == EMPTY_CONFIG_SHA256 {
            self.ensure_empty_config().await?;
        }
        Ok(repo)
    }

    /// Counts a pull of the SIF image `digest` is, if it is one.
    async fn record_oci_pull(
        &self,
        actor: &Actor,
        repo: ContainerView,
        digest: &Sha256Hex,
    ) -> Result<()> {
        {
            let image = image::Entity::find()
                .filter(image::Column::ContainerId.eq(repo.container.id))
                .filter(image::Column::Sha256.eq(digest.as_str()))
                .filter(image::Column::Uploaded.eq(true))
                .one(&self.db)
                .await?;
            if let Some(image) = image {
                let view = ImageView {
                    owner: repo,
                    image,
                    tags: Vec::new(),
                };
                self.record_download(actor.user_id(), &view, "oras").await?;
            }
        }
        Ok(())
    }

    async fn ensure_empty_config(&self) -> Result<()> {
        let sha = Sha256Hex::parse(EMPTY_CONFIG_SHA256)?;
        if self.store.size(&sha).await?.is_none() {
            let data: ByteStream = Box::pin(futures::stream::iter([Ok(
                bytes::Bytes::from_static(EMPTY_CONFIG),
            )]));
            let expected = Expected {
                sha256: Some(sha),
                size: Some(EMPTY_CONFIG.len() as u64),
            };
            self.store.put(data, &expected).await?;
        }
        Ok(())
    }

    /// Unlinks a blob from a repository; its bytes go once nothing uses them.
    pub async fn oci_delete_blob(
        &self,
        actor: &Actor,
        path: &ContainerPath,
        digest: &Sha256Hex,
    ) -> Result<()> {
        let repo = self.oci_repo(actor, path).await?;
        actor.require_manage(&repo.entity, &repo.collection)?;
        let deleted = oci_blob::Entity::delete_many()
            .filter(oci_blob::Column::ContainerId.eq(repo.container.id))
            .filter(oci_blob::Column::Digest.eq(digest.as_str()))
            .exec(&self.db)
            .await?;
        if deleted.rows_affected == 0 {
            return Err(OciCode::BlobUnknown.err(format!("sha256:{digest}")));
        }
        // The bytes stay until garbage collection finds them unreferenced (`blobs.rs`).
        Ok(())
    }

    /// Links a blob of `from` (which the actor may read) into `path`; false when `from`
    /// does not have it (the client then uploads it).
    pub async fn oci_mount_blob(
        &self,
        actor: &Actor,
        path: &ContainerPath,
        digest: &Sha256Hex,
        from: &ContainerPath,
    ) -> Result<bool> {
        let target = self.oci_repo_for_write(actor, path).await?;
        let Ok(source) = self.oci_repo(actor, from).await else {
            return Ok(false);
        };
        let Some(size) = self.oci_blob_in_repo(source.container.id, digest).await? else {
            return Ok(false);
        };
        if self
            .oci_blob_in_repo(target.container.id, digest)
            .await?
            .is_none()
        {
            self.admit_push_bytes(&path.entity, size).await?;
        }
        self.link_blob(target.container.id, digest, size).await?;
        Ok(true)
    }

    /// A whole blob in one request (`POST …/uploads/?digest=` or `PUT` of a fresh session).
    pub async fn oci_put_blob(
        &self,
        actor: &Actor,
        path: &ContainerPath,
        digest: &Sha256Hex,
        data: ByteStream,
        size: Option<u64>,
    ) -> Result<()> {
        let repo = self.oci_repo_for_write(actor, path).await?;
        let known = self
            .oci_blob_in_repo(repo.container.id, digest)
            .await?
            .is_some();
        if !known {
            self.admit_push_bytes(&path.entity, size.unwrap_or(0))
                .await?;
        }
        let expected = Expected {
            sha256: Some(digest.clone()),
            size,
        };
        let data = self.uploads.track(data);
        self.lease_blob(digest, size.unwrap_or(0)).await?;
        let blob = self
            .store
            .put(data, &expected)
            .await
            .map_err(oci_store_error)?;
        if !known && size.is_none() {
            self.admit_stored_bytes(&path.entity, &blob).await?;
        }
        self.link_blob(repo.container.id, &blob.sha256, blob.size)
            .await
    }

    /// Links a stored blob into a repository, in a transaction holding the blob's row (see
    /// `blobs.rs`), so that garbage collection cannot delete the bytes under the link.
    async fn link_blob(&self, container_id: i64, digest: &Sha256Hex, size: u64) -> Result<()> {
        let txn = self.hold_blob(digest, size).await?;
        let exists = oci_blob::Entity::find()
            .filter(oci_blob::Column::ContainerId.eq(container_id))
            .filter(oci_blob::Column::Digest.eq(digest.as_str()))
            .one(&txn)
            .await?;
        if exists.is_none() {
            let link = oci_blob::ActiveModel {
                container_id: Set(container_id),
                digest: Set(digest.to_string()),
                size: Set(size as i64),
                media_type: Set(None),
                created_at: Set(now()),
                ..Default::default()
            };
            oci_blob::Entity::insert(link)
                .on_conflict_do_nothing_on([
                    oci_blob::Column::ContainerId,
                    oci_blob::Column::Digest,
                ])
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Opens an upload session; returns its id.
    pub async fn oci_start_upload(&self, actor: &Actor, path: &ContainerPath) -> Result<String> {
        let repo = self.oci_repo_for_write(actor, path).await?;
        let principal = actor.require_user()?;
        self.admit_push_bytes(&path.entity, 0).await?;
        let id = random_hex(32);
        self.store
            .begin_multipart(&UploadId::parse(&id)?, 0)
            .await?;
        oci_upload::ActiveModel {
            id: Set(id.clone()),
            container_id: Set(repo.container.id),
            user_id: Set(principal.user_id),
            received: Set(0),
            created_at: Set(now()),
            expires_at: Set(now() + Duration::hours(UPLOAD_SESSION_HOURS)),
        }
        .insert(&self.db)
        .await?;
        Ok(id)
    }

    async fn upload_session(
        &self,
        actor: &Actor,
        path: &ContainerPath,
        id: &str,
    ) -> Result<(ContainerView, oci_upload::Model)> {
        let repo = self.oci_repo(actor, path).await?;
        actor.require_push(&repo.entity, &repo.collection)?;
        let session = oci_upload::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await?
            .filter(|s| s.container_id == repo.container.id && s.expires_at > now())
            .ok_or_else(|| OciCode::BlobUploadUnknown.err(id))?;
        Ok((repo, session))
    }

    /// Bytes received so far by an upload.
    pub async fn oci_upload_status(
        &self,
        actor: &Actor,
        path: &ContainerPath,
        id: &str,
    ) -> Result<u64> {
        Ok(stored_length(
            self.upload_session(actor, path, id).await?.1.received,
        ))
    }

    /// Appends a chunk; `offset` (from `Content-Range`) must be where the upload stands,
    /// otherwise `RangeNotSatisfiable` (416). Returns the new length.
    pub async fn oci_append_upload(
        &self,
        actor: &Actor,
        path: &ContainerPath,
        id: &str,
        offset: Option<u64>,
        data: ByteStream,
    ) -> Result<u64> {
        let (_, session) = self.upload_session(actor, path, id).await?;
        let received = stored_length(session.received);
        if session.received < 0 || offset.is_some_and(|o| o != received) {
            return Err(DomainError::RangeNotSatisfiable { size: received });
        }
        // Claim the session (a negative length marks a chunk in flight), so that two
        // concurrent chunks, even on two replicas, cannot both append.
        let claimed = oci_upload::Entity::update_many()
            .col_expr(
                oci_upload::Column::Received,
                Expr::value(-session.received - 1),
            )
            .filter(oci_upload::Column::Id.eq(id))
            .filter(oci_upload::Column::Received.eq(session.received))
            .exec(&self.db)
            .await?;
        if claimed.rows_affected != 1 {
            return Err(DomainError::RangeNotSatisfiable { size: received });
        }
        let data = self.uploads.track(data);
        let outcome = self
            .store
            .append_part(&UploadId::parse(id)?, received, data)
            .await;
        let length = *outcome.as_ref().unwrap_or(&received);
        oci_upload::Entity::update_many()
            .col_expr(oci_upload::Column::Received, Expr::value(length as i64))
            .filter(oci_upload::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        outcome.map_err(|e| match e {
            crate::store::StoreError::NotFound => OciCode::BlobUploadUnknown.err(id),
            other => other.into(),
        })
    }

    /// Finishes an upload with its final chunk (possibly empty) and verifies the digest;
    /// the session ends either way, and a mismatch leaves nothing behind.
    pub async fn oci_finish_upload(
        &self,
        actor: &Actor,
        path: &ContainerPath,
        id: &str,
        digest: &Sha256Hex,
        last_chunk: Option<ByteStream>,
    ) -> Result<u64> {
        if let Some(data) = last_chunk {
            self.oci_append_upload(actor, path, id, None, data).await?;
        }
        crate::fault::point("oci-finish");
        let (repo, session) = self.upload_session(actor, path, id).await?;
        if session.received < 0 {
            let size = stored_length(session.received);
            return Err(DomainError::RangeNotSatisfiable { size });
        }
        let expected = Expected {
            sha256: Some(digest.clone()),
            size: None,
        };
        self.lease_blob(digest, 0).await?;
        let outcome = self
            .store
            .complete_multipart(&UploadId::parse(id)?, &expected)
            .await;
        self.forget_oci_upload(id).await?;
        let blob = outcome.map_err(oci_store_error)?;
        if self
            .oci_blob_in_repo(repo.container.id, &blob.sha256)
            .await?
            .is_none()
        {
            self.admit_stored_bytes(&path.entity, &blob).await?;
        }
        self.link_blob(repo.container.id, &blob.sha256, blob.size)
            .await?;
        Ok(blob.size)
    }

    /// Abandons an upload and its bytes.
    pub async fn oci_cancel_upload(
        &self,
        actor: &Actor,
        path: &ContainerPath,
        id: &str,
    ) -> Result<()> {
        self.upload_session(actor, path, id).await?;
        self.store.abort_multipart(&UploadId::parse(id)?).await?;
        self.forget_oci_upload(id).await
    }

    async fn forget_oci_upload(&self, id: &str) -> Result<()> {
        oci_upload::Entity::delete_by_id(id.to_string())
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Forgets expired OCI upload sessions and their bytes; returns how many.
    pub async fn sweep_expired_oci_uploads(&self) -> Result<u64> {
        let expired = oci_upload::Entity::find()
            .filter(oci_upload::Column::ExpiresAt.lte(now()))
            .all(&self.db)
            .await?;
        for session in &expired {
            self.store
                .abort_multipart(&UploadId::parse(&session.id)?)
                .await?;
            self.forget_oci_upload(&session.id).await?;
        }
        Ok(expired.len() as u64)
    }
}

/// The length recorded for an upload; negative while a chunk is in flight (`-length - 1`).
fn stored_length(received: i64) -> u64 {
    if received < 0 {
        (-received - 1) as u64
    } else {
        received as u64
    }
}

/// Verification failures of uploaded bytes in OCI terms.
fn oci_store_error(e: crate::store::StoreError) -> DomainError {
    match e {
        crate::store::StoreError::DigestMismatch { expected, actual } => OciCode::DigestInvalid
            .err(format!(
                "expected sha256:{expected}, received sha256:{actual}"
            )),
        crate::store::StoreError::SizeMismatch { expected, actual } => {
            OciCode::SizeInvalid.err(format!("expected {expected} bytes, received {actual}"))
        }
        other => other.into(),
    }
}
