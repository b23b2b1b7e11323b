//! Background jobs when several replicas share one database: each replica runs the job on its
//! own timer, and [`Registry::run_exclusive`] lets only one of them run it at a time.
//!
//! On PostgreSQL the guard is a transaction-scoped advisory lock
//! (`pg_try_advisory_xact_lock`) taken in a transaction that stays open while the job runs
//! (on the pool's other connections): it is released when the transaction ends, whether the
//! job finishes, fails, is cancelled (the transaction rolls back) or the process dies (the
//! session ends), so it can never be left behind. A replica that finds the lock taken skips
//! that round. SQLite serves one process, which simply runs the job.
use std::future::Future;

use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};

use super::{Registry, SessionLimits};
use crate::error::Result;

/// The advisory lock id of [`Registry::maintenance`] (an arbitrary constant, "silo" + 1).
pub const MAINTENANCE_LOCK: i64 = 0x5349_4c4f_0000_0001;

/// What one maintenance round did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MaintenanceReport {
    /// Upload sessions past their expiry, forgotten (and their partial bytes deleted).
    pub expired_uploads: u64,
    /// Browser sessions past their idle or absolute end, deleted.
    pub ended_sessions: u64,
    /// Garbage collection, when the round ran it (`gc.rs`).
    pub gc: Option<super::GcReport>,
}

impl Registry {
    /// Runs `job` unless another replica holds the lock `lock` (then None, without waiting).
    pub async fn run_exclusive<T, F, Fut>(&self, lock: i64, job: F) -> Result<Option<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        if self.db.get_database_backend() != DbBackend::Postgres {
            return job().await.map(Some);
        }
        let guard = self.db.begin().await?;
        let row = guard
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_try_advisory_xact_lock($1) AS locked",
                [lock.into()],
            ))
            .await?;
        let locked = match row {
            Some(row) => row.try_get::<bool>("", "locked")?,
            None => false,
        };
        if !locked {
            guard.rollback().await?;
            return Ok(None);
        }
        let outcome = job().await;
        // Ending the transaction releases the lock.
        guard.commit().await?;
        outcome.map(Some)
    }

    /// One round of housekeeping, by one replica at a time (see [`Registry::run_exclusive`]):
    /// forgets expired upload sessions and ended browser sessions and, with `gc`, collects
    /// garbage. None when another replica is doing it now.
    pub async fn maintenance(
        &self,
        limits: SessionLimits,
        gc: Option<&super::GcOptions>,
    ) -> Result<Option<MaintenanceReport>> {
        self.run_exclusive(MAINTENANCE_LOCK, || async {
            let expired_uploads = self.sweep_expired_uploads().await?;
            let ended_sessions = self.sweep_expired_sessions(limits).await?;
            let gc = match gc {
                Some(options) => Some(self.collect_garbage(options).await?),
                None => None,
            };
            Ok(MaintenanceReport {
                expired_uploads,
                ended_sessions,
                gc,
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::store::FsBlobStore;
    use crate::testing::TestDb;

    async fn replicas(db: &TestDb) -> (Registry, Registry) {
        let blobs = db.dir.path().join("blobs");
        let a = Registry::new(
            db.db.clone(),
            Arc::new(FsBlobStore::open(&blobs).await.unwrap()),
        );
        let b = Registry::new(
            db.another_replica().await,
            Arc::new(FsBlobStore::open(&blobs).await.unwrap()),
        );
        (a, b)
    }

    const LOCK: i64 = 42;

    #[tokio::test]
    async fn one_replica_at_a_time_runs_a_guarded_job() {
        let db = TestDb::new().await;
        let (a, b) = replicas(&db).await;
        let (started_tx, started) = tokio::sync::oneshot::channel();
        let (finish, finish_rx) = tokio::sync::oneshot::channel::<()>();
        let holder = {
            let a = a.clone();
            tokio::spawn(async move {
                a.run_exclusive(LOCK, || async move {
                    started_tx.send(()).unwrap();
                    finish_rx.await.unwrap();
                    Ok("a ran")
                })
                .await
            })
        };
        started.await.unwrap();
        let meanwhile = b.run_exclusive(LOCK, || async { Ok("b ran") }).await;
        let other_lock = b.run_exclusive(LOCK + 1, || async { Ok("b ran") }).await;
        assert_eq!(
            other_lock.unwrap(),
            Some("b ran"),
            "other jobs are not held up"
        );
        finish.send(()).unwrap();
        assert_eq!(holder.await.unwrap().unwrap(), Some("a ran"));
        if db.is_postgres() {
            assert_eq!(meanwhile.unwrap(), None, "b skips while a holds the lock");
        } else {
            assert_eq!(
                meanwhile.unwrap(),
                Some("b ran"),
                "SQLite just runs the job"
            );
        }
        let after = b.run_exclusive(LOCK, || async { Ok("b ran") }).await;
        assert_eq!(after.unwrap(), Some("b ran"), "released when a finished");
        let report = a.maintenance(SessionLimits::default(), None).await.unwrap();
        assert_eq!(report, Some(MaintenanceReport::default()));
    }

    #[tokio::test]
    async fn a_cancelled_or_failed_job_releases_the_lock() {
        let db = TestDb::new().await;
        let (a, b) = replicas(&db).await;
        if db.skip_unless_postgres("advisory lock release") {
            return;
        }
        let (started_tx, started) = tokio::sync::oneshot::channel();
        let holder = {
            let a = a.clone();
            tokio::spawn(async move {
                a.run_exclusive(LOCK, || async move {
                    started_tx.send(()).unwrap();
                    std::future::pending::<()>().await;
                    Ok(())
                })
                .await
            })
        };
        started.await.unwrap();
        assert_eq!(
            b.run_exclusive(LOCK, || async { Ok(()) }).await.unwrap(),
            None
        );
        holder.abort();
        let _ = holder.await;
        // The dropped transaction rolls back in the background: give it a moment.
        let mut ran = None;
        for _ in 0..50 {
            ran = b.run_exclusive(LOCK, || async { Ok(()) }).await.unwrap();
            if ran.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(ran, Some(()), "the cancelled job's lock was released");
        let failed = a
            .run_exclusive(LOCK, || async {
                Err::<(), _>(crate::DomainError::invalid("the job failed"))
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(
            b.run_exclusive(LOCK, || async { Ok(()) }).await.unwrap(),
            Some(())
        );
    }
}
