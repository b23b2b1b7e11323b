//! Opening the database and bringing its schema up to date.
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
    TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use std::time::Duration;

use crate::migration::Migrator;

/// The advisory lock id that serialises schema migrations ("silo" + 0).
pub const MIGRATION_LOCK: i64 = 0x5349_4c4f_0000_0000;

/// Connects to `url` (`sqlite://…` or `postgres://…`) and runs pending migrations.
///
/// On PostgreSQL several replicas may start at once (a rolling upgrade, or a fresh
/// deployment): each waits for a transaction-scoped advisory lock before migrating, so one
/// applies the pending migrations and the others then find none left.
pub async fn connect_and_migrate(url: &str) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let db = connect(url).await?;
    if db.get_database_backend() != DbBackend::Postgres {
        Migrator::up(&db, None).await?;
        return Ok(db);
    }
    // The usual start: nothing to apply, and no second connection for a lock there is no
    // need for. Migrations are only ever added, so a schema found complete stays complete.
    if schema_is_current(&db).await? {
        return Ok(db);
    }
    // The lock lives in a transaction kept open on one pooled connection while the
    // migrations run on others; ending it (or the process dying) releases the lock.
    let guard = db.begin().await?;
    take_migration_lock(&guard).await?;
    let migrated = Migrator::up(&db, None).await;
    guard.commit().await?;
    migrated?;
    Ok(db)
}

/// Waits for the migration lock, held until `transaction` ends.
async fn take_migration_lock(
    transaction: &sea_orm::DatabaseTransaction,
) -> Result<(), sea_orm::DbErr> {
    transaction
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [MIGRATION_LOCK.into()],
        ))
        .await?;
    Ok(())
}

/// Whether a PostgreSQL database has every migration of this build applied, found without
/// writing anything: a new database (no `seaql_migrations` table yet) is not current, and
/// the table is created only under the migration lock (two replicas creating it at once
/// would collide).
async fn schema_is_current(db: &DatabaseConnection) -> Result<bool, sea_orm::DbErr> {
    let found = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT to_regclass('seaql_migrations') IS NOT NULL AS present",
        ))
        .await?;
    let present = match found {
        Some(row) => row.try_get::<bool>("", "present")?,
        None => false,
    };
    Ok(present && pending_migrations(db).await? == 0)
}

/// Connects to `url` without touching the schema (`silo restore` migrates step by step).
pub async fn connect(url: &str) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(if url.starts_with("sqlite") { 8 } else { 32 })
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    let db = Database::connect(options).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        db.execute_unprepared("PRAGMA journal_mode=WAL;").await?;
        db.execute_unprepared("PRAGMA busy_timeout=5000;").await?;
        db.execute_unprepared("PRAGMA foreign_keys=ON;").await?;
    }
    Ok(db)
}

/// Builds a SQLite URL for a file, creating the file when missing.
pub fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// How many of this build's migrations the database has not applied (0 when up to date).
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<usize, sea_orm::DbErr> {
    Ok(Migrator::get_pending_migrations(db).await?.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new PostgreSQL database, or None (and a note) when the tests have none.
    async fn empty_postgres_database(dir: &std::path::Path) -> Option<String> {
        let url = crate::testing::empty_database_url(true, dir).await;
        if url.is_none() {
            eprintln!(
                "skipped: needs PostgreSQL ({})",
                crate::testing::POSTGRES_ENV
            );
        }
        url
    }

    /// Replicas of a new version starting together on one PostgreSQL database: every one
    /// comes up, the schema is migrated once, and nothing is left pending. (SQLite serves
    /// one process, so there is nothing to race.)
    #[tokio::test]
    async fn replicas_starting_at_once_all_migrate_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let Some(url) = empty_postgres_database(dir.path()).await else {
            return;
        };
        let starts = (0..4).map(|_| connect_and_migrate(&url));
        let replicas = futures::future::join_all(starts).await;
        for replica in replicas {
            let db = replica.expect("every replica starts");
            assert_eq!(pending_migrations(&db).await.unwrap(), 0);
        }
    }

    /// A restart onto a schema that is already current does not queue behind the migration
    /// lock (nor open a second connection for it): it starts even while another process
    /// holds that lock.
    #[tokio::test]
    async fn a_current_schema_starts_without_the_migration_lock() {
        let dir = tempfile::tempdir().unwrap();
        let Some(url) = empty_postgres_database(dir.path()).await else {
            return;
        };
        let first = connect_and_migrate(&url).await.expect("migrates");
        let holder = first.begin().await.unwrap();
        take_migration_lock(&holder).await.unwrap();
        let restart = tokio::time::timeout(Duration::from_secs(5), connect_and_migrate(&url))
            .await
            .expect("did not wait for the migration lock")
            .expect("starts");
        assert_eq!(pending_migrations(&restart).await.unwrap(), 0);
        holder.rollback().await.unwrap();
    }
}
