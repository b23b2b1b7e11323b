//! Credentials for the legacy sregistry client's `SREGISTRY-HMAC-SHA256` signatures.
//!
//! The HMAC key the client holds cannot be an API token (those are stored hashed), so each
//! credential is a random salt tied to an API token; the client's secret is derived from the
//! salt and the server's secret key and is never stored (see `services::sregistry`).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SregistryCredentials {
    Table,
    Id,
    TokenId,
    UserId,
    Salt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SregistryCredentials::Table)
                    .col(big_pk_auto(SregistryCredentials::Id))
                    .col(big_integer(SregistryCredentials::TokenId).unique_key())
                    .col(big_integer(SregistryCredentials::UserId))
                    .col(string_len(SregistryCredentials::Salt, 64))
                    .col(timestamp_with_time_zone(SregistryCredentials::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sregistry_credentials_token")
                            .from(SregistryCredentials::Table, SregistryCredentials::TokenId)
                            .to(ApiTokens::Table, ApiTokens::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sregistry_credentials_user")
                    .table(SregistryCredentials::Table)
                    .col(SregistryCredentials::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SregistryCredentials::Table).to_owned())
            .await
    }
}
