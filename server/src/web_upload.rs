//! `POST /web/upload`: the web interface's image upload. The browser sends the SIF file as
//! the raw request body (with its `Content-Length`) and the target in the query string:
//! `?entity=&collection=&container=&tag=&private=`. The body streams into the domain's
//! upload path (hashed on the way, inspected as SIF, committed atomically); it is never held
//! in memory. Authenticated by the session cookie (same-origin rule, see `session.rs`) or a
//! bearer token. Errors use the `{"error":{"code","message"}}` envelope.
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use silo_domain::names::ContainerPath;
use silo_domain::services::WebUpload;
use silo_domain::{Actor, DomainError};

use crate::headers::content_length;
use crate::library::body_stream;
use crate::library::error::{envelope, LibraryError};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/web/upload", post(upload))
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::map_response(
            crate::edge::envelopes::library,
        ))
}

#[derive(Deserialize)]
struct Target {
    entity: String,
    collection: String,
    container: String,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    private: Option<bool>,
}

async fn upload(
    State(state): State<AppState>,
    query: Result<Query<Target>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match receive(&state, query, &headers, body).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

async fn receive(
    state: &AppState,
    query: Result<Query<Target>, QueryRejection>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, LibraryError> {
    let caller = crate::session::web_caller(state, headers, true).await?;
    if caller.actor == Actor::Anonymous {
        return Err(DomainError::Unauthenticated.into());
    }
    let Query(target) = query.map_err(|_| {
        DomainError::invalid("give entity, collection, container and tag in the query string")
    })?;
    let path = ContainerPath::new(&target.entity, &target.collection, &target.container)?;
    let tag = target
        .tag
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "latest".into());
    let Some(size) = content_length(headers) else {
        return Ok(envelope(
            StatusCode::LENGTH_REQUIRED,
            "the upload needs a Content-Length",
        ));
    };
    let max_mib = state.config.web.upload_max_mib;
    if size > max_mib.saturating_mul(1024 * 1024) {
        return Ok(envelope(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the image is too large: this registry accepts uploads up to {max_mib} MiB from the web interface"),
        ));
    }
    if size == 0 {
        return Err(DomainError::invalid("the file is empty").into());
    }
    let upload = WebUpload {
        path,
        tag: tag.clone(),
        private: target.private.unwrap_or(false),
        size,
    };
    let view = state
        .registry
        .upload_from_browser(&caller.actor, upload, body_stream(body))
        .await?;
    let path = view.owner.path();
    let done = app::model::session::UploadDone {
        href: format!("/c/{path}"),
        path,
        tag,
        sha256: view.image.sha256.clone(),
        size: u64::try_from(view.image.size).unwrap_or(0),
    };
    Ok((StatusCode::CREATED, axum::Json(done)).into_response())
}
