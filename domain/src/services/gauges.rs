//! Figures for monitoring: uploads streaming in right now, and the store's totals from the
//! database (what `/metrics` exports).
use futures::StreamExt;
use sea_orm::{FromQueryResult, Statement};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use super::Registry;
use crate::store::ByteStream;
use crate::Result;

/// Uploads whose bytes are flowing into the blob store at this moment, over every protocol
/// (library single-part and multipart parts, OCI monolithic and chunked uploads, sregistry,
/// browser). Shared by every clone of the registry.
#[derive(Clone, Default)]
pub struct UploadGauge(Arc<AtomicI64>);

/// Counts one upload for as long as it lives.
struct InProgress(Arc<AtomicI64>);

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl UploadGauge {
    pub fn current(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }

    /// `data`, counted as an upload in progress until the store has read it to the end or
    /// dropped it.
    pub(crate) fn track(&self, data: ByteStream) -> ByteStream {
        self.0.fetch_add(1, Ordering::Relaxed);
        let guard = InProgress(self.0.clone());
        Box::pin(data.map(move |chunk| {
            let _counted = &guard;
            chunk
        }))
    }
}

/// What the registry stores, counted in the database.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromQueryResult)]
pub struct StoreTotals {
    /// Distinct blobs (images and OCI blobs, each digest once) and their bytes: what the
    /// blob store holds.
    pub blobs: i64,
    pub blob_bytes: i64,
    /// Uploaded images.
    pub images: i64,
    pub containers: i64,
    /// Library multipart and OCI upload sessions not yet completed (expired ones until the
    /// next maintenance round forgets them).
    pub upload_sessions: i64,
}

impl Registry {
    /// Uploads streaming into the store right now.
    pub fn uploads_in_progress(&self) -> i64 {
        self.uploads.current()
    }

    /// The store's totals, in one query (a few counts over indexed tables; callers cache it).
    pub async fn store_totals(&self) -> Result<StoreTotals> {
        let sql = "SELECT b.blobs AS blobs, b.blob_bytes AS blob_bytes, \
               (SELECT COUNT(*) FROM images WHERE uploaded = TRUE) AS images, \
               (SELECT COUNT(*) FROM containers) AS containers, \
               (SELECT COUNT(*) FROM upload_sessions) \
                 + (SELECT COUNT(*) FROM oci_uploads) AS upload_sessions \
             FROM (SELECT COUNT(*) AS blobs, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS blob_bytes \
               FROM (SELECT sha256 AS digest, size FROM images WHERE uploaded = TRUE \
                     UNION SELECT digest, size FROM oci_blobs) d) b";
        let backend = self.db.get_database_backend();
        let totals = StoreTotals::find_by_statement(Statement::from_string(backend, sql))
            .one(&self.db)
            .await?;
        Ok(totals.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FsBlobStore;
    use crate::testing::TestDb;

    #[tokio::test]
    async fn uploads_count_while_their_stream_lives() {
        let db = TestDb::new().await;
        let store = FsBlobStore::open(db.dir.path().join("blobs"))
            .await
            .unwrap();
        let registry = Registry::new(db.db.clone(), Arc::new(store));
        assert_eq!(registry.uploads_in_progress(), 0);
        let data: ByteStream = Box::pin(futures::stream::iter(vec![Ok(bytes::Bytes::from("abc"))]));
        let tracked = registry.uploads.track(data);
        let other = registry
            .clone()
            .uploads
            .track(Box::pin(futures::stream::empty()));
        assert_eq!(registry.uploads_in_progress(), 2);
        drop(other);
        assert_eq!(registry.uploads_in_progress(), 1);
        let read: Vec<_> = tracked.collect().await;
        assert_eq!(read.len(), 1);
        assert_eq!(registry.uploads_in_progress(), 0);
    }

    #[tokio::test]
    async fn totals_of_an_empty_registry_are_zero() {
        let db = TestDb::new().await;
        let store = FsBlobStore::open(db.dir.path().join("blobs"))
            .await
            .unwrap();
        let registry = Registry::new(db.db.clone(), Arc::new(store));
        assert_eq!(
            registry.store_totals().await.unwrap(),
            StoreTotals::default()
        );
    }
}
