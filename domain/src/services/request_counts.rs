//! Request counters kept in the database (`request_counts`), so that request rate limits
//! count every replica's requests: one upsert per counted request. The server decides what
//! a key is (a client network and what it asked for) and how many requests it allows; this
//! module only counts, in fixed windows.
use chrono::{DateTime, Duration, TimeZone, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use super::Registry;
use crate::error::Result;

/// Longest key stored (the column's length).
pub const REQUEST_COUNT_KEY_MAX: usize = 200;

/// The requests counted under a key in the current window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestCount {
    /// Requests in the window, this one included.
    pub count: u64,
    /// When the window ends (and the count starts again from 0).
    pub window_ends: DateTime<Utc>,
}

impl Registry {
    /// Counts one request under `key` in the fixed window of length `window` holding `now`
    /// (windows start at multiples of `window` since the Unix epoch). The first request of a
    /// new window deletes every count of earlier windows, whatever its key.
    pub async fn count_request(
        &self,
        key: &str,
        window: Duration,
        now: DateTime<Utc>,
    ) -> Result<RequestCount> {
        let window_ms = window.num_milliseconds().max(1);
        let start = now.timestamp_millis().div_euclid(window_ms) * window_ms;
        let backend = self.db.get_database_backend();
        let p = |n: usize| match backend {
            DbBackend::Postgres => format!("${n}"),
            _ => "?".to_string(),
        };
        let key: String = key.chars().take(REQUEST_COUNT_KEY_MAX).collect();
        let sql = format!(
            "INSERT INTO request_counts (\"key\", window_start, \"count\") VALUES ({}, {}, 1) \
             ON CONFLICT (\"key\", window_start) DO UPDATE SET \"count\" = request_counts.\"count\" + 1 \
             RETURNING \"count\"",
            p(1),
            p(2)
        );
        let row = self
            .db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [key.into(), start.into()],
            ))
            .await?;
        let count = match row {
            Some(row) => row.try_get::<i64>("", "count")?,
            None => 1,
        };
        if count == 1 {
            self.db
                .execute_raw(Statement::from_sql_and_values(
                    backend,
                    format!("DELETE FROM request_counts WHERE window_start < {}", p(1)),
                    [start.into()],
                ))
                .await?;
        }
        let window_ends = Utc
            .timestamp_millis_opt(start + window_ms)
            .single()
            .unwrap_or(now);
        Ok(RequestCount {
            count: u64::try_from(count).unwrap_or(0),
            window_ends,
        })
    }
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
    async fn replicas_sharing_the_database_count_together_per_window() {
        let db = TestDb::new().await;
        let (a, b) = (registry(&db, "a").await, registry(&db, "b").await);
        let minute = Duration::seconds(60);
        // A window start: 1_800_000_000 is a multiple of 60.
        let t0 = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
        for i in 1..=4u64 {
            let replica = if i % 2 == 0 { &a } else { &b };
            let counted = replica
                .count_request("pull:10.0.0.1", minute, t0 + Duration::seconds(i as i64))
                .await
                .unwrap();
            assert_eq!(counted.count, i, "{}", db.backend_name());
            assert_eq!(counted.window_ends, t0 + minute);
        }
        let other = a.count_request("pull:10.0.0.2", minute, t0).await.unwrap();
        assert_eq!(other.count, 1, "keys count apart");
        let next = b
            .count_request("pull:10.0.0.1", minute, t0 + minute)
            .await
            .unwrap();
        assert_eq!(next.count, 1, "a new window starts from 0");
        assert_eq!(next.window_ends, t0 + minute + minute);
        let left =
            a.db.query_one_raw(Statement::from_string(
                a.db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM request_counts",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        assert_eq!(left, 1, "earlier windows were deleted");
    }
}
