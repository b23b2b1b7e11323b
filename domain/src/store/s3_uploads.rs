//! Uploads in progress in the bucket: their state object, staged parts and chunks, and the
//! ETags of the parts Silo passed on (`uploads/<id>/…`, see the layout in `s3.rs`).
use bytes::Bytes;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

use super::S3BlobStore;
use crate::store::{StoreError, UploadId};

#[derive(Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub(super) enum UploadState {
    /// A native S3 multipart upload of `uploads/<id>/assembled`.
    Parts { upload: String },
    /// Chunks appended in order.
    Append,
}

impl S3BlobStore {
    pub(super) fn upload_key(&self, upload_id: &UploadId, name: &str) -> String {
        format!("{}uploads/{upload_id}/{name}", self.prefix)
    }

    pub(super) async fn load_state(&self, upload_id: &UploadId) -> Result<UploadState, StoreError> {
        let stream = self
            .client
            .get(&self.upload_key(upload_id, "state"), None)
            .await?;
        let bytes: Vec<Bytes> = stream.try_collect().await?;
        serde_json::from_slice(&bytes.concat())
            .map_err(|e| StoreError::Io(std::io::Error::other(format!("upload state: {e}"))))
    }

    pub(super) async fn save_state(
        &self,
        upload_id: &UploadId,
        state: &UploadState,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_vec(state).map_err(std::io::Error::other)?;
        self.client
            .put(&self.upload_key(upload_id, "state"), Bytes::from(json))
            .await
    }

    pub(super) async fn delete_upload_objects(
        &self,
        upload_id: &UploadId,
    ) -> Result<(), StoreError> {
        for object in self.client.list(&self.upload_key(upload_id, "")).await? {
            self.client.delete(&object.key).await?;
        }
        Ok(())
    }

    /// The appended chunks of an upload in order, with the upload's current length.
    pub(super) async fn chunks(
        &self,
        upload_id: &UploadId,
    ) -> Result<(Vec<String>, u64), StoreError> {
        let objects = self
            .client
            .list(&self.upload_key(upload_id, "chunk-"))
            .await?;
        let length = objects.iter().map(|o| o.size).sum();
        Ok((objects.into_iter().map(|o| o.key).collect(), length))
    }

    /// Assembles a native multipart upload from `etags` (parts 1, 2, … in order), then
    /// verifies and commits it.
    /// The ETags Silo recorded for the parts it passed on itself, parts 1, 2, … until the
    /// first missing one.
    pub(super) async fn recorded_etags(
        &self,
        upload_id: &UploadId,
    ) -> Result<Vec<String>, StoreError> {
        let mut etags = Vec::new();
        for object in self
            .client
            .list(&self.upload_key(upload_id, "etag-"))
            .await?
        {
            let number = object
                .key
                .rsplit_once("etag-")
                .and_then(|(_, n)| n.parse::<usize>().ok());
            if number != Some(etags.len() + 1) {
                break;
            }
            let bytes: Vec<Bytes> = self
                .client
                .get(&object.key, None)
                .await?
                .try_collect()
                .await?;
            etags.push(String::from_utf8_lossy(&bytes.concat()).to_string());
        }
        Ok(etags)
    }
}
