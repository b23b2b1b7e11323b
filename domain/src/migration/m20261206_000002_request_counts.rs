//! `request_counts`: fixed-window request counters per key (a client network and what it
//! asked for), so the request rate limits hold across replicas sharing the database. One
//! row per key and window; windows that have passed are deleted as new ones start.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RequestCounts {
    Table,
    Key,
    WindowStart,
    Count,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RequestCounts::Table)
                    .col(string_len(RequestCounts::Key, 200))
                    .col(big_integer(RequestCounts::WindowStart))
                    .col(big_integer(RequestCounts::Count))
                    .primary_key(
                        Index::create()
                            .col(RequestCounts::Key)
                            .col(RequestCounts::WindowStart),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_request_counts_window")
                    .table(RequestCounts::Table)
                    .col(RequestCounts::WindowStart)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RequestCounts::Table).to_owned())
            .await
    }
}
