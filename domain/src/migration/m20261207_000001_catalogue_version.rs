//! Change signals for the lookup cache (`services/lookup_cache.rs`): every insert, update
//! and delete on the tables a cached lookup reads tells the running servers, whoever made
//! it (a request, a background job, a `silo` command, another replica).
//!
//! - SQLite: row triggers count changes in `catalogue_version` (one row), which the server
//!   reads once a second. SQLite's writers take turns anyway, so the counter costs no
//!   concurrency.
//! - PostgreSQL: statement triggers send `NOTIFY silo_catalogue`, delivered when the
//!   transaction commits to every replica's event relay. No shared row is updated, so
//!   concurrent writers do not queue on one lock.
use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables the lookup cache reads.
pub const WATCHED_TABLES: [&str; 7] = [
    "entities",
    "collections",
    "containers",
    "tags",
    "images",
    "stars",
    "image_metadata",
];

const OPERATIONS: [&str; 3] = ["INSERT", "UPDATE", "DELETE"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION silo_catalogue_changed() RETURNS trigger \
                     LANGUAGE plpgsql AS $$ BEGIN \
                     PERFORM pg_notify('silo_catalogue', ''); RETURN NULL; END $$",
                )
                .await?;
                for table in WATCHED_TABLES {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER silo_catalogue_{table} \
                         AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} \
                         FOR EACH STATEMENT EXECUTE FUNCTION silo_catalogue_changed()"
                    ))
                    .await?;
                }
            }
            _ => {
                db.execute_unprepared(
                    "CREATE TABLE catalogue_version \
                     (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL)",
                )
                .await?;
                db.execute_unprepared("INSERT INTO catalogue_version (id, version) VALUES (1, 0)")
                    .await?;
                for table in WATCHED_TABLES {
                    for operation in OPERATIONS {
                        let lower = operation.to_lowercase();
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER silo_catalogue_{table}_{lower} \
                             AFTER {operation} ON {table} BEGIN \
                             UPDATE catalogue_version SET version = version + 1 WHERE id = 1; END"
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                for table in WATCHED_TABLES {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS silo_catalogue_{table} ON {table}"
                    ))
                    .await?;
                }
                db.execute_unprepared("DROP FUNCTION IF EXISTS silo_catalogue_changed()")
                    .await?;
            }
            _ => {
                for table in WATCHED_TABLES {
                    for operation in OPERATIONS {
                        let lower = operation.to_lowercase();
                        db.execute_unprepared(&format!(
                            "DROP TRIGGER IF EXISTS silo_catalogue_{table}_{lower}"
                        ))
                        .await?;
                    }
                }
                db.execute_unprepared("DROP TABLE IF EXISTS catalogue_version")
                    .await?;
            }
        }
        Ok(())
    }
}
