//! `silo gc` and `silo fsck` as an operator runs them, on the configured database (SQLite, or
//! PostgreSQL with SILO_TEST_POSTGRES_URL) and on both stores (filesystem and a real
//! `s3s-fs`): a deleted blob, a stray blob and a corrupted byte are found, collected or
//! repaired, and the JSON documents carry the counts.
use serde_json::Value;
use silo_domain::testing::s3_server::TestS3;
use silo_domain::testing::TestDb;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Site {
    _db: TestDb,
    data: tempfile::TempDir,
    url: String,
    s3: Option<TestS3>,
}

impl Site {
    fn silo(&self, args: &[&str]) -> (i32, String, String) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_silo"));
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("SILO_")) {
            cmd.env_remove(key);
        }
        cmd.env("SILO_DATA_DIR", self.data.path())
            .env("SILO_DATABASE_URL", &self.url)
            .env("SILO_ACCEPT_NON_SIF", "true");
        if let Some(s3) = &self.s3 {
            let s = &s3.settings;
            cmd.env("SILO_STORAGE__BACKEND", "s3")
                .env("SILO_STORAGE__S3__ENDPOINT", &s.endpoint)
                .env("SILO_STORAGE__S3__BUCKET", &s.bucket)
                .env("SILO_STORAGE__S3__ACCESS_KEY", &s.access_key)
                .env("SILO_STORAGE__S3__SECRET_KEY", &s.secret_key);
        }
        let out = cmd.args(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }

    fn json(&self, args: &[&str], want_code: i32) -> Value {
        let (code, out, err) = self.silo(args);
        assert_eq!(code, want_code, "silo {args:?}: {out}\n{err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    }

    /// The directory holding committed blobs as files (`<aa>/<hex>`).
    fn blob_dir(&self) -> PathBuf {
        match &self.s3 {
            Some(s3) => s3.root.path().join("silo-test/blobs/sha256"),
            None => self.data.path().join("blobs/sha256"),
        }
    }

    fn blob_files(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for fan in std::fs::read_dir(self.blob_dir()).unwrap().flatten() {
            for file in std::fs::read_dir(fan.path()).unwrap().flatten() {
                let name = file.file_name().to_string_lossy().to_string();
                if name.len() == 64 && !name.starts_with('.') {
                    files.push(file.path());
                }
            }
        }
        files.sort();
        files
    }
}

async fn site(on_s3: bool) -> Option<Site> {
    let s3 = if on_s3 {
        Some(TestS3::start().await?)
    } else {
        None
    };
    let db = TestDb::new().await;
    Some(Site {
        url: db.url.clone(),
        _db: db,
        data: tempfile::tempdir().unwrap(),
        s3,
    })
}

fn sha_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn name_of(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().to_string()
}

async fn gc_and_fsck_find_and_fix(on_s3: bool) {
    let Some(site) = site(on_s3).await else {
        return;
    };
    let (code, _, err) = site.silo(&[
        "seed",
        "--containers",
        "4",
        "--entities",
        "2",
        "--per-collection",
        "2",
        "--max-kib",
        "2",
    ]);
    assert_eq!(code, 0, "{err}");
    let clean = site.json(&["fsck", "--json"], 0);
    assert_eq!(clean["problems"], 0, "{clean}");
    let stored = clean["stored_blobs"].as_u64().unwrap();
    assert!(stored >= 2, "{clean}");
    assert_eq!(clean["referenced_blobs"].as_u64().unwrap(), stored);

    let files = site.blob_files();
    assert_eq!(files.len() as u64, stored);
    let (gone, bent) = (&files[0], &files[1]);
    std::fs::remove_file(gone).unwrap();
    let mut bytes = std::fs::read(bent).unwrap();
    bytes[0] ^= 1;
    std::fs::write(bent, &bytes).unwrap();
    let stray = b"bytes nobody recorded".to_vec();
    let stray_hex = sha_hex(&stray);
    let stray_path = site.blob_dir().join(&stray_hex[..2]).join(&stray_hex);
    std::fs::create_dir_all(stray_path.parent().unwrap()).unwrap();
    std::fs::write(&stray_path, &stray).unwrap();

    let found = site.json(&["fsck", "--json"], 1);
    assert_eq!(found["missing"], 1, "{found}");
    assert_eq!(found["corrupt"], 0, "only --verify rehashes");
    assert_eq!(found["issues"][0]["digest"], name_of(gone));
    assert_eq!(found["unrecorded_blobs"], serde_json::json!([stray_hex]));
    let verified = site.json(&["fsck", "--verify", "--json"], 1);
    assert_eq!(verified["corrupt"], 1, "{verified}");
    assert_eq!(verified["problems_remaining"], 2);
    assert_eq!(verified["verified_blobs"].as_u64().unwrap(), stored);
    let (code, text, _) = site.silo(&["fsck"]);
    assert_eq!(code, 1);
    assert!(text.contains("missing blobs: 1"), "{text}");
    assert!(text.contains("problems remaining: 1"), "{text}");

    let dry = site.json(&["gc", "--dry-run", "--json", "--grace-minutes", "0"], 0);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["adopted"], serde_json::json!([stray_hex]));
    let kept = site.json(&["gc", "--json"], 0);
    assert_eq!(kept["adopted"], serde_json::json!([stray_hex]), "{kept}");
    assert_eq!(
        kept["summary"]["blob"]["count"], 0,
        "the grace period holds"
    );
    assert!(stray_path.exists());
    let collected = site.json(&["gc", "--json", "--grace-minutes", "0"], 0);
    assert_eq!(collected["summary"]["blob"]["count"], 1, "{collected}");
    assert_eq!(collected["summary"]["blob"]["bytes"], stray.len());
    assert_eq!(collected["items"][0]["name"], stray_hex);
    assert!(!stray_path.exists(), "the stray is collected");
    let (code, text, _) = site.silo(&["gc", "--dry-run"]);
    assert_eq!(code, 0);
    assert!(text.contains("unreferenced blobs: 0 (0 bytes)"), "{text}");

    let repaired = site.json(&["fsck", "--repair", "--verify", "--json"], 0);
    assert_eq!(repaired["problems"], 2, "{repaired}");
    assert_eq!(repaired["problems_remaining"], 0);
    let after = site.json(&["fsck", "--verify", "--json"], 0);
    assert_eq!(after["problems"], 0, "{after}");
    assert_eq!(after["referenced_blobs"].as_u64().unwrap(), stored - 2);
}

#[tokio::test]
async fn gc_and_fsck_on_the_filesystem_store() {
    gc_and_fsck_find_and_fix(false).await;
}

#[tokio::test]
async fn gc_and_fsck_on_the_s3_store() {
    gc_and_fsck_find_and_fix(true).await;
}
