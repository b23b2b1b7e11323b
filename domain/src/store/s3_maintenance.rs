//! Listing the bucket for garbage collection and `silo fsck`: committed blobs, and what
//! interrupted uploads left under `uploads/` (staged `put-<random>/` writes and `<id>/`
//! upload directories, each with its native multipart upload if it had one).
//!
//! Unfinished native multipart uploads Silo started straight to a blob's final key (a `put`
//! with a known digest interrupted by a crash) are invisible to listings; rusty-s3 cannot list
//! them, so a bucket lifecycle rule (`AbortIncompleteMultipartUpload`) should expire them (see
//! docs/OPERATIONS.md).
use std::collections::BTreeMap;

use super::uploads::UploadState;
use super::S3BlobStore;
use crate::names::Sha256Hex;
use crate::store::{ListedBlob, StoreError, Temporary, UploadId};

impl S3BlobStore {
    pub(super) async fn listed_blobs(&self) -> Result<Vec<ListedBlob>, StoreError> {
        let prefix = format!("{}blobs/sha256/", self.prefix);
        let mut blobs: Vec<ListedBlob> = self
            .client
            .list(&prefix)
            .await?
            .into_iter()
            .filter_map(|object| {
                let hex = object.key.rsplit('/').next()?;
                let sha256 = Sha256Hex::parse(hex).ok()?;
                Some(ListedBlob {
                    sha256,
                    size: object.size,
                })
            })
            .collect();
        blobs.sort_by(|a, b| a.sha256.as_str().cmp(b.sha256.as_str()));
        Ok(blobs)
    }

    /// Groups `uploads/` by its first path segment; a group is idle when its newest object is
    /// older than `idle` (objects whose time is unknown count as new).
    pub(super) async fn idle_uploads(
        &self,
        idle: std::time::Duration,
    ) -> Result<Vec<Temporary>, StoreError> {
        let root = format!("{}uploads/", self.prefix);
        let cutoff =
            chrono::Utc::now() - chrono::Duration::from_std(idle).unwrap_or(chrono::Duration::MAX);
        let mut groups: BTreeMap<String, (u64, bool)> = BTreeMap::new();
        for object in self.client.list(&root).await? {
            let Some(rest) = object.key.strip_prefix(&root) else {
                continue;
            };
            let Some((group, _)) = rest.split_once('/') else {
                continue;
            };
            let fresh = object.modified.is_none_or(|at| at >= cutoff);
            let entry = groups.entry(group.to_string()).or_insert((0, false));
            entry.0 += object.size;
            entry.1 |= fresh;
        }
        Ok(groups
            .into_iter()
            .filter(|(_, (_, fresh))| !fresh)
            .map(|(group, (size, _))| Temporary {
                upload_id: (!group.starts_with("put-")).then(|| group.clone()),
                name: format!("uploads/{group}/"),
                size,
            })
            .collect())
    }

    pub(super) async fn remove_upload(&self, temporary: &Temporary) -> Result<(), StoreError> {
        let Some(group) = temporary
            .name
            .strip_prefix("uploads/")
            .and_then(|g| g.strip_suffix('/'))
            .filter(|g| !g.is_empty() && !g.contains('/'))
        else {
            return Err(StoreError::NotFound);
        };
        if let Some(put) = group.strip_prefix("put-") {
            UploadId::parse(put)?;
            let key = format!("{}uploads/{group}/data", self.prefix);
            return self.client.delete(&key).await;
        }
        let group = UploadId::parse(group)?;
        if let Ok(UploadState::Parts { upload }) = self.load_state(&group).await {
            let _ = self
                .client
                .abort_multipart(&self.upload_key(&group, "assembled"), &upload)
                .await;
        }
        self.delete_upload_objects(&group).await
    }
}
