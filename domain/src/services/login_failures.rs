//! Failed sign-ins kept in the database (`login_failures`), so that the login rate limit
//! counts every replica's failures. The server decides what a key is (a user name, a client
//! network) and how many failures it tolerates; this module only records and counts.
use chrono::{DateTime, Duration, SubsecRound, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::Registry;
use crate::entities::login_failure;
use crate::error::Result;

/// Longest key stored (the column's length).
pub const LOGIN_FAILURE_KEY_MAX: usize = 200;

impl Registry {
    /// How long a sign-in counted under `limits` (key, failures tolerated within `window`;
    /// 0 means no limit) must wait at `now`, or None when it may be tried now. A key is over
    /// its limit while `max` failures lie in the window; it is free again when the oldest of
    /// its newest `max` failures leaves it.
    pub async fn login_wait(
        &self,
        limits: &[(String, u32)],
        window: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Duration>> {
        let now = now.trunc_subsecs(6);
        let mut wait = None::<Duration>;
        for (key, max) in limits {
            if *max == 0 {
                continue;
            }
            let oldest_that_matters = login_failure::Entity::find()
                .filter(login_failure::Column::Key.eq(stored_key(key)))
                .filter(login_failure::Column::FailedAt.gt(now - window))
                .order_by_desc(login_failure::Column::FailedAt)
                .offset(u64::from(*max - 1))
                .limit(1)
                .one(&self.db)
                .await?;
            if let Some(row) = oldest_that_matters {
                let until = (row.failed_at + window - now).max(Duration::milliseconds(1));
                wait = Some(wait.map_or(until, |w| w.max(until)));
            }
        }
        Ok(wait)
    }

    /// Records one failed sign-in at `now` under each of `keys`, and deletes every record
    /// that has left `window` (whatever its key).
    pub async fn record_login_failure(
        &self,
        keys: &[String],
        window: Duration,
        now: DateTime<Utc>,
    ) -> Result<()> {
        // PostgreSQL keeps microseconds: so does SQLite here, and both answer alike.
        let now = now.trunc_subsecs(6);
        login_failure::Entity::delete_many()
            .filter(login_failure::Column::FailedAt.lte(now - window))
            .exec(&self.db)
            .await?;
        if keys.is_empty() {
            return Ok(());
        }
        let rows = keys.iter().map(|key| login_failure::ActiveModel {
            key: Set(stored_key(key)),
            failed_at: Set(now),
            ..Default::default()
        });
        login_failure::Entity::insert_many(rows)
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Forgets the failures recorded under `key` (a successful sign-in).
    pub async fn forget_login_failures(&self, key: &str) -> Result<()> {
        login_failure::Entity::delete_many()
            .filter(login_failure::Column::Key.eq(stored_key(key)))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

/// `key`, cut to the column's length.
fn stored_key(key: &str) -> String {
    key.chars().take(LOGIN_FAILURE_KEY_MAX).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::FsBlobStore;
    use crate::testing::TestDb;

    async fn registry(db: &TestDb, dir: &str) -> Registry {
        let store = FsBlobStore::open(db.dir.path().join(dir)).await.unwrap();
        Registry::new(db.db.clone(), Arc::new(store))
    }

    #[tokio::test]
    async fn failures_through_one_registry_count_on_another_sharing_the_database() {
        let db = TestDb::new().await;
        let (a, b) = (registry(&db, "a").await, registry(&db, "b").await);
        let window = Duration::seconds(300);
        let t0 = Utc::now();
        let limits = [("user:alice".to_string(), 3)];
        for i in 0..3 {
            assert_eq!(b.login_wait(&limits, window, t0).await.unwrap(), None);
            let replica = if i % 2 == 0 { &a } else { &b };
            replica
                .record_login_failure(
                    &["user:alice".into(), "client:10.0.0.1".into()],
                    window,
                    t0 + Duration::seconds(i),
                )
                .await
                .unwrap();
        }
        let at = t0 + Duration::seconds(10);
        // The first failure (t0) leaves the window at t0 + 300 s.
        for replica in [&a, &b] {
            let wait = replica.login_wait(&limits, window, at).await.unwrap();
            assert_eq!(wait, Some(Duration::seconds(290)), "{}", db.backend_name());
        }
        let client = [("client:10.0.0.1".to_string(), 4)];
        assert_eq!(a.login_wait(&client, window, at).await.unwrap(), None);
        let unlimited = [("user:alice".to_string(), 0)];
        assert_eq!(a.login_wait(&unlimited, window, at).await.unwrap(), None);
        let later = t0 + Duration::seconds(300);
        assert_eq!(a.login_wait(&limits, window, later).await.unwrap(), None);

        b.forget_login_failures("user:alice").await.unwrap();
        assert_eq!(a.login_wait(&limits, window, at).await.unwrap(), None);
        let client = [("client:10.0.0.1".to_string(), 3)];
        assert!(a.login_wait(&client, window, at).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn old_failures_are_pruned() {
        let db = TestDb::new().await;
        let r = registry(&db, "a").await;
        let window = Duration::seconds(60);
        let t0 = Utc::now() - Duration::seconds(600);
        for key in ["user:a", "user:b", "client:192.0.2.1"] {
            r.record_login_failure(&[key.to_string()], window, t0)
                .await
                .unwrap();
        }
        r.record_login_failure(&["user:c".into()], window, t0 + Duration::seconds(61))
            .await
            .unwrap();
        let left: Vec<String> = login_failure::Entity::find()
            .all(&r.db)
            .await
            .unwrap()
            .into_iter()
            .map(|row| row.key)
            .collect();
        assert_eq!(left, ["user:c"]);
    }
}
