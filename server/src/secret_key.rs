//! The server's secret key: 32 random bytes in `<data_dir>/secret.key` (64 hex digits,
//! created with mode 0600 on first start). It derives the sregistry client secrets; losing or
//! replacing it invalidates every sregistry secret (API tokens keep working).
use std::io::Write;
use std::path::Path;

pub const FILE_NAME: &str = "secret.key";

/// Reads the key file in `data_dir`, creating it when absent.
pub fn load_or_create(data_dir: &Path) -> anyhow::Result<[u8; 32]> {
    let path = data_dir.join(FILE_NAME);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(text.trim())
            .ok_or_else(|| anyhow::anyhow!("{} must hold 64 hex digits", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            rand_fill(&mut key);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(&path)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
            writeln!(file, "{}", hex::encode(key))?;
            file.sync_all()?;
            Ok(key)
        }
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}

fn parse(text: &str) -> Option<[u8; 32]> {
    hex::decode(text).ok()?.try_into().ok()
}

fn rand_fill(key: &mut [u8; 32]) {
    let hex = silo_domain::services::random_hex(32);
    key.copy_from_slice(&hex::decode(hex).expect("random_hex is hex"));
}
