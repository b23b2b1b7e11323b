//! `blobs`: what the blob store holds, one row per digest, with a lease (`last_used_at`).
//! Every push refreshes the lease before relying on the bytes and links its image or OCI
//! blob in a transaction holding this row; only garbage collection deletes bytes, and only
//! after deleting an unreferenced row whose lease is older than the grace period (see
//! `services/blobs.rs` and docs/architecture.md). The migration backfills the table from the
//! records that reference blobs today, with the lease starting now.
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Blobs {
    Table,
    Digest,
    Size,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum OciBlobs {
    Table,
    Digest,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Blobs::Table)
                    .col(string_len(Blobs::Digest, 64).primary_key())
                    .col(big_integer(Blobs::Size))
                    .col(timestamp_with_time_zone(Blobs::CreatedAt))
                    .col(timestamp_with_time_zone(Blobs::LastUsedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_blobs_last_used")
                    .table(Blobs::Table)
                    .col(Blobs::LastUsedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_oci_blobs_digest")
                    .table(OciBlobs::Table)
                    .col(OciBlobs::Digest)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let (now, yes) = match backend {
            DbBackend::Postgres => ("$1", "$2"),
            _ => ("?", "?"),
        };
        let sql = format!(
            "INSERT INTO blobs (digest, size, created_at, last_used_at) \
             SELECT digest, MAX(size), {now}, {now} FROM ( \
               SELECT sha256 AS digest, size FROM images WHERE uploaded = {yes} \
               UNION ALL SELECT digest, size FROM oci_blobs \
             ) AS refs GROUP BY digest"
        );
        let values: Vec<sea_orm::Value> = match backend {
            DbBackend::Postgres => vec![chrono::Utc::now().into(), true.into()],
            _ => vec![
                chrono::Utc::now().into(),
                chrono::Utc::now().into(),
                true.into(),
            ],
        };
        db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("idx_oci_blobs_digest").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Blobs::Table).to_owned())
            .await
    }
}
