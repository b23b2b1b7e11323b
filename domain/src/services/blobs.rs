//! The blob lifecycle: which bytes the store holds and who may delete them.
//!
//! Every digest the store holds has a row in `blobs` with a lease, `last_used_at`. The rules,
//! which together make deleting bytes race-free (the argument is in docs/architecture.md,
//! "Blob lifecycle and garbage collection"):
//!
//! 1. **A push leases before it relies on bytes.** [`Registry::lease_blob`] refreshes the
//!    lease (an upsert, committed at once) before a push streams bytes that may dedup onto a
//!    stored blob, and again as soon as they are committed.
//! 2. **A reference is created only while holding the row and after seeing the bytes.**
//!    [`Registry::hold_blob`] opens a transaction that upserts the row (taking its row lock on
//!    PostgreSQL, the write lock on SQLite), then checks the store still has the bytes; the
//!    caller marks its image uploaded or links its OCI blob in that transaction and commits.
//! 3. **Only garbage collection deletes bytes,** in [`Registry::collect_blob`]: a transaction
//!    locks the row (`FOR UPDATE` on PostgreSQL; SQLite has one writer), deletes it only if
//!    no uploaded image and no OCI blob references the digest and the lease is older than the
//!    grace period, deletes the bytes while still holding it, and only then commits.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, Set, Statement, TransactionTrait,
};

use super::{now, Registry};
use crate::entities::blob;
use crate::error::{DomainError, Result};
use crate::names::Sha256Hex;

/// The digest of the OCI empty config (`{}`), which Silo writes on demand and never collects.
pub(crate) const NEVER_COLLECTED: &str = super::oci::EMPTY_CONFIG_SHA256;

impl Registry {
    /// Refreshes the lease on `digest` (creating its row), so that garbage collection leaves
    /// the bytes alone for the grace period. `size` 0 keeps a recorded size.
    pub(crate) async fn lease_blob(&self, digest: &Sha256Hex, size: u64) -> Result<()> {
        upsert_lease(&self.db, digest, size).await
    }

    /// Begins the transaction in which a push creates its reference to `digest` (rule 2):
    /// the row is upserted first (so it is held until commit), then the bytes are checked.
    /// Fails with a conflict when garbage collection removed them meanwhile (the client
    /// retries the push, which stores them again).
    pub(crate) async fn hold_blob(
        &self,
        digest: &Sha256Hex,
        size: u64,
    ) -> Result<DatabaseTransaction> {
        let txn = self.db.begin().await?;
        upsert_lease(&txn, digest, size).await?;
        match self.store.size(digest).await? {
            Some(_) => Ok(txn),
            None => {
                txn.rollback().await?;
                Err(blob_removed(digest))
            }
        }
    }

    /// A transaction holding the row of `digest` (created if absent), without checking the
    /// bytes: for `silo fsck --repair`, which unlinks records from bytes that are gone or bad.
    pub(crate) async fn hold_blob_row(&self, digest: &Sha256Hex) -> Result<DatabaseTransaction> {
        let txn = self.db.begin().await?;
        upsert_lease(&txn, digest, 0).await?;
        Ok(txn)
    }

    /// Deletes bytes this push stored and then refused (not a SIF image, over quota) unless
    /// something references them by now, through the same guarded path as garbage
    /// collection, so it is safe; a concurrent push of the same bytes that took its lease
    /// before this call may fail with a conflict and is retried by its client.
    pub(crate) async fn discard_refused(&self, blob: &crate::store::StoredBlob) -> Result<()> {
        if !blob.newly_stored {
            return Ok(());
        }
        self.lease_blob(&blob.sha256, blob.size).await?;
        let after_every_lease = now() + chrono::Duration::seconds(1);
        self.collect_blob(blob.sha256.as_str(), after_every_lease)
            .await?;
        Ok(())
    }

    /// Deletes the bytes of `digest` if nothing references them and the lease ended before
    /// `lease_cutoff` (rule 3); true when they were deleted.
    pub(crate) async fn collect_blob(
        &self,
        digest: &str,
        lease_cutoff: DateTime<Utc>,
    ) -> Result<bool> {
        if digest == NEVER_COLLECTED {
            return Ok(false);
        }
        let sha = Sha256Hex::parse(digest)?;
        let backend = self.db.get_database_backend();
        let txn = self.db.begin().await?;
        if backend == DbBackend::Postgres {
            // Wait for any push holding the row; the check below then sees its reference.
            txn.query_one_raw(Statement::from_sql_and_values(
                backend,
                "SELECT digest FROM blobs WHERE digest = $1 FOR UPDATE",
                [digest.into()],
            ))
            .await?;
        }
        let deleted = txn
            .execute_raw(Statement::from_sql_and_values(
                backend,
                unreferenced_sql(backend, "DELETE FROM blobs", true),
                [lease_cutoff.into(), true.into(), digest.into()],
            ))
            .await?;
        if deleted.rows_affected() != 1 {
            txn.rollback().await?;
            return Ok(false);
        }
        // Still holding the row: no push can link these bytes until they are gone.
        if let Err(e) = self.store.delete(&sha).await {
            txn.rollback().await?;
            return Err(e.into());
        }
        txn.commit().await?;
        Ok(true)
    }
}

/// The error of a push whose bytes garbage collection removed while it ran (possible only
/// when the push took longer than the grace period); the client pushes again.
pub(crate) fn blob_removed(digest: &Sha256Hex) -> DomainError {
    DomainError::Conflict(format!(
        "blob sha256:{digest} was removed while this push was running; push again"
    ))
}

/// `<head> WHERE` rows whose lease ended before parameter 1 and which no image uploaded
/// (parameter 2 is `true`) or OCI blob references; with `one`, only the row `digest`
/// (parameter 3).
pub(crate) fn unreferenced_sql(backend: DbBackend, head: &str, one: bool) -> String {
    let (cutoff, yes, digest) = match backend {
        DbBackend::Postgres => ("$1", "$2", "$3"),
        _ => ("?1", "?2", "?3"),
    };
    let only = if one {
        format!(" AND digest = {digest}")
    } else {
        String::new()
    };
    format!(
        "{head} WHERE last_used_at < {cutoff}{only} \
         AND NOT EXISTS (SELECT 1 FROM images WHERE images.sha256 = blobs.digest \
                         AND images.uploaded = {yes}) \
         AND NOT EXISTS (SELECT 1 FROM oci_blobs WHERE oci_blobs.digest = blobs.digest)"
    )
}

async fn upsert_lease(db: &impl ConnectionTrait, digest: &Sha256Hex, size: u64) -> Result<()> {
    let at = now();
    let row = blob::ActiveModel {
        digest: Set(digest.to_string()),
        size: Set(size as i64),
        created_at: Set(at),
        last_used_at: Set(at),
    };
    let mut on_conflict = OnConflict::column(blob::Column::Digest);
    if size > 0 {
        on_conflict.update_columns([blob::Column::LastUsedAt, blob::Column::Size]);
    } else {
        on_conflict.update_column(blob::Column::LastUsedAt);
    }
    blob::Entity::insert(row)
        .on_conflict(on_conflict.to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}
