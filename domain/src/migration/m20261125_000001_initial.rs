//! The initial schema: accounts, the entity/collection/container/image namespace, tags,
//! usage, teams, settings, audit log and upload sessions.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    Email,
    Realname,
    IsAdmin,
    IsActive,
    CreatedAt,
    LastLoginAt,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    UserId,
    Label,
    TokenHash,
    Scope,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Entities {
    Table,
    Id,
    Name,
    Description,
    OwnerId,
    TeamId,
    DefaultPrivate,
    Quota,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Collections {
    Table,
    Id,
    EntityId,
    Name,
    Description,
    Private,
    OwnerId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Containers {
    Table,
    Id,
    CollectionId,
    Name,
    Description,
    FullDescription,
    ReadOnly,
    DownloadCount,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Images {
    Table,
    Id,
    ContainerId,
    Sha256,
    Size,
    Arch,
    Uploaded,
    Description,
    Signed,
    Encrypted,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Tags {
    Table,
    Id,
    ContainerId,
    Arch,
    Name,
    ImageId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Stars {
    Table,
    Id,
    UserId,
    CollectionId,
    ContainerId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DownloadEvents {
    Table,
    Id,
    ImageId,
    ContainerId,
    UserId,
    Protocol,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
    Name,
    Description,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TeamMemberships {
    Table,
    Id,
    TeamId,
    UserId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Settings {
    Table,
    Key,
    Value,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    ActorId,
    Action,
    Target,
    Detail,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UploadSessions {
    Table,
    Id,
    ImageId,
    UserId,
    Kind,
    ExpectedSha256,
    ExpectedSize,
    CreatedAt,
    ExpiresAt,
}

fn created(col: impl IntoIden) -> ColumnDef {
    timestamp_with_time_zone(col)
}

fn fk(
    name: &str,
    from: (impl IntoIden + 'static, impl IntoIden + 'static),
    to: (impl IntoIden + 'static, impl IntoIden + 'static),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

async fn unique_index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden + 'static,
    cols: Vec<DynIden>,
) -> Result<(), DbErr> {
    let mut stmt = Index::create().name(name).table(table).unique().to_owned();
    for col in cols {
        stmt.col(col);
    }
    manager.create_index(stmt).await
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden + 'static,
    col: impl IntoIndexColumn + 'static,
) -> Result<(), DbErr> {
    manager
        .create_index(Index::create().name(name).table(table).col(col).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(big_pk_auto(Users::Id))
                    .col(string_uniq(Users::Username))
                    .col(string(Users::Email).default(""))
                    .col(string(Users::Realname).default(""))
                    .col(boolean(Users::IsAdmin).default(false))
                    .col(boolean(Users::IsActive).default(true))
                    .col(created(Users::CreatedAt))
                    .col(timestamp_with_time_zone_null(Users::LastLoginAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(big_pk_auto(ApiTokens::Id))
                    .col(big_integer(ApiTokens::UserId))
                    .col(string(ApiTokens::Label))
                    .col(string_uniq(ApiTokens::TokenHash))
                    .col(string(ApiTokens::Scope))
                    .col(created(ApiTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
                    .foreign_key(&mut fk(
                        "fk_api_tokens_user",
                        (ApiTokens::Table, ApiTokens::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_api_tokens_user",
            ApiTokens::Table,
            ApiTokens::UserId,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Teams::Table)
                    .col(big_pk_auto(Teams::Id))
                    .col(string_uniq(Teams::Name))
                    .col(string(Teams::Description).default(""))
                    .col(created(Teams::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TeamMemberships::Table)
                    .col(big_pk_auto(TeamMemberships::Id))
                    .col(big_integer(TeamMemberships::TeamId))
                    .col(big_integer(TeamMemberships::UserId))
                    .col(string(TeamMemberships::Role))
                    .col(created(TeamMemberships::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_team_memberships_team",
                        (TeamMemberships::Table, TeamMemberships::TeamId),
                        (Teams::Table, Teams::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_team_memberships_user",
                        (TeamMemberships::Table, TeamMemberships::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "uq_team_memberships",
            TeamMemberships::Table,
            vec![
                TeamMemberships::TeamId.into_iden(),
                TeamMemberships::UserId.into_iden(),
            ],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Entities::Table)
                    .col(big_pk_auto(Entities::Id))
                    .col(string_uniq(Entities::Name))
                    .col(string(Entities::Description).default(""))
                    .col(big_integer_null(Entities::OwnerId))
                    .col(big_integer_null(Entities::TeamId))
                    .col(boolean(Entities::DefaultPrivate).default(false))
                    .col(big_integer(Entities::Quota).default(0))
                    .col(created(Entities::CreatedAt))
                    .col(created(Entities::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Collections::Table)
                    .col(big_pk_auto(Collections::Id))
                    .col(big_integer(Collections::EntityId))
                    .col(string(Collections::Name))
                    .col(string(Collections::Description).default(""))
                    .col(boolean(Collections::Private).default(false))
                    .col(big_integer_null(Collections::OwnerId))
                    .col(created(Collections::CreatedAt))
                    .col(created(Collections::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_collections_entity",
                        (Collections::Table, Collections::EntityId),
                        (Entities::Table, Entities::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "uq_collections_name",
            Collections::Table,
            vec![
                Collections::EntityId.into_iden(),
                Collections::Name.into_iden(),
            ],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Containers::Table)
                    .col(big_pk_auto(Containers::Id))
                    .col(big_integer(Containers::CollectionId))
                    .col(string(Containers::Name))
                    .col(string(Containers::Description).default(""))
                    .col(text(Containers::FullDescription).default(""))
                    .col(boolean(Containers::ReadOnly).default(false))
                    .col(big_integer(Containers::DownloadCount).default(0))
                    .col(created(Containers::CreatedAt))
                    .col(created(Containers::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_containers_collection",
                        (Containers::Table, Containers::CollectionId),
                        (Collections::Table, Collections::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "uq_containers_name",
            Containers::Table,
            vec![
                Containers::CollectionId.into_iden(),
                Containers::Name.into_iden(),
            ],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Images::Table)
                    .col(big_pk_auto(Images::Id))
                    .col(big_integer(Images::ContainerId))
                    .col(string_len(Images::Sha256, 64))
                    .col(big_integer(Images::Size).default(0))
                    .col(string_null(Images::Arch))
                    .col(boolean(Images::Uploaded).default(false))
                    .col(text(Images::Description).default(""))
                    .col(boolean_null(Images::Signed))
                    .col(boolean_null(Images::Encrypted))
                    .col(big_integer_null(Images::CreatedBy))
                    .col(created(Images::CreatedAt))
                    .col(created(Images::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_images_container",
                        (Images::Table, Images::ContainerId),
                        (Containers::Table, Containers::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "uq_images_content",
            Images::Table,
            vec![Images::ContainerId.into_iden(), Images::Sha256.into_iden()],
        )
        .await?;
        index(manager, "idx_images_sha256", Images::Table, Images::Sha256).await?;
        manager
            .create_table(
                Table::create()
                    .table(Tags::Table)
                    .col(big_pk_auto(Tags::Id))
                    .col(big_integer(Tags::ContainerId))
                    .col(string(Tags::Arch))
                    .col(string(Tags::Name))
                    .col(big_integer(Tags::ImageId))
                    .col(created(Tags::CreatedAt))
                    .col(created(Tags::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_tags_container",
                        (Tags::Table, Tags::ContainerId),
                        (Containers::Table, Containers::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_tags_image",
                        (Tags::Table, Tags::ImageId),
                        (Images::Table, Images::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "uq_tags_name",
            Tags::Table,
            vec![
                Tags::ContainerId.into_iden(),
                Tags::Arch.into_iden(),
                Tags::Name.into_iden(),
            ],
        )
        .await?;
        index(manager, "idx_tags_image", Tags::Table, Tags::ImageId).await?;
        manager
            .create_table(
                Table::create()
                    .table(Stars::Table)
                    .col(big_pk_auto(Stars::Id))
                    .col(big_integer(Stars::UserId))
                    .col(big_integer_null(Stars::CollectionId))
                    .col(big_integer_null(Stars::ContainerId))
                    .col(created(Stars::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_stars_user",
                        (Stars::Table, Stars::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_stars_collection",
            Stars::Table,
            Stars::CollectionId,
        )
        .await?;
        index(
            manager,
            "idx_stars_container",
            Stars::Table,
            Stars::ContainerId,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(DownloadEvents::Table)
                    .col(big_pk_auto(DownloadEvents::Id))
                    .col(big_integer(DownloadEvents::ImageId))
                    .col(big_integer(DownloadEvents::ContainerId))
                    .col(big_integer_null(DownloadEvents::UserId))
                    .col(string(DownloadEvents::Protocol))
                    .col(created(DownloadEvents::CreatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_download_events_container",
            DownloadEvents::Table,
            DownloadEvents::ContainerId,
        )
        .await?;
        index(
            manager,
            "idx_download_events_created",
            DownloadEvents::Table,
            DownloadEvents::CreatedAt,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Settings::Table)
                    .col(string(Settings::Key).primary_key())
                    .col(text(Settings::Value))
                    .col(created(Settings::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(big_integer_null(AuditLog::ActorId))
                    .col(string(AuditLog::Action))
                    .col(string(AuditLog::Target))
                    .col(text(AuditLog::Detail).default("{}"))
                    .col(created(AuditLog::CreatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_audit_log_created",
            AuditLog::Table,
            AuditLog::CreatedAt,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(UploadSessions::Table)
                    .col(string(UploadSessions::Id).primary_key())
                    .col(big_integer(UploadSessions::ImageId))
                    .col(big_integer(UploadSessions::UserId))
                    .col(string(UploadSessions::Kind))
                    .col(string_len(UploadSessions::ExpectedSha256, 64))
                    .col(big_integer(UploadSessions::ExpectedSize))
                    .col(created(UploadSessions::CreatedAt))
                    .col(created(UploadSessions::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            UploadSessions::Table.into_iden(),
            AuditLog::Table.into_iden(),
            Settings::Table.into_iden(),
            DownloadEvents::Table.into_iden(),
            Stars::Table.into_iden(),
            Tags::Table.into_iden(),
            Images::Table.into_iden(),
            Containers::Table.into_iden(),
            Collections::Table.into_iden(),
            Entities::Table.into_iden(),
            TeamMemberships::Table.into_iden(),
            Teams::Table.into_iden(),
            ApiTokens::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
