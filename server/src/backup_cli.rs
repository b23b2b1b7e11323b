//! `silo backup DIR` and `silo restore DIR`: thin commands over `silo_domain::backup`.
use clap::Args;
use silo_domain::backup::{self, RestoreOptions};
use silo_domain::DomainError;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::{redact_url, Config};

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// Directory to write the backup into (created 0700 when missing). A directory holding
    /// an earlier backup is updated: only blobs it lacks are copied.
    pub dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// Directory holding a backup written by `silo backup`.
    pub dir: PathBuf,
    /// Replace the contents of a database that is not empty (everything in it is deleted).
    #[arg(long)]
    pub force: bool,
}

/// Writes a consistent backup while the registry keeps serving.
pub async fn backup(config: &Config, args: BackupArgs) -> anyhow::Result<ExitCode> {
    let registry = crate::open_registry(config).await?;
    let started = std::time::Instant::now();
    let report = registry
        .backup(&args.dir)
        .await
        .map_err(|e| anyhow::anyhow!("backup into {} failed: {e}", args.dir.display()))?;
    eprintln!(
        "backed up {} rows of {} tables and {} blobs ({} MiB; {} copied, {} already there, \
         {} no longer referenced removed) into {} in {:.1} s",
        report.rows,
        report.tables,
        report.blobs,
        report.blob_bytes / (1024 * 1024),
        report.blobs_copied,
        report.blobs_kept,
        report.blobs_removed,
        args.dir.display(),
        started.elapsed().as_secs_f64()
    );
    eprintln!(
        "note: the server key {} is not part of the backup; keep a copy of it with the backup \
         (sregistry secrets derive from it)",
        config.secret_key_file().display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Restores a backup into the configured database and blob store.
pub async fn restore(config: &Config, args: RestoreArgs) -> anyhow::Result<ExitCode> {
    tokio::fs::create_dir_all(&config.data_dir)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot create data directory {}: {e}",
                config.data_dir.display()
            )
        })?;
    let url = config.database_url();
    let db = silo_domain::db::connect(&url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", redact_url(&url)))?;
    let store = crate::open_store(config).await?;
    let options = RestoreOptions { force: args.force };
    let report = backup::restore(&db, &store, &args.dir, &options)
        .await
        .map_err(|e| anyhow::anyhow!("restore from {} failed: {e}", args.dir.display()))?;
    eprintln!(
        "restored {} rows of {} tables and {} blobs ({} MiB) from a {} backup of {} into {}",
        report.rows,
        report.tables,
        report.blobs,
        report.blob_bytes / (1024 * 1024),
        report.source_backend,
        report.created_at,
        redact_url(&url)
    );
    check_key(config, &silo_domain::Registry::new(db, store)).await;
    Ok(ExitCode::SUCCESS)
}

/// Warns when the configured server key is not the one the backed-up server used.
async fn check_key(config: &Config, registry: &silo_domain::Registry) {
    let path = config.secret_key_file();
    let advice = "copy the original server's key file there before starting silo: sregistry \
                  secrets derive from it, and silo serve refuses another key";
    if !path.exists() {
        eprintln!(
            "warning: the server key file {} is missing; {advice}",
            path.display()
        );
        return;
    }
    let key = match crate::secret_key::load_or_create(&path) {
        Ok(key) => key,
        Err(err) => {
            eprintln!("warning: {err}; {advice}");
            return;
        }
    };
    match registry.check_secret_key(&key).await {
        Ok(()) => {}
        Err(DomainError::Conflict(_)) => eprintln!(
            "warning: {} is not the key of the server that was backed up; {advice}",
            path.display()
        ),
        Err(err) => eprintln!("warning: cannot check the server key: {err}"),
    }
}
