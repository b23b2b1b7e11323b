//! The OCI distribution API: blobs linked to a repository (a container), manifests with
//! their subject for the referrers API, OCI tags, and chunked upload sessions.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OciBlobs {
    Table,
    Id,
    ContainerId,
    Digest,
    Size,
    MediaType,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OciManifests {
    Table,
    Id,
    ContainerId,
    Digest,
    MediaType,
    ArtifactType,
    SubjectDigest,
    Content,
    Size,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OciTags {
    Table,
    Id,
    ContainerId,
    Name,
    ManifestDigest,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OciUploads {
    Table,
    Id,
    ContainerId,
    UserId,
    Received,
    CreatedAt,
    ExpiresAt,
}

async fn unique(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden + 'static,
    cols: [DynIden; 2],
) -> Result<(), DbErr> {
    let mut stmt = Index::create().name(name).table(table).unique().to_owned();
    for col in cols {
        stmt.col(col);
    }
    manager.create_index(stmt).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OciBlobs::Table)
                    .col(big_pk_auto(OciBlobs::Id))
                    .col(big_integer(OciBlobs::ContainerId))
                    .col(string_len(OciBlobs::Digest, 64))
                    .col(big_integer(OciBlobs::Size))
                    .col(string_null(OciBlobs::MediaType))
                    .col(timestamp_with_time_zone(OciBlobs::CreatedAt))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "uq_oci_blobs",
            OciBlobs::Table,
            [
                OciBlobs::ContainerId.into_iden(),
                OciBlobs::Digest.into_iden(),
            ],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(OciManifests::Table)
                    .col(big_pk_auto(OciManifests::Id))
                    .col(big_integer(OciManifests::ContainerId))
                    .col(string_len(OciManifests::Digest, 64))
                    .col(string(OciManifests::MediaType))
                    .col(string_null(OciManifests::ArtifactType))
                    .col(string_len_null(OciManifests::SubjectDigest, 64))
                    .col(text(OciManifests::Content))
                    .col(big_integer(OciManifests::Size))
                    .col(timestamp_with_time_zone(OciManifests::CreatedAt))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "uq_oci_manifests",
            OciManifests::Table,
            [
                OciManifests::ContainerId.into_iden(),
                OciManifests::Digest.into_iden(),
            ],
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_oci_manifests_subject")
                    .table(OciManifests::Table)
                    .col(OciManifests::SubjectDigest)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OciTags::Table)
                    .col(big_pk_auto(OciTags::Id))
                    .col(big_integer(OciTags::ContainerId))
                    .col(string(OciTags::Name))
                    .col(string_len(OciTags::ManifestDigest, 64))
                    .col(timestamp_with_time_zone(OciTags::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "uq_oci_tags",
            OciTags::Table,
            [OciTags::ContainerId.into_iden(), OciTags::Name.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(OciUploads::Table)
                    .col(string(OciUploads::Id).primary_key())
                    .col(big_integer(OciUploads::ContainerId))
                    .col(big_integer(OciUploads::UserId))
                    .col(big_integer(OciUploads::Received).default(0))
                    .col(timestamp_with_time_zone(OciUploads::CreatedAt))
                    .col(timestamp_with_time_zone(OciUploads::ExpiresAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            OciUploads::Table.into_iden(),
            OciTags::Table.into_iden(),
            OciManifests::Table.into_iden(),
            OciBlobs::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
