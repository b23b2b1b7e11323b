//! `GET /readyz`: whether this replica should get traffic now.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Map, Value};
use std::time::Duration;

use crate::state::AppState;

/// A check that takes longer than this has failed (the probe must answer promptly).
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// 200 `{"status":"ready", "checks":{…}}` when the database answers with every migration
/// applied and the blob store answers; otherwise 503 with `"status":"unavailable"` and
/// `failed` naming each failed check. Also 503 once the server is shutting down. Details of
/// failures go to the log, not to the (unauthenticated) caller.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let (database, store) = tokio::join!(check_database(&state), check_store(&state));
    let mut checks = Map::new();
    let mut failed = Vec::new();
    let shutting_down = state.shutdown.is_cancelled();
    for (name, outcome) in [
        ("database", database.0),
        ("migrations", database.1),
        ("store", store),
        (
            "shutdown",
            if shutting_down {
                Err("shutting down".to_string())
            } else {
                Ok(())
            },
        ),
    ] {
        let shown = match outcome {
            Ok(()) => "ok".to_string(),
            Err(why) => {
                failed.push(Value::from(name));
                why
            }
        };
        checks.insert(name.into(), Value::from(shown));
    }
    if failed.is_empty() {
        (
            StatusCode::OK,
            Json(json!({"status": "ready", "checks": checks})),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "failed": failed, "checks": checks})),
        )
    }
}

type Check = Result<(), String>;

/// (the database answers, every migration is applied)
async fn check_database(state: &AppState) -> (Check, Check) {
    let db = state.registry.db();
    match tokio::time::timeout(CHECK_TIMEOUT, db.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the database does not answer");
            return (Err("unavailable".into()), Err("unknown".into()));
        }
        Err(_) => {
            tracing::warn!("readiness: the database did not answer in time");
            return (Err("timed out".into()), Err("unknown".into()));
        }
    }
    let pending =
        tokio::time::timeout(CHECK_TIMEOUT, silo_domain::db::pending_migrations(db)).await;
    let migrations = match pending {
        Ok(Ok(0)) => Ok(()),
        Ok(Ok(n)) => {
            tracing::warn!(pending = n, "readiness: database migrations are pending");
            Err(format!("{n} pending"))
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: cannot read the applied migrations");
            Err("unknown".into())
        }
        Err(_) => Err("timed out".into()),
    };
    (Ok(()), migrations)
}

async fn check_store(state: &AppState) -> Check {
    match tokio::time::timeout(CHECK_TIMEOUT, state.registry.store().check()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the blob store does not answer");
            Err("unavailable".into())
        }
        Err(_) => {
            tracing::warn!("readiness: the blob store did not answer in time");
            Err("timed out".into())
        }
    }
}
