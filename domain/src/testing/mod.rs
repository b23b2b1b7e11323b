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

    pub fn backend_name(&self) -> &'static str {
        if self.url.starts_with("postgres") {
            "postgres"
        } else {
            "sqlite"
        }
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
