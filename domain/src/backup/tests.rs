//! Backup and restore on real databases (SQLite, and PostgreSQL with
//! `SILO_TEST_POSTGRES_URL`) and real stores (filesystem, and S3 through `s3s-fs`).
use sea_orm::DatabaseConnection;
use std::path::Path;
use std::sync::Arc;

use super::test_world::{assert_same_answers, assert_writable, fill, fs_store, push, KEY};
use super::{restore, tables, Manifest, RestoreOptions, BLOBS_DIR, MANIFEST_FILE};
use crate::error::DomainError;
use crate::services::{NewToken, Registry};
use crate::store::{BlobStore, S3BlobStore};
use crate::testing::{empty_database_url, s3_server::TestS3, TestDb};

async fn source(db: &TestDb) -> Registry {
    let store = fs_store(&db.dir.path().join("blobs")).await;
    Registry::new(db.db.clone(), store).with_secret_key(KEY)
}

/// A new, empty database of the other backend than `db` when PostgreSQL is configured (so a
/// SQLite backup goes into PostgreSQL and back), else a new SQLite file.
async fn other_backend(db: &TestDb, dir: &Path) -> DatabaseConnection {
    let url = match empty_database_url(!db.is_postgres(), dir).await {
        Some(url) => url,
        None => empty_database_url(false, dir).await.unwrap(),
    };
    eprintln!(
        "restoring a {} backup into {}",
        db.backend_name(),
        url.split(':').next().unwrap()
    );
    crate::db::connect(&url).await.unwrap()
}

async fn restore_into(db: &DatabaseConnection, store: Arc<dyn BlobStore>, dir: &Path) -> Registry {
    let report = restore(db, &store, dir, &RestoreOptions::default())
        .await
        .unwrap();
    assert!(report.rows > 0 && report.blobs > 0, "{report:?}");
    Registry::new(db.clone(), store).with_secret_key(KEY)
}

fn manifest(dir: &Path) -> Manifest {
    serde_json::from_slice(&std::fs::read(dir.join(MANIFEST_FILE)).unwrap()).unwrap()
}

/// Each table file's rows, with timestamps cut to microseconds (PostgreSQL's precision).
fn table_rows(dir: &Path) -> Vec<(String, Vec<serde_json::Value>)> {
    let cut = |value: serde_json::Value| match value {
        serde_json::Value::String(text) => match chrono::DateTime::parse_from_rfc3339(&text) {
            Ok(time) => {
                serde_json::Value::String(time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
            }
            Err(_) => serde_json::Value::String(text),
        },
        other => other,
    };
    manifest(dir)
        .tables
        .iter()
        .map(|table| {
            let text = std::fs::read_to_string(dir.join(&table.file)).unwrap();
            let rows = text
                .lines()
                .map(|line| {
                    let row: tables::Row = serde_json::from_str(line).unwrap();
                    serde_json::Value::Object(row.into_iter().map(|(k, v)| (k, cut(v))).collect())
                })
                .collect();
            (table.name.clone(), rows)
        })
        .collect()
}

/// Fills a registry on `source`, backs it up, restores it into `target` (empty) with a new
/// filesystem store, and checks that the restored registry holds the same rows and answers
/// the same, and that it takes new rows.
async fn round_trip(
    source_db: &DatabaseConnection,
    source_dir: &Path,
    target_db: &DatabaseConnection,
) {
    let store = fs_store(&source_dir.join("blobs")).await;
    let registry = Registry::new(source_db.clone(), store).with_secret_key(KEY);
    let world = fill(&registry).await;
    let backup = tempfile::tempdir().unwrap();
    let report = registry.backup(backup.path()).await.unwrap();
    assert_eq!(report.blobs, 5, "four images and one OCI blob: {report:?}");
    assert_eq!(report.blobs_copied, 5);

    let target = tempfile::tempdir().unwrap();
    let restored = restore_into(
        target_db,
        fs_store(&target.path().join("blobs")).await,
        backup.path(),
    )
    .await;
    // Every row came back as it was: a backup of the restored registry holds the same rows.
    let again = tempfile::tempdir().unwrap();
    restored.backup(again.path()).await.unwrap();
    let (before, after) = (table_rows(backup.path()), table_rows(again.path()));
    assert_eq!(before.len(), after.len());
    for ((name, rows), (_, restored_rows)) in before.iter().zip(&after) {
        assert_eq!(rows, restored_rows, "table {name}");
    }
    assert_same_answers(&restored, &world).await;
    assert_writable(&restored).await;
}

#[tokio::test]
async fn a_backup_restores_into_the_other_backend_and_answers_the_same() {
    let db = TestDb::new().await;
    let target = tempfile::tempdir().unwrap();
    let target_db = other_backend(&db, target.path()).await;
    round_trip(&db.db, db.dir.path(), &target_db).await;
}

#[tokio::test]
async fn a_sqlite_backup_restores_into_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let Some(postgres) = empty_database_url(true, dir.path()).await else {
        eprintln!("a_sqlite_backup_restores_into_postgres: skipped, needs SILO_TEST_POSTGRES_URL");
        return;
    };
    let sqlite = empty_database_url(false, dir.path()).await.unwrap();
    let source_db = crate::db::connect_and_migrate(&sqlite).await.unwrap();
    let target_db = crate::db::connect(&postgres).await.unwrap();
    round_trip(&source_db, dir.path(), &target_db).await;
}

#[tokio::test]
async fn a_backup_restores_into_an_s3_store() {
    let Some(s3) = TestS3::start().await else {
        return;
    };
    let db = TestDb::new().await;
    let registry = source(&db).await;
    let world = fill(&registry).await;
    let backup = tempfile::tempdir().unwrap();
    registry.backup(backup.path()).await.unwrap();

    let target = tempfile::tempdir().unwrap();
    let target_db = other_backend(&db, target.path()).await;
    let store: Arc<dyn BlobStore> = Arc::new(S3BlobStore::open(&s3.settings).await.unwrap());
    let restored = restore_into(&target_db, store.clone(), backup.path()).await;
    assert_same_answers(&restored, &world).await;
    // And back out of S3: a backup of the restored registry reads every blob from the bucket.
    let again = tempfile::tempdir().unwrap();
    let report = restored.backup(again.path()).await.unwrap();
    assert_eq!(report.blobs_copied, 5);
}

#[tokio::test]
async fn backing_up_again_copies_only_new_blobs_and_drops_unreferenced_ones() {
    let db = TestDb::new().await;
    let registry = source(&db).await;
    let world = fill(&registry).await;
    let backup = tempfile::tempdir().unwrap();
    registry.backup(backup.path()).await.unwrap();
    let second = registry.backup(backup.path()).await.unwrap();
    assert_eq!(
        (second.blobs_copied, second.blobs_kept, second.blobs_removed),
        (0, 5, 0)
    );

    // A damaged copy in the directory is noticed and replaced.
    let (_, _, sha256) = &world.images[0];
    let copy = backup.path().join(BLOBS_DIR).join(sha256);
    let mut bytes = std::fs::read(&copy).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&copy, &bytes).unwrap();
    std::fs::write(backup.path().join(BLOBS_DIR).join("0".repeat(64)), b"stale").unwrap();
    std::fs::write(backup.path().join(BLOBS_DIR).join("LAYOUT"), b"not ours").unwrap();
    let third = registry.backup(backup.path()).await.unwrap();
    assert_eq!(
        (third.blobs_copied, third.blobs_kept, third.blobs_removed),
        (1, 4, 1)
    );
    assert_eq!(
        super::files::hash_file(&copy).await.unwrap().unwrap().0,
        *sha256
    );
    // A file whose name is not one a backup writes is left alone.
    assert!(backup.path().join(BLOBS_DIR).join("LAYOUT").exists());
}

#[tokio::test]
async fn backup_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let db = TestDb::new().await;
    let registry = source(&db).await;
    fill(&registry).await;
    let backup = tempfile::tempdir().unwrap();
    let dir = backup.path().join("nightly");
    registry.backup(&dir).await.unwrap();
    let mut checked = 0;
    let mut pending = vec![dir];
    while let Some(path) = pending.pop() {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        if path.is_dir() {
            assert_eq!(mode, 0o700, "{}", path.display());
            pending.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else {
            assert_eq!(mode, 0o600, "{}", path.display());
        }
        checked += 1;
    }
    assert!(checked > 20, "checked {checked} paths");
}

#[tokio::test]
async fn restore_refuses_a_damaged_backup_before_writing_anything() {
    let db = TestDb::new().await;
    let registry = source(&db).await;
    let world = fill(&registry).await;
    let backup = tempfile::tempdir().unwrap();
    registry.backup(backup.path()).await.unwrap();
    let target = tempfile::tempdir().unwrap();
    let target_db = other_backend(&db, target.path()).await;
    let store = fs_store(&target.path().join("blobs")).await;

    let (_, _, sha256) = &world.images[1];
    let blob = backup.path().join(BLOBS_DIR).join(sha256);
    let good = std::fs::read(&blob).unwrap();
    let mut bad = good.clone();
    bad[good.len() / 2] ^= 1;
    std::fs::write(&blob, &bad).unwrap();
    let err = restore(
        &target_db,
        &store,
        backup.path(),
        &RestoreOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DomainError::InvalidInput(_)), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("blob {sha256} is corrupt")),
        "{err}"
    );
    std::fs::remove_file(&blob).unwrap();
    let err = restore(
        &target_db,
        &store,
        backup.path(),
        &RestoreOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("blob {sha256} is missing")),
        "{err}"
    );
    std::fs::write(&blob, &good).unwrap();

    let table = backup.path().join("tables/users.jsonl");
    let users = std::fs::read_to_string(&table).unwrap();
    std::fs::write(&table, users.replace("alice", "mallory")).unwrap();
    let err = restore(
        &target_db,
        &store,
        backup.path(),
        &RestoreOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("tables/users.jsonl does not match its checksum"),
        "{err}"
    );
    std::fs::write(&table, users).unwrap();
    assert!(
        tables::schema_tables(&target_db).await.unwrap().is_empty(),
        "nothing was written"
    );

    std::fs::rename(backup.path().join(MANIFEST_FILE), backup.path().join("m")).unwrap();
    let err = restore(
        &target_db,
        &store,
        backup.path(),
        &RestoreOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("manifest.json is missing"),
        "{err}"
    );
    std::fs::rename(backup.path().join("m"), backup.path().join(MANIFEST_FILE)).unwrap();

    // Repaired, it restores; a second restore into the now full database is refused unless
    // forced, and forcing replaces the contents.
    let restored = restore_into(&target_db, store.clone(), backup.path()).await;
    restored.create_user("intruder", "", false).await.unwrap();
    let err = restore(
        &target_db,
        &store,
        backup.path(),
        &RestoreOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DomainError::Conflict(_)), "{err}");
    restore(
        &target_db,
        &store,
        backup.path(),
        &RestoreOptions { force: true },
    )
    .await
    .unwrap();
    assert!(restored.find_user("intruder").await.unwrap().is_none());
    assert_same_answers(&restored, &world).await;
}

#[tokio::test]
async fn a_backup_taken_during_pushes_holds_every_blob_its_rows_name() {
    let db = TestDb::new().await;
    let registry = source(&db).await.with_accept_non_sif(true);
    registry.create_user("pusher", "", false).await.unwrap();
    let token = NewToken {
        label: "t".into(),
        scope: None,
        expires_in_days: None,
    };
    let secret = registry.create_token("pusher", token).await.unwrap().secret;
    let actor = registry.authenticate(&secret).await.unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (first_push, first_pushed) = tokio::sync::oneshot::channel();
    let pusher = {
        let (registry, stop) = (registry.clone(), stop.clone());
        tokio::spawn(async move {
            let mut first_push = Some(first_push);
            let mut pushed = 0u32;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let bytes: Vec<u8> = (0..40_000u32)
                    .map(|i| (i ^ pushed) as u8)
                    .chain(pushed.to_be_bytes())
                    .collect();
                push(
                    &registry,
                    &actor,
                    &format!("pusher/load/c{}:t{}", pushed % 5, pushed),
                    false,
                    &bytes,
                )
                .await;
                pushed += 1;
                if let Some(signal) = first_push.take() {
                    let _ = signal.send(());
                }
            }
            pushed
        })
    };
    first_pushed.await.unwrap();
    let backup = tempfile::tempdir().unwrap();
    let report = registry.backup(backup.path()).await.unwrap();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let pushed = pusher.await.unwrap();
    assert!(
        report.blobs >= 1 && u64::from(pushed) >= report.blobs,
        "{report:?}, {pushed} pushed"
    );

    let images = std::fs::read_to_string(backup.path().join("tables/images.jsonl")).unwrap();
    let mut uploaded = 0;
    for line in images.lines() {
        let row: tables::Row = serde_json::from_str(line).unwrap();
        if row["uploaded"] == true {
            let sha256 = row["sha256"].as_str().unwrap();
            let copy = backup.path().join(BLOBS_DIR).join(sha256);
            assert!(copy.is_file(), "image {} has its blob {sha256}", row["id"]);
            uploaded += 1;
        }
    }
    assert_eq!(uploaded, report.blobs, "one distinct blob per pushed image");
    // Tags in the snapshot point only at images in it: the restored registry holds it.
    let target = tempfile::tempdir().unwrap();
    let target_db = other_backend(&db, target.path()).await;
    restore_into(
        &target_db,
        fs_store(&target.path().join("blobs")).await,
        backup.path(),
    )
    .await;
}

#[tokio::test]
async fn every_table_of_the_schema_is_known_to_backup() {
    let db = TestDb::new().await;
    let mut known: Vec<String> = tables::all_tables()
        .iter()
        .map(|t| t.name().to_string())
        .collect();
    known.sort();
    assert_eq!(
        tables::schema_tables(&db.db).await.unwrap(),
        known,
        "add new tables to backup::tables::all_tables (kept, or left out as short-lived)"
    );
}

#[tokio::test]
async fn restore_refuses_a_backup_from_a_newer_schema() {
    let db = TestDb::new().await;
    let registry = source(&db).await;
    fill(&registry).await;
    let backup = tempfile::tempdir().unwrap();
    registry.backup(backup.path()).await.unwrap();
    let mut newer = manifest(backup.path());
    newer.migrations.push("m20991231_000001_future".into());
    std::fs::write(
        backup.path().join(MANIFEST_FILE),
        serde_json::to_vec(&newer).unwrap(),
    )
    .unwrap();
    let target = tempfile::tempdir().unwrap();
    let target_db = other_backend(&db, target.path()).await;
    let store = fs_store(&target.path().join("blobs")).await;
    let err = restore(
        &target_db,
        &store,
        backup.path(),
        &RestoreOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("m20991231_000001_future"), "{err}");
}
