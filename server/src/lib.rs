//! The `silo` server: configuration, the HTTP router and its protocol adapters.
pub mod auth;
pub mod background;
pub mod backup_cli;
pub mod cli;
pub mod cli_storage;
pub mod config;
pub mod edge;
pub mod events;
pub mod headers;
pub mod keyserver;
pub mod library;
pub mod observability;
pub mod oci;
pub mod rest;
pub mod router;
pub mod secret_key;
pub mod session;
pub mod share;
pub mod shub;
pub mod spa;
pub mod sregistry;
pub mod state;
pub mod web_upload;

use silo_domain::store::{BlobStore, FsBlobStore, S3BlobStore};
use silo_domain::Registry;
use std::sync::Arc;

/// Opens the database (running migrations) and the blob store that `config` names.
pub async fn open_registry(config: &config::Config) -> anyhow::Result<Registry> {
    tokio::fs::create_dir_all(&config.data_dir)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot create data directory {}: {e}",
                config.data_dir.display()
            )
        })?;
    let db = silo_domain::db::connect_and_migrate(&config.database_url())
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot open database {}: {e}",
                config::redact_url(&config.database_url())
            )
        })?;
    let store = open_store(config).await?;
    let key_file = config.secret_key_file();
    let key = secret_key::load_or_create(&key_file)?;
    let registry = Registry::new(db, store)
        .with_accept_non_sif(config.accept_non_sif)
        .with_lookup_cache(config.lookup_cache_entries)
        .with_secret_key(key);
    secret_key::check_shared(&registry, &key_file, &key).await?;
    Ok(registry)
}

/// Opens the blob store `[storage]` names.
pub async fn open_store(config: &config::Config) -> anyhow::Result<Arc<dyn BlobStore>> {
    Ok(match config.storage.backend {
        config::StorageBackend::Filesystem => {
            let dir = config.blob_dir();
            let store = FsBlobStore::open(&dir)
                .await
                .map_err(|e| anyhow::anyhow!("cannot open blob store {}: {e}", dir.display()))?
                .with_fsync(config.storage.fsync);
            Arc::new(store)
        }
        config::StorageBackend::S3 => {
            let s3 = &config.storage.s3;
            let store = S3BlobStore::open(s3).await.map_err(|e| {
                anyhow::anyhow!(
                    "cannot open the S3 store (bucket {:?} at {}): {e}",
                    s3.bucket,
                    s3.endpoint
                )
            })?;
            Arc::new(store)
        }
    })
}
