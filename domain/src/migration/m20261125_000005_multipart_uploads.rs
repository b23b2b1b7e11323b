//! Multipart uploads: the part size of a session, and one row per part received.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UploadSessions {
    Table,
    PartSize,
}

#[derive(DeriveIden)]
enum UploadParts {
    Table,
    Id,
    SessionId,
    PartNumber,
    Size,
    DeclaredSha256,
    Sha256,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(UploadSessions::Table)
                    .add_column(big_integer(UploadSessions::PartSize).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UploadParts::Table)
                    .col(big_pk_auto(UploadParts::Id))
                    .col(string(UploadParts::SessionId))
                    .col(integer(UploadParts::PartNumber))
                    .col(big_integer(UploadParts::Size).default(0))
                    .col(string_len_null(UploadParts::DeclaredSha256, 64))
                    .col(string_len_null(UploadParts::Sha256, 64))
                    .col(timestamp_with_time_zone(UploadParts::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_upload_parts")
                    .table(UploadParts::Table)
                    .col(UploadParts::SessionId)
                    .col(UploadParts::PartNumber)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UploadParts::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(UploadSessions::Table)
                    .drop_column(UploadSessions::PartSize)
                    .to_owned(),
            )
            .await
    }
}
