//! `silo backup` and `silo restore`: a consistent, backend-neutral snapshot of the database
//! and of every blob it references.
//!
//! A backup directory (format version 1):
//!
//! ```text
//! DIR/manifest.json        format, version, source backend, applied migrations, and per
//!                          table file its row count and sha256; written last, so a
//!                          directory without it holds an unfinished backup
//! DIR/tables/<table>.jsonl one JSON object per row, columns by name, primary-key order
//! DIR/blobs.jsonl          {"sha256","size"} of every blob the snapshot references
//! DIR/blobs/<sha256>       the blobs' bytes, named by their sha256
//! ```
//!
//! Every table is read inside one transaction with a consistent view (PostgreSQL
//! `REPEATABLE READ READ ONLY`, SQLite a read transaction), so the files describe one moment
//! while Silo keeps serving. The blobs are copied afterwards: an image row becomes visible
//! only once its blob is committed, so every blob the snapshot names was in the store when
//! the snapshot was taken. A blob deleted since (an image deleted meanwhile, collected by the
//! garbage collector after its grace period) makes the backup fail, naming it. Blobs already
//! in `DIR/blobs` with the right size and hash are kept, so backing up into the same
//! directory again copies only new blobs; blobs the new snapshot no longer references are
//! removed from it. Files are created 0600 and directories 0700: the tables hold password and
//! token hashes.
//!
//! Restore checks the manifest, each table file and every blob's size and sha256 before it
//! writes anything, refuses a database that holds rows (unless forced, which empties it
//! first), applies the backup's migrations, uploads the blobs through the [`BlobStore`] (so any
//! backend can receive them), inserts every row with its id in one transaction, moves
//! PostgreSQL id sequences past the restored ids, and applies the remaining migrations.
//! Short-lived state is not kept: uploads in progress, pending OAuth logins and failed-login
//! counters (see [`tables::all_tables`]).
//!
//! [`BlobStore`]: crate::store::BlobStore
use serde::{Deserialize, Serialize};

mod files;
mod restore;
mod snapshot;
pub mod tables;

pub use restore::{restore, RestoreOptions, RestoreReport};
pub use snapshot::BackupReport;

/// `format` of every manifest.
pub const FORMAT: &str = "silo-backup";
/// The layout version this build writes and reads.
pub const VERSION: u32 = 1;
pub const MANIFEST_FILE: &str = "manifest.json";
pub const TABLES_DIR: &str = "tables";
pub const BLOBS_DIR: &str = "blobs";
pub const BLOB_LIST_FILE: &str = "blobs.jsonl";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The Silo version that wrote the backup.
    pub silo_version: String,
    /// `sqlite` or `postgres`, for information only.
    pub source_backend: String,
    /// Names of the migrations the database had applied, in order.
    pub migrations: Vec<String>,
    pub tables: Vec<TableFile>,
    pub blobs: BlobList,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct TableFile {
    pub name: String,
    /// Relative to the backup directory.
    pub file: String,
    pub rows: u64,
    /// sha256 of the file.
    pub sha256: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct BlobList {
    /// Relative to the backup directory: one [`BlobEntry`] a line.
    pub file: String,
    /// sha256 of that file.
    pub sha256: String,
    pub count: u64,
    pub bytes: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct BlobEntry {
    pub sha256: String,
    pub size: u64,
}

#[cfg(test)]
mod test_world;
#[cfg(test)]
#[path = "tests.rs"]
mod tests;
