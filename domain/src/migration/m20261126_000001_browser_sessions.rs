//! Browser sessions for the web interface, and one star per user and target.
//!
//! A session row keeps only the sha256 of the cookie's secret. It expires when unused for
//! the idle limit (`last_seen_at`) or at `expires_at` (the absolute limit), whichever comes
//! first; see `services::sessions`.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    SecretHash,
    UserId,
    Scope,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Stars {
    Table,
    UserId,
    CollectionId,
    ContainerId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(big_pk_auto(Sessions::Id))
                    .col(string_len(Sessions::SecretHash, 64).unique_key())
                    .col(big_integer(Sessions::UserId))
                    .col(string_len(Sessions::Scope, 16))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_user")
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_expires")
                    .table(Sessions::Table)
                    .col(Sessions::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        // One star per user and target: drop duplicates a pre-release build may have left,
        // then let the database refuse new ones (NULLs are distinct, so a collection star's
        // empty container column never collides).
        manager
            .get_connection()
            .execute_unprepared(
                "DELETE FROM stars WHERE id NOT IN \
                 (SELECT MIN(id) FROM stars GROUP BY user_id, collection_id, container_id)",
            )
            .await?;
        for (name, column) in [
            ("uq_stars_user_collection", Stars::CollectionId),
            ("uq_stars_user_container", Stars::ContainerId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Stars::Table)
                        .col(Stars::UserId)
                        .col(column)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["uq_stars_user_collection", "uq_stars_user_container"] {
            manager
                .drop_index(Index::drop().name(name).table(Stars::Table).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Sessions::Table).to_owned())
            .await
    }
}
