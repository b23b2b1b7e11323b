//! `image_metadata`: what SIF inspection found in an image (one row per image record).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ImageMetadata {
    Table,
    ImageId,
    Arch,
    SifCreatedAt,
    Definition,
    Labels,
    Runscript,
    Environment,
    Signed,
    Fingerprints,
    InspectedAt,
}

#[derive(DeriveIden)]
enum Images {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ImageMetadata::Table)
                    .if_not_exists()
                    .col(big_integer(ImageMetadata::ImageId).primary_key())
                    .col(string_null(ImageMetadata::Arch))
                    .col(timestamp_with_time_zone_null(ImageMetadata::SifCreatedAt))
                    .col(text_null(ImageMetadata::Definition))
                    .col(text(ImageMetadata::Labels).default("{}"))
                    .col(text_null(ImageMetadata::Runscript))
                    .col(text_null(ImageMetadata::Environment))
                    .col(boolean(ImageMetadata::Signed).default(false))
                    .col(text(ImageMetadata::Fingerprints).default("[]"))
                    .col(timestamp_with_time_zone(ImageMetadata::InspectedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_image_metadata_image")
                            .from(ImageMetadata::Table, ImageMetadata::ImageId)
                            .to(Images::Table, Images::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ImageMetadata::Table).to_owned())
            .await
    }
}
