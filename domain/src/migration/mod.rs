//! Schema migrations, run at start-up by every `silo` subcommand that opens the database.
//!
//! Each migration is a dated module; never edit one that has shipped, add a new one.
use sea_orm_migration::prelude::*;

mod m20261125_000001_initial;
mod m20261125_000002_sif_metadata;
mod m20261125_000003_pgp_keys;
mod m20261125_000004_sregistry_credentials;
mod m20261125_000005_multipart_uploads;
mod m20261125_000006_oci;
mod m20261126_000001_browser_sessions;
mod m20261127_000001_access;
mod m20261205_000001_login_failures;
mod m20261206_000001_blobs;
mod m20261206_000002_request_counts;
mod m20261207_000001_catalogue_version;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_initial::Migration),
            Box::new(m20261125_000002_sif_metadata::Migration),
            Box::new(m20261125_000003_pgp_keys::Migration),
            Box::new(m20261125_000004_sregistry_credentials::Migration),
            Box::new(m20261125_000005_multipart_uploads::Migration),
            Box::new(m20261125_000006_oci::Migration),
            Box::new(m20261126_000001_browser_sessions::Migration),
            Box::new(m20261127_000001_access::Migration),
            Box::new(m20261205_000001_login_failures::Migration),
            Box::new(m20261206_000001_blobs::Migration),
            Box::new(m20261206_000002_request_counts::Migration),
            Box::new(m20261207_000001_catalogue_version::Migration),
        ]
    }
}
