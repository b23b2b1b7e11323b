//! Share links over HTTP. The link itself, `/share/<secret>`, is a page of the SPA (it asks
//! the `shared` server function); this module serves what clients fetch with it:
//!
//! - `GET /share/<secret>/download[?tag=latest][&arch=amd64]`: the image bytes (ranges
//!   supported), for `curl -fLOJ` and the page's download button. Errors use the REST API's
//!   envelope `{"error":{"code":…,"message":…}}`.
//! - `shub://<host>/share/<secret>[:tag]`: Apptainer's shub client asks for
//!   `GET /api/container/share/<secret>:<tag>`, which `crate::shub` hands to [`shub_manifest`].
//!
//! The secret resolves to [`silo_domain::Actor::Share`], which the domain lets read exactly
//! the shared container; unknown, expired and revoked links are 404.
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use silo_domain::names::{validate_tag, ContainerPath, ImageRef, Version, DEFAULT_TAG};
use silo_domain::services::is_share_secret;
use silo_domain::DomainError;

use crate::library::{blob_response, parse_range};
use crate::rest::error::RestResult;
use crate::sregistry::error::SregistryResult;
use crate::sregistry::{spelling, LegacyRef};
use crate::state::AppState;

/// The first segment of share names in `shub://<host>/share/<secret>`.
pub const SHUB_SHARE_SEGMENT: &str = "share";

pub fn routes() -> Router<AppState> {
    Router::new().route("/share/{secret}/download", get(download))
}

#[derive(Debug, Default, Deserialize)]
pub struct DownloadQuery {
    pub tag: Option<String>,
    pub arch: Option<String>,
}

/// `GET /share/<secret>/download`: streams the shared container's image for `tag` (default
/// `latest`) and `arch` (default: amd64, else the tag's only arch). A GET of the whole file
/// counts as a download (protocol `share`).
async fn download(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    query: Result<Query<DownloadQuery>, axum::extract::rejection::QueryRejection>,
    method: Method,
    headers: HeaderMap,
) -> RestResult<Response> {
    let Query(query) = query?;
    let tag = query.tag.unwrap_or_else(|| DEFAULT_TAG.to_string());
    validate_tag(&tag)?;
    let (actor, view) = state.registry.shared_container(&secret).await?;
    let reference = ImageRef {
        path: container_path(&view)?,
        version: Version::Tag(tag),
    };
    let range = parse_range(&headers).map_err(|e| e.0)?;
    let record = method == Method::GET && range.is_none_or(|r| r.first == 0);
    let download = state
        .registry
        .download(
            &actor,
            &reference,
            query.arch.as_deref(),
            range,
            "share",
            record,
        )
        .await?;
    Ok(blob_response(download))
}

fn container_path(
    view: &silo_domain::services::ContainerView,
) -> Result<ContainerPath, DomainError> {
    ContainerPath::new(
        &view.entity.name,
        &view.collection.name,
        &view.container.name,
    )
}

/// The `<secret>[:tag][@version]` of a shub name `share/<secret>…`, when the name is a share
/// link's (other names under `share/` stay the default entity's collection `share`).
pub fn shub_share_name(reference: &str) -> Option<&str> {
    let rest = reference
        .strip_prefix(SHUB_SHARE_SEGMENT)?
        .strip_prefix('/')?;
    let secret = rest.split([':', '@']).next().unwrap_or(rest);
    is_share_secret(secret).then_some(rest)
}

/// `GET /api/container/share/<secret>[:tag][@version]` (the shub client's request for
/// `shub://<host>/share/<secret>`): the manifest of the shared container's image, whose
/// `image` URL is a signed download capability like every shub manifest's.
pub async fn shub_manifest(state: &AppState, rest: &str) -> SregistryResult<Response> {
    let (rest, version) = match rest.rsplit_once('@') {
        Some((rest, v)) => (rest, Some(v.to_string())),
        None => (rest, None),
    };
    let (secret, tag) = match rest.split_once(':') {
        Some((secret, tag)) => (secret, Some(tag.to_string())),
        None => (rest, None),
    };
    if let Some(tag) = &tag {
        validate_tag(tag)?;
    }
    let (actor, view) = state.registry.shared_container(secret).await?;
    let path = container_path(&view)?;
    let reference = LegacyRef {
        collection: spelling(&path.entity, &path.collection),
        path,
        tag,
        version,
    };
    crate::shub::render(state, &actor, &reference, "shub").await
}
