//! The server's secret key: 32 random bytes (64 hex digits) that the sregistry client secrets
//! derive from. It is kept in a file, never in the database, so that a copy of the database
//! reveals no sregistry secret: `secret_key_file` (`SILO_SECRET_KEY_FILE`), by default
//! `<data_dir>/secret.key`, created with mode 0600 on first start when absent. Losing or
//! replacing it invalidates every sregistry secret (API tokens keep working).
//!
//! Replicas must use the same key: point `secret_key_file` of each at the same file (a
//! mounted secret). The database records a fingerprint of the key on first start
//! (`Registry::check_secret_key`), and a replica with a different key refuses to start.
use silo_domain::{DomainError, Registry};
use std::io::Write;
use std::path::Path;

pub const FILE_NAME: &str = "secret.key";

/// Reads the key file at `path`, creating it when absent.
pub fn load_or_create(path: &Path) -> anyhow::Result<[u8; 32]> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(text.trim())
            .ok_or_else(|| anyhow::anyhow!("{} must hold 64 hex digits", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path),
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}

/// Checks with the database that every replica uses the key in `path`.
pub async fn check_shared(registry: &Registry, path: &Path, key: &[u8; 32]) -> anyhow::Result<()> {
    match registry.check_secret_key(key).await {
        Ok(()) => Ok(()),
        Err(DomainError::Conflict(_)) => Err(anyhow::anyhow!(
            "{} is not the secret key the other replicas sharing this database use \
             (their sregistry secrets would not verify here): give every replica the same \
             file with secret_key_file (SILO_SECRET_KEY_FILE). If the key was replaced on \
             purpose, delete the setting server_secret_key_fingerprint from the database \
             (sregistry secrets issued with the old key stop working)",
            path.display()
        )),
        Err(err) => Err(anyhow::anyhow!("cannot check the server secret key: {err}")),
    }
}

/// Writes a new random key to `path` atomically (a temporary file, then a hard link that
/// fails if another process created the file first, whose key is then read).
fn create(path: &Path) -> anyhow::Result<[u8; 32]> {
    let mut key = [0u8; 32];
    rand_fill(&mut key);
    let temporary = path.with_extension(format!("tmp-{}", silo_domain::services::random_hex(6)));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temporary).and_then(|mut file| {
        writeln!(file, "{}", hex::encode(key))?;
        file.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&temporary, path));
    let _ = std::fs::remove_file(&temporary);
    match linked {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create(path),
        Err(e) => Err(anyhow::anyhow!("cannot create {}: {e}", path.display())),
    }
}

fn parse(text: &str) -> Option<[u8; 32]> {
    hex::decode(text).ok()?.try_into().ok()
}

fn rand_fill(key: &mut [u8; 32]) {
    let hex = silo_domain::services::random_hex(32);
    key.copy_from_slice(&hex::decode(hex).expect("random_hex is hex"));
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_missing_key_file_is_created_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(super::FILE_NAME);
        let key = super::load_or_create(&path).unwrap();
        assert_eq!(super::load_or_create(&path).unwrap(), key);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
        std::fs::write(&path, "not hex").unwrap();
        assert!(super::load_or_create(&path).is_err());
    }
}
