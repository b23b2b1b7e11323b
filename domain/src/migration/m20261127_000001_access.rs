//! Institutional sign-in, roles that grant access, robot accounts, share links and quotas.
//!
//! - `identities`: an account's link to an external login (provider + subject, unique).
//! - `login_flows`: pending OAuth/OIDC logins (state, nonce, PKCE verifier), so that any
//!   replica can finish a login another one started.
//! - `collection_roles`: a user's or a team's role on one collection.
//! - `share_links`: expiring, revocable links to pull one container.
//! - `users.kind` (`human` or `robot`), `users.robot_owner_id`, `users.quota`, `teams.quota`.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Identities {
    Table,
    Id,
    UserId,
    Provider,
    Subject,
    Email,
    CreatedAt,
    LastLoginAt,
}

#[derive(DeriveIden)]
enum LoginFlows {
    Table,
    Id,
    StateHash,
    Provider,
    Nonce,
    PkceVerifier,
    ReturnTo,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum CollectionRoles {
    Table,
    Id,
    CollectionId,
    UserId,
    TeamId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ShareLinks {
    Table,
    Id,
    ContainerId,
    TokenHash,
    Label,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    LastUsedAt,
    UseCount,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Kind,
    RobotOwnerId,
    Quota,
}

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
    Quota,
}

#[derive(DeriveIden)]
enum Collections {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Containers {
    Table,
    Id,
}

fn cascade(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Identities::Table)
                    .col(big_pk_auto(Identities::Id))
                    .col(big_integer(Identities::UserId))
                    .col(string_len(Identities::Provider, 64))
                    .col(string_len(Identities::Subject, 512))
                    .col(string_len(Identities::Email, 320))
                    .col(timestamp_with_time_zone(Identities::CreatedAt))
                    .col(timestamp_with_time_zone_null(Identities::LastLoginAt))
                    .foreign_key(&mut cascade(
                        "fk_identities_user",
                        (Identities::Table, Identities::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_identities_provider_subject")
                    .table(Identities::Table)
                    .col(Identities::Provider)
                    .col(Identities::Subject)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LoginFlows::Table)
                    .col(big_pk_auto(LoginFlows::Id))
                    .col(string_len(LoginFlows::StateHash, 64).unique_key())
                    .col(string_len(LoginFlows::Provider, 64))
                    .col(string_len(LoginFlows::Nonce, 128))
                    .col(string_len(LoginFlows::PkceVerifier, 256))
                    .col(string_len(LoginFlows::ReturnTo, 1024))
                    .col(timestamp_with_time_zone(LoginFlows::CreatedAt))
                    .col(timestamp_with_time_zone(LoginFlows::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CollectionRoles::Table)
                    .col(big_pk_auto(CollectionRoles::Id))
                    .col(big_integer(CollectionRoles::CollectionId))
                    .col(big_integer_null(CollectionRoles::UserId))
                    .col(big_integer_null(CollectionRoles::TeamId))
                    .col(string_len(CollectionRoles::Role, 16))
                    .col(timestamp_with_time_zone(CollectionRoles::CreatedAt))
                    .foreign_key(&mut cascade(
                        "fk_collection_roles_collection",
                        (CollectionRoles::Table, CollectionRoles::CollectionId),
                        (Collections::Table, Collections::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_collection_roles_user",
                        (CollectionRoles::Table, CollectionRoles::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_collection_roles_team",
                        (CollectionRoles::Table, CollectionRoles::TeamId),
                        (Teams::Table, Teams::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_collection_roles_user", CollectionRoles::UserId),
            ("idx_collection_roles_team", CollectionRoles::TeamId),
            (
                "idx_collection_roles_collection",
                CollectionRoles::CollectionId,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(CollectionRoles::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ShareLinks::Table)
                    .col(big_pk_auto(ShareLinks::Id))
                    .col(big_integer(ShareLinks::ContainerId))
                    .col(string_len(ShareLinks::TokenHash, 64).unique_key())
                    .col(string_len(ShareLinks::Label, 200))
                    .col(big_integer(ShareLinks::CreatedBy))
                    .col(timestamp_with_time_zone(ShareLinks::CreatedAt))
                    .col(timestamp_with_time_zone(ShareLinks::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ShareLinks::RevokedAt))
                    .col(timestamp_with_time_zone_null(ShareLinks::LastUsedAt))
                    .col(big_integer(ShareLinks::UseCount).default(0))
                    .foreign_key(&mut cascade(
                        "fk_share_links_container",
                        (ShareLinks::Table, ShareLinks::ContainerId),
                        (Containers::Table, Containers::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(string_len(Users::Kind, 16).default("human"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(big_integer_null(Users::RobotOwnerId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(big_integer(Users::Quota).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Teams::Table)
                    .add_column(big_integer(Teams::Quota).default(0))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ShareLinks::Table.into_iden(),
            CollectionRoles::Table.into_iden(),
            LoginFlows::Table.into_iden(),
            Identities::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for column in [Users::Kind, Users::RobotOwnerId, Users::Quota] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Teams::Table)
                    .drop_column(Teams::Quota)
                    .to_owned(),
            )
            .await
    }
}
