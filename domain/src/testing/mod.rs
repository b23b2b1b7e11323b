//! Test support: a fresh, migrated database per test.
//!
//! By default each test gets its own SQLite file. With `SILO_TEST_POSTGRES_URL` set (for
//! example `postgres://postgres@127.0.0.1:5432/test`) each test gets its own PostgreSQL
//! database named `silo_t_<random>`, created through that URL; `make test` drops them
//! before each run.
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

use crate::db::{connect_and_migrate, sqlite_url};

/// Environment variable selecting PostgreSQL for tests.
pub const POSTGRES_ENV: &str = "SILO_TEST_POSTGRES_URL";

pub struct TestDb {
    pub db: DatabaseConnection,
    pub url: String,
    /// Keeps the SQLite file (and anything else the test puts there) alive.
    pub dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = match std::env::var(POSTGRES_ENV) {
            Ok(admin_url) if !admin_url.is_empty() => fresh_postgres_database(&admin_url).await,
            _ => sqlite_url(&dir.path().join("silo.db")),
        };
        let db = connect_and_migrate(&url)
            .await
            .expect("migrated test database");
        TestDb { db, url, dir }
    }

    /// A second connection pool to the same database, as another replica would open it.
    pub async fn another_replica(&self) -> DatabaseConnection {
        connect_and_migrate(&self.url)
            .await
            .expect("second connection to the test database")
    }

    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }

    /// For tests of what only PostgreSQL does: true (after saying so) when this run is on
    /// SQLite and the test should end here.
    pub fn skip_unless_postgres(&self, test: &str) -> bool {
        if !self.is_postgres() {
            eprintln!("{test}: skipped, needs PostgreSQL ({POSTGRES_ENV})");
        }
        !self.is_postgres()
    }

    pub fn backend_name(&self) -> &'static str {
        if self.url.starts_with("postgres") {
            "postgres"
        } else {
            "sqlite"
        }
    }
}

/// The URL of a new, empty (not migrated) database: PostgreSQL when `postgres` is true,
/// else a SQLite file in `dir`; `None` when PostgreSQL is asked for and
/// `SILO_TEST_POSTGRES_URL` is not set.
pub async fn empty_database_url(postgres: bool, dir: &std::path::Path) -> Option<String> {
    if !postgres {
        return Some(sqlite_url(&dir.join("empty.db")));
    }
    match std::env::var(POSTGRES_ENV) {
        Ok(admin_url) if !admin_url.is_empty() => Some(fresh_postgres_database(&admin_url).await),
        _ => None,
    }
}

async fn fresh_postgres_database(admin_url: &str) -> String {
    let admin = Database::connect(admin_url)
        .await
        .expect("connect to PostgreSQL for tests");
    let name = format!("silo_t_{}", crate::services::random_hex(8));
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    admin.close().await.ok();
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("a database URL ends in /<database>");
    format!("{base}/{name}")
}

pub mod s3_server;
