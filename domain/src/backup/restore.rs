//! Restoring a backup into an empty database and any blob store.
use futures::{StreamExt, TryStreamExt};
use sea_orm::{DatabaseConnection, TransactionTrait};
use sea_orm_migration::MigratorTrait;
use std::path::Path;
use std::sync::Arc;

use super::files::{self, io_error};
use super::tables::{all_tables, schema_tables, Row, Table};
use super::{
    BlobEntry, Manifest, TableFile, BLOBS_DIR, FORMAT, MANIFEST_FILE, TABLES_DIR, VERSION,
};
use crate::error::{DomainError, Result};
use crate::migration::Migrator;
use crate::names::Sha256Hex;
use crate::store::{BlobStore, Expected};

/// Blobs verified or uploaded at the same time.
const PARALLEL_BLOBS: usize = 4;
/// Rows read from a table file before they are inserted.
const ROWS_PER_INSERT: usize = 1000;

#[derive(Clone, Debug, Default)]
pub struct RestoreOptions {
    /// Empty a database that already holds rows instead of refusing it.
    pub force: bool,
}

/// What a restore did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestoreReport {
    pub source_backend: String,
    pub created_at: String,
    pub tables: usize,
    pub rows: u64,
    pub blobs: u64,
    pub blob_bytes: u64,
    /// Migrations newer than the backup, applied after its rows.
    pub later_migrations: usize,
}

fn invalid_backup(dir: &Path, why: impl std::fmt::Display) -> DomainError {
    DomainError::invalid(format!("{} is not a usable backup: {why}", dir.display()))
}

/// Restores the backup in `dir` into `db` (whose schema is brought up to date) and `store`.
/// Everything in the backup is verified before anything is written.
pub async fn restore(
    db: &DatabaseConnection,
    store: &Arc<dyn BlobStore>,
    dir: &Path,
    options: &RestoreOptions,
) -> Result<RestoreReport> {
    let manifest = read_manifest(dir).await?;
    check_migrations(dir, &manifest)?;
    let tables = check_tables(dir, &manifest).await?;
    let blobs = check_blobs(dir, &manifest).await?;
    let later_migrations = migrate_to_backup_level(db, &manifest).await?;
    check_empty(db, options).await?;
    upload_blobs(store.as_ref(), dir, &blobs).await?;
    let rows = insert_rows(db, dir, &tables, options).await?;
    Migrator::up(db, None).await?;
    Ok(RestoreReport {
        source_backend: manifest.source_backend,
        created_at: manifest.created_at.to_rfc3339(),
        tables: tables.len(),
        rows,
        blobs: manifest.blobs.count,
        blob_bytes: manifest.blobs.bytes,
        later_migrations,
    })
}

/// Reads and checks `DIR/manifest.json`.
pub async fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST_FILE);
    let text = match tokio::fs::read(&path).await {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(invalid_backup(
                dir,
                format!("{MANIFEST_FILE} is missing (an unfinished or interrupted backup?)"),
            ))
        }
        Err(e) => return Err(io_error("read", &path, e)),
    };
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| invalid_backup(dir, format!("{MANIFEST_FILE}: {e}")))?;
    if manifest.format != FORMAT || manifest.version != VERSION {
        return Err(invalid_backup(
            dir,
            format!(
                "format {:?} version {} (this Silo reads {FORMAT:?} version {VERSION})",
                manifest.format, manifest.version
            ),
        ));
    }
    Ok(manifest)
}

/// The backup's migrations must be the first ones this build knows.
fn check_migrations(dir: &Path, manifest: &Manifest) -> Result<()> {
    let known: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    for (at, name) in manifest.migrations.iter().enumerate() {
        if known.get(at) != Some(name) {
            return Err(invalid_backup(
                dir,
                format!(
                    "it was made by another Silo version: its schema has migration {name}, \
                     unknown to this one at that place; restore it with the version that made \
                     it ({}) or a newer one",
                    manifest.silo_version
                ),
            ));
        }
    }
    Ok(())
}

/// Checks every table file's name and sha256; answers the tables in insertion order.
async fn check_tables(dir: &Path, manifest: &Manifest) -> Result<Vec<(Box<dyn Table>, TableFile)>> {
    let mut catalog = all_tables();
    catalog.retain(|t| t.kept());
    for file in &manifest.tables {
        if !catalog.iter().any(|t| t.name() == file.name)
            || file.file != format!("{TABLES_DIR}/{}.jsonl", file.name)
        {
            return Err(invalid_backup(
                dir,
                format!("unexpected table file {:?} ({})", file.file, file.name),
            ));
        }
        match files::hash_file(&dir.join(&file.file)).await? {
            Some((sha256, _)) if sha256 == file.sha256 => {}
            Some(_) => {
                return Err(invalid_backup(
                    dir,
                    format!("{} does not match its checksum (damaged?)", file.file),
                ))
            }
            None => return Err(invalid_backup(dir, format!("{} is missing", file.file))),
        }
    }
    Ok(catalog
        .into_iter()
        .filter_map(|table| {
            let file = manifest.tables.iter().find(|f| f.name == table.name())?;
            Some((table, file.clone()))
        })
        .collect())
}

/// Checks the blob list and every blob's size and sha256.
async fn check_blobs(dir: &Path, manifest: &Manifest) -> Result<Vec<BlobEntry>> {
    let list = &manifest.blobs;
    let path = dir.join(&list.file);
    match files::hash_file(&path).await? {
        Some((sha256, _)) if sha256 == list.sha256 && list.file == super::BLOB_LIST_FILE => {}
        _ => {
            return Err(invalid_backup(
                dir,
                format!("{} is missing or damaged", list.file),
            ))
        }
    }
    let mut blobs = Vec::new();
    let mut lines = files::lines(&path).await?;
    while let Some(line) = lines
        .next_line()
        .await
        .map_err(|e| io_error("read", &path, e))?
    {
        let entry: BlobEntry = serde_json::from_str(&line)
            .map_err(|e| invalid_backup(dir, format!("{}: {e}", list.file)))?;
        Sha256Hex::parse(&entry.sha256).map_err(|e| invalid_backup(dir, e))?;
        blobs.push(entry);
    }
    if blobs.len() as u64 != list.count {
        return Err(invalid_backup(
            dir,
            format!(
                "{} lists {} blobs, the manifest {}",
                list.file,
                blobs.len(),
                list.count
            ),
        ));
    }
    let blob_dir = dir.join(BLOBS_DIR);
    futures::stream::iter(blobs.iter())
        .map(|entry| check_blob(dir, &blob_dir, entry))
        .buffer_unordered(PARALLEL_BLOBS)
        .try_collect::<()>()
        .await?;
    Ok(blobs)
}

async fn check_blob(dir: &Path, blob_dir: &Path, entry: &BlobEntry) -> Result<()> {
    let sha256 = &entry.sha256;
    match files::hash_file(&blob_dir.join(sha256)).await? {
        Some((actual, size)) if actual == *sha256 && size == entry.size => Ok(()),
        Some((actual, size)) => Err(invalid_backup(
            dir,
            format!(
                "blob {sha256} is corrupt: {size} bytes with sha256 {actual}, expected {} bytes",
                entry.size
            ),
        )),
        None => Err(invalid_backup(
            dir,
            format!("blob {sha256} is missing from {BLOBS_DIR}/"),
        )),
    }
}

/// Applies the backup's migrations to a database that has fewer (none when new), so rows go
/// into the schema they were read from; answers how many later migrations remain.
async fn migrate_to_backup_level(db: &DatabaseConnection, manifest: &Manifest) -> Result<usize> {
    let applied: Vec<String> = Migrator::get_applied_migrations(db)
        .await?
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let wanted = &manifest.migrations;
    let total = Migrator::migrations().len();
    if applied.len() <= wanted.len() && wanted[..applied.len()] == applied[..] {
        let steps = u32::try_from(wanted.len() - applied.len()).unwrap_or(u32::MAX);
        if steps > 0 {
            Migrator::up(db, Some(steps)).await?;
        }
        return Ok(total - wanted.len());
    }
    // The target is already newer than the backup: its later columns take their defaults.
    Ok(total - applied.len())
}

/// Refuses a database that holds rows, unless forced.
async fn check_empty(db: &DatabaseConnection, options: &RestoreOptions) -> Result<()> {
    if options.force {
        return Ok(());
    }
    let present = schema_tables(db).await?;
    let txn = db.begin().await?;
    for table in all_tables() {
        if !present.iter().any(|name| name == table.name()) {
            continue;
        }
        let rows = table.count(&txn).await?;
        if rows > 0 {
            return Err(DomainError::Conflict(format!(
                "the target database is not empty (table {} holds {rows} rows): restore into \
                 an empty database, or pass --force to replace everything in it",
                table.name()
            )));
        }
    }
    Ok(())
}

/// Uploads every blob through the store, which verifies each again before committing it
/// (a blob the store already holds is kept).
async fn upload_blobs(store: &dyn BlobStore, dir: &Path, blobs: &[BlobEntry]) -> Result<()> {
    let blob_dir = dir.join(BLOBS_DIR);
    futures::stream::iter(blobs.iter())
        .map(|entry| {
            let path = blob_dir.join(&entry.sha256);
            async move {
                let expected = Expected {
                    sha256: Some(Sha256Hex::parse(&entry.sha256)?),
                    size: Some(entry.size),
                };
                let data = files::file_stream(&path).await?;
                store.put(data, &expected).await.map_err(|e| {
                    DomainError::Storage(format!("cannot store blob {}: {e}", entry.sha256))
                })?;
                Ok::<(), DomainError>(())
            }
        })
        .buffer_unordered(PARALLEL_BLOBS)
        .try_collect::<()>()
        .await
}

/// Inserts every table's rows in one transaction (after emptying the database when forced)
/// and moves the id sequences past them.
async fn insert_rows(
    db: &DatabaseConnection,
    dir: &Path,
    tables: &[(Box<dyn Table>, TableFile)],
    options: &RestoreOptions,
) -> Result<u64> {
    let txn = db.begin().await?;
    if options.force {
        let present = schema_tables(db).await?;
        for table in all_tables().iter().rev() {
            if present.iter().any(|name| name == table.name()) {
                table.delete_all(&txn).await?;
            }
        }
    }
    let mut total = 0;
    for (table, file) in tables {
        let path = dir.join(&file.file);
        let mut lines = files::lines(&path).await?;
        let mut batch: Vec<Row> = Vec::new();
        let mut count = 0u64;
        while let Some(line) = lines
            .next_line()
            .await
            .map_err(|e| io_error("read", &path, e))?
        {
            let row: Row = serde_json::from_str(&line)
                .map_err(|e| invalid_backup(dir, format!("{}: {e}", file.file)))?;
            batch.push(row);
            count += 1;
            if batch.len() == ROWS_PER_INSERT {
                table.insert(&txn, std::mem::take(&mut batch)).await?;
            }
        }
        table.insert(&txn, batch).await?;
        if count != file.rows {
            return Err(invalid_backup(
                dir,
                format!(
                    "{} holds {count} rows, the manifest says {}",
                    file.file, file.rows
                ),
            ));
        }
        table.fix_sequence(&txn).await?;
        total += count;
    }
    txn.commit().await?;
    Ok(total)
}
