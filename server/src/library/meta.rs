//! Service discovery, version, token checks and the user lookup of `remote status`.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use silo_domain::DomainError;

use super::error::{envelope, Caller, LibraryError, LibraryResult};
use super::wire::data;
use crate::state::AppState;

/// The library API version that enables v2 uploads and arch tags in the Go client.
pub const API_VERSION: &str = "2.0.0";

/// `GET /assets/config/config.prod.json`: every service lives on this host.
pub async fn discovery(State(state): State<AppState>) -> Json<serde_json::Value> {
    let uri = state.public_url.to_string();
    Json(json!({
        "libraryAPI": {"uri": uri},
        "keystoreAPI": {"uri": uri},
        "tokenAPI": {"uri": uri},
    }))
}

/// `GET /version`.
pub async fn version() -> impl IntoResponse {
    data(json!({"version": concat!("v", env!("CARGO_PKG_VERSION")), "apiVersion": API_VERSION}))
}

/// `GET /v1/token-status`: 200 for a valid token, 401 otherwise.
pub async fn token_status(Caller(actor): Caller) -> LibraryResult<Response> {
    let principal = actor.require_user().map_err(LibraryError)?;
    Ok(data(json!({"status": "valid", "username": principal.username})).into_response())
}

/// `GET /v1/rbac/users/current`: raw JSON, not enveloped (as the client reads it).
pub async fn current_user(Caller(actor): Caller) -> LibraryResult<Response> {
    let principal = actor.require_user().map_err(LibraryError)?;
    Ok(Json(json!({
        "username": principal.username,
        "email": principal.email,
        "realname": principal.realname,
    }))
    .into_response())
}

/// `GET /v1/oci-redirect`: Silo speaks the library protocol itself, so clients are told
/// there is no OCI redirect and keep to the library flow.
pub async fn oci_redirect() -> Response {
    envelope(
        StatusCode::NOT_FOUND,
        "OCI redirect is not offered; use the library API",
    )
}

/// Any other `/v1/…`, `/v2/…` or `/api/…` path.
pub async fn not_found() -> Response {
    LibraryError(DomainError::not_found("endpoint")).into_response()
}
