//! `silo backup` and `silo restore`, run as the real binary: a registry filled by `silo seed`
//! and `silo user`/`silo token` is backed up and restored into a new data directory (and a
//! new PostgreSQL database when `SILO_TEST_POSTGRES_URL` is set), which then holds the same
//! rows and blobs; damaged backups and full databases are refused with a clear message.
use std::path::Path;
use std::process::{Command, Output};

fn silo(data: &Path, database_url: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_silo"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("SILO_")) {
        cmd.env_remove(key);
    }
    cmd.env("SILO_DATA_DIR", data);
    if let Some(url) = database_url {
        cmd.env("SILO_DATABASE_URL", url);
    }
    cmd.args(args).output().unwrap()
}

fn ok(out: Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

fn failed(out: Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "expected a failure: {stderr}");
    stderr
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test]
async fn backup_and_restore_commands_round_trip_a_registry() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    ok(silo(
        &source,
        None,
        &[
            "seed",
            "--containers",
            "12",
            "--entities",
            "3",
            "--per-collection",
            "4",
            "--max-kib",
            "8",
        ],
    ));
    ok(silo(&source, None, &["user", "create", "alice"]));
    ok(silo(&source, None, &["token", "create", "alice"]));

    let backup = dir.path().join("backup");
    let note = ok(silo(&source, None, &["backup", path(&backup)]));
    assert!(note.contains("secret.key"), "the key file is named: {note}");
    let written = manifest(&backup);
    assert_eq!(written["format"], "silo-backup");
    assert_eq!(written["source_backend"], "sqlite");
    let blobs = written["blobs"]["count"].as_u64().unwrap();
    assert!(blobs >= 12, "{written}");
    assert_eq!(
        std::fs::read_dir(backup.join("blobs")).unwrap().count() as u64,
        blobs
    );

    // A new data directory, with the original server key, and PostgreSQL when available.
    let target = dir.path().join("target");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::copy(source.join("secret.key"), target.join("secret.key")).unwrap();
    let url = silo_domain::testing::empty_database_url(true, dir.path()).await;
    let url = url.as_deref();
    let restored = ok(silo(&target, url, &["restore", path(&backup)]));
    assert!(!restored.contains("warning"), "{restored}");
    let users = silo(&target, url, &["user", "list"]);
    assert!(String::from_utf8_lossy(&users.stdout).contains("alice\tuser\tactive"));

    // The restored registry backs up to the same rows and the same blobs.
    let again = dir.path().join("again");
    ok(silo(&target, url, &["backup", path(&again)]));
    let second = manifest(&again);
    for (a, b) in written["tables"]
        .as_array()
        .unwrap()
        .iter()
        .zip(second["tables"].as_array().unwrap())
    {
        assert_eq!((&a["name"], &a["rows"]), (&b["name"], &b["rows"]));
    }
    assert_eq!(
        std::fs::read(backup.join("blobs.jsonl")).unwrap(),
        std::fs::read(again.join("blobs.jsonl")).unwrap()
    );

    // A database that holds rows is refused unless forced.
    let refused = failed(silo(&target, url, &["restore", path(&backup)]));
    assert!(
        refused.contains("not empty") && refused.contains("--force"),
        "{refused}"
    );
    ok(silo(&target, url, &["restore", "--force", path(&backup)]));

    // Without the server key the restore works and says what is missing.
    let keyless = dir.path().join("keyless");
    let warned = ok(silo(&keyless, None, &["restore", path(&backup)]));
    assert!(
        warned.contains("warning") && warned.contains("secret.key"),
        "{warned}"
    );

    // A damaged blob is found before anything is written.
    let blob = std::fs::read_dir(backup.join("blobs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let name = blob.file_name().to_string_lossy().into_owned();
    let mut bytes = std::fs::read(blob.path()).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(blob.path(), bytes).unwrap();
    let damaged = dir.path().join("damaged");
    let error = failed(silo(&damaged, None, &["restore", path(&backup)]));
    assert!(
        error.contains(&format!("blob {name} is corrupt")),
        "{error}"
    );
    let users = silo(&damaged, None, &["user", "list"]);
    assert!(String::from_utf8_lossy(&users.stdout).trim().is_empty());
}
