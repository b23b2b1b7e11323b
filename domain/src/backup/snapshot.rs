//! Taking a backup: one consistent read of every table, then the blobs it references.
use futures::{StreamExt, TryStreamExt};
use sea_orm::{
    AccessMode, ConnectionTrait, DbBackend, IsolationLevel, Statement, TransactionTrait,
};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use super::files::{self, io_error, private_dir, HashedFile};
use super::tables::{all_tables, Row};
use super::{
    BlobEntry, BlobList, Manifest, TableFile, BLOBS_DIR, BLOB_LIST_FILE, FORMAT, MANIFEST_FILE,
    TABLES_DIR, VERSION,
};
use crate::error::{DomainError, Result};
use crate::names::Sha256Hex;
use crate::services::Registry;
use crate::store::{BlobStore, StoreError};

/// Blobs copied at the same time.
const PARALLEL_COPIES: usize = 4;

/// What a backup did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BackupReport {
    pub tables: usize,
    pub rows: u64,
    /// Blobs the snapshot references.
    pub blobs: u64,
    pub blob_bytes: u64,
    /// Blobs copied from the store by this run.
    pub blobs_copied: u64,
    pub bytes_copied: u64,
    /// Blobs already in the directory, verified and kept.
    pub blobs_kept: u64,
    /// Blobs of an earlier backup in the directory that this snapshot no longer references.
    pub blobs_removed: u64,
}

enum Copied {
    Kept,
    Copied(u64),
}

impl Registry {
    /// Writes a consistent backup of the database and the blobs it references into `dir`
    /// (created when missing; an earlier backup there is updated incrementally). See
    /// [`crate::backup`] for the layout.
    pub async fn backup(&self, dir: &Path) -> Result<BackupReport> {
        private_dir(dir).await?;
        private_dir(&dir.join(TABLES_DIR)).await?;
        private_dir(&dir.join(BLOBS_DIR)).await?;
        // Without a manifest the directory reads as unfinished until this run completes.
        match tokio::fs::remove_file(dir.join(MANIFEST_FILE)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(io_error("remove", &dir.join(MANIFEST_FILE), e))
            }
            _ => {}
        }
        let mut report = BackupReport::default();
        let (migrations, tables, blobs) = self.snapshot_tables(dir, &mut report).await?;
        let blob_list = write_blob_list(dir, &blobs).await?;
        report.blobs = blob_list.count;
        report.blob_bytes = blob_list.bytes;
        copy_blobs(self.store(), dir, &blobs, &mut report).await?;
        report.blobs_removed = remove_unreferenced(dir, &blobs).await?;
        let manifest = Manifest {
            format: FORMAT.into(),
            version: VERSION,
            created_at: chrono::Utc::now(),
            silo_version: env!("CARGO_PKG_VERSION").into(),
            source_backend: backend_name(self.db().get_database_backend()).into(),
            migrations,
            tables,
            blobs: blob_list,
        };
        let mut file = HashedFile::create(&dir.join(MANIFEST_FILE)).await?;
        let text = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
        file.write(&text).await?;
        file.finish().await?;
        Ok(report)
    }

    /// Reads every table inside one read-only transaction with a consistent view and writes
    /// it to `DIR/tables`; answers the applied migrations, the table files and the blobs
    /// the rows reference.
    async fn snapshot_tables(
        &self,
        dir: &Path,
        report: &mut BackupReport,
    ) -> Result<(Vec<String>, Vec<TableFile>, BTreeMap<String, u64>)> {
        let txn = match self.db().get_database_backend() {
            DbBackend::Postgres => {
                self.db()
                    .begin_with_config(
                        Some(IsolationLevel::RepeatableRead),
                        Some(AccessMode::ReadOnly),
                    )
                    .await?
            }
            // A SQLite read transaction sees one snapshot from its first read to its end.
            _ => self.db().begin().await?,
        };
        let migrations = applied_migrations(&txn).await?;
        let mut blobs = BTreeMap::new();
        let mut tables = Vec::new();
        for table in all_tables().into_iter().filter(|t| t.kept()) {
            let name = table.name();
            let relative = format!("{TABLES_DIR}/{name}.jsonl");
            let mut file = HashedFile::create(&dir.join(&relative)).await?;
            let mut rows = table.rows(&txn).await?;
            let mut count = 0u64;
            let written: Result<()> = async {
                while let Some(row) = rows.try_next().await? {
                    if let Some(blob) = referenced_blob(name, &row) {
                        blobs.insert(blob.sha256, blob.size);
                    }
                    let mut line = serde_json::to_vec(&row).expect("a row serializes");
                    line.push(b'\n');
                    file.write(&line).await?;
                    count += 1;
                }
                Ok(())
            }
            .await;
            drop(rows);
            if let Err(err) = written {
                file.discard().await;
                return Err(err);
            }
            let (sha256, _) = file.digest();
            file.finish().await?;
            report.rows += count;
            tables.push(TableFile {
                name: name.into(),
                file: relative,
                rows: count,
                sha256,
            });
        }
        txn.commit().await?;
        report.tables = tables.len();
        Ok((migrations, tables, blobs))
    }
}

pub(super) fn backend_name(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "postgres",
        DbBackend::Sqlite => "sqlite",
        _ => "other",
    }
}

/// The migrations applied to the database, oldest first.
pub(super) async fn applied_migrations(db: &impl ConnectionTrait) -> Result<Vec<String>> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT version FROM seaql_migrations ORDER BY version",
        ))
        .await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<String>("", "version")?))
        .collect()
}

/// The blob a row references, if any: an uploaded image's bytes or an OCI blob (OCI
/// manifests are kept in the database, `oci_manifests.content`).
fn referenced_blob(table: &str, row: &Row) -> Option<BlobEntry> {
    let (digest, uploaded) = match table {
        "images" => ("sha256", row.get("uploaded")?.as_bool()?),
        "oci_blobs" => ("digest", true),
        _ => return None,
    };
    uploaded.then_some(())?;
    Some(BlobEntry {
        sha256: row.get(digest)?.as_str()?.to_string(),
        size: u64::try_from(row.get("size")?.as_i64()?).ok()?,
    })
}

async fn write_blob_list(dir: &Path, blobs: &BTreeMap<String, u64>) -> Result<BlobList> {
    let mut file = HashedFile::create(&dir.join(BLOB_LIST_FILE)).await?;
    let mut bytes = 0u64;
    for (sha256, size) in blobs {
        let entry = BlobEntry {
            sha256: sha256.clone(),
            size: *size,
        };
        let mut line = serde_json::to_vec(&entry).expect("an entry serializes");
        line.push(b'\n');
        file.write(&line).await?;
        bytes += size;
    }
    let (sha256, _) = file.digest();
    file.finish().await?;
    Ok(BlobList {
        file: BLOB_LIST_FILE.into(),
        sha256,
        count: blobs.len() as u64,
        bytes,
    })
}

async fn copy_blobs(
    store: &Arc<dyn BlobStore>,
    dir: &Path,
    blobs: &BTreeMap<String, u64>,
    report: &mut BackupReport,
) -> Result<()> {
    let blob_dir = dir.join(BLOBS_DIR);
    let mut copies = futures::stream::iter(blobs.iter())
        .map(|(sha256, size)| copy_blob(store.as_ref(), &blob_dir, sha256, *size))
        .buffer_unordered(PARALLEL_COPIES);
    while let Some(copied) = copies.next().await {
        match copied? {
            Copied::Kept => report.blobs_kept += 1,
            Copied::Copied(bytes) => {
                report.blobs_copied += 1;
                report.bytes_copied += bytes;
            }
        }
    }
    Ok(())
}

/// Copies one blob into `blob_dir` unless a verified copy is already there.
async fn copy_blob(
    store: &dyn BlobStore,
    blob_dir: &Path,
    sha256: &str,
    size: u64,
) -> Result<Copied> {
    let path = blob_dir.join(sha256);
    match files::hash_file(&path).await? {
        Some((actual, actual_size)) if actual == sha256 && actual_size == size => {
            return Ok(Copied::Kept)
        }
        Some(_) => tokio::fs::remove_file(&path)
            .await
            .map_err(|e| io_error("remove", &path, e))?,
        None => {}
    }
    let digest = Sha256Hex::parse(sha256)?;
    let reader = store.open(&digest, None).await.map_err(|err| match err {
        StoreError::NotFound => DomainError::NotFound(format!(
            "blob {sha256} ({size} bytes), referenced by the snapshot, in the blob store \
             (deleted since the snapshot was taken? run the backup again)"
        )),
        other => DomainError::Storage(format!("cannot read blob {sha256}: {other}")),
    })?;
    files::write_verified(&path, reader.stream, sha256, size).await?;
    Ok(Copied::Copied(size))
}

/// Removes files of `DIR/blobs` that this snapshot does not reference (blobs of an earlier
/// backup, leftovers of an interrupted copy); answers how many blobs went.
async fn remove_unreferenced(dir: &Path, blobs: &BTreeMap<String, u64>) -> Result<u64> {
    let blob_dir = dir.join(BLOBS_DIR);
    let keep: BTreeSet<&str> = blobs.keys().map(String::as_str).collect();
    let mut entries = tokio::fs::read_dir(&blob_dir)
        .await
        .map_err(|e| io_error("list", &blob_dir, e))?;
    let mut removed = 0;
    while let Some(entry) = entries
        .next_entry()
        .await
        .map_err(|e| io_error("list", &blob_dir, e))?
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        // Only names a backup writes: other files (a blob store's `LAYOUT`, should DIR be
        // pointed at a data directory by mistake) are never touched.
        let blob = Sha256Hex::parse(&name).is_ok();
        let leftover = name.starts_with('.') && name.ends_with(".part");
        if keep.contains(name.as_str()) || !(blob || leftover) {
            continue;
        }
        tokio::fs::remove_file(entry.path())
            .await
            .map_err(|e| io_error("remove", &entry.path(), e))?;
        if blob {
            removed += 1;
        }
    }
    Ok(removed)
}
