//! OpenPGP public keys for the keyserver (HKP `/pks/`).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum PgpKeys {
    Table,
    Id,
    Fingerprint,
    KeyId,
    Algorithm,
    Bits,
    KeyCreatedAt,
    KeyExpiresAt,
    Revoked,
    UserIds,
    SearchText,
    NewestSignatureAt,
    Armored,
    UploaderId,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PgpKeys::Table)
                    .col(big_pk_auto(PgpKeys::Id))
                    .col(string_len_uniq(PgpKeys::Fingerprint, 64))
                    .col(string_len(PgpKeys::KeyId, 16))
                    .col(integer(PgpKeys::Algorithm))
                    .col(integer(PgpKeys::Bits))
                    .col(timestamp_with_time_zone(PgpKeys::KeyCreatedAt))
                    .col(timestamp_with_time_zone_null(PgpKeys::KeyExpiresAt))
                    .col(boolean(PgpKeys::Revoked).default(false))
                    .col(text(PgpKeys::UserIds))
                    .col(text(PgpKeys::SearchText))
                    .col(timestamp_with_time_zone(PgpKeys::NewestSignatureAt))
                    .col(text(PgpKeys::Armored))
                    .col(big_integer_null(PgpKeys::UploaderId))
                    .col(timestamp_with_time_zone(PgpKeys::CreatedAt))
                    .col(timestamp_with_time_zone(PgpKeys::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_pgp_keys_uploader")
                            .from(PgpKeys::Table, PgpKeys::UploaderId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_pgp_keys_key_id")
                    .table(PgpKeys::Table)
                    .col(PgpKeys::KeyId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PgpKeys::Table).to_owned())
            .await
    }
}
