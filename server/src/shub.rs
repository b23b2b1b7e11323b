//! `shub://` manifests, as Apptainer's shub client requests them, on the endpoint the
//! sregistry client's pull shares:
//!
//! - `shub://host/E/C/N:tag` → `GET /E/api/container/C/N:tag` (Silo's full name `E/C/N`);
//! - `shub://host/C/N:tag` → `GET /api/container/C/N:tag` (`default/C/N`, like library
//!   short references); the sregistry client's full form `E/C/N` arrives here too.
//!
//! `:tag` defaults to `latest`; `@<version>` selects an image by 32 to 64 hex digits of its
//! sha256 (the shub client accepts 32 or 40) and wins over the tag. The answer is a flat
//! JSON object with `image` (an absolute, credential-free download URL), `name`, `tag`,
//! `version` and `commit` (both the sha256 hex: the shub client's cache key), plus the
//! sregistry fields (`collection`, `id`, …). Private images are served only to a signed or
//! bearer-authenticated reader, or through a share link: `shub://host/share/<secret>`
//! (`GET /api/container/share/<secret>:tag`, see `crate::share`).
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use silo_domain::names::{validate_segment, ImageRef, Version};
use silo_domain::services::ImageView;
use silo_domain::{Actor, DomainError};

use crate::sregistry::auth::{self, Claim};
use crate::sregistry::error::{SregistryError, SregistryResult};
use crate::sregistry::{download_url, spelling, LegacyRef};
use crate::state::AppState;

/// `GET /api/container/[E/]C/N[:tag][@version]`, for the shub and sregistry clients. An
/// unsigned request for something it cannot see gets 403 (whether it exists or not), which
/// is what makes the sregistry client retry with a signature.
pub async fn manifest(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    client: crate::edge::proxy::ClientAddress,
    headers: HeaderMap,
) -> SregistryResult<Response> {
    if let Some(shared) = crate::share::shub_share_name(&reference) {
        return crate::share::shub_manifest(&state, shared).await;
    }
    let reference = LegacyRef::parse(&reference)?;
    let signed = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with(auth::SCHEME));
    let from_sregistry = signed
        || headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ua| ua.starts_with("python-requests"));
    let protocol = if from_sregistry { "sregistry" } else { "shub" };
    let name = reference.path.container.clone();
    let claim = Claim {
        kind: "pull",
        collections: vec![reference.collection.clone()],
        name: &name,
        tag: reference.tag_or_default(),
    };
    let actor = auth::actor(&state, &headers, Some(&claim)).await?;
    if let Err(refusal) = state.edge.requests.check_pull(&actor, client).await {
        return Ok(refusal.sregistry_response());
    }
    match render(&state, &actor, &reference, protocol).await {
        Err(SregistryError(DomainError::NotFound(what))) if actor == Actor::Anonymous => {
            Err(DomainError::forbidden(format!(
                "{what}, or private: sign the request to pull private images"
            ))
            .into())
        }
        other => other,
    }
}

/// `GET /E/api/container/C/N[:tag][@version]`: the shub client's form of `shub://host/E/C/N`.
pub async fn manifest_in_entity(
    State(state): State<AppState>,
    Path((entity, reference)): Path<(String, String)>,
    client: crate::edge::proxy::ClientAddress,
    headers: HeaderMap,
) -> SregistryResult<Response> {
    validate_segment("entity", &entity)?;
    let mut reference = LegacyRef::parse(&reference)?;
    if reference.collection.contains('/') {
        return Err(DomainError::invalid(
            "expected /<entity>/api/container/<collection>/<container>[:tag][@version]",
        )
        .into());
    }
    reference.path.entity = entity;
    reference.collection = spelling(&reference.path.entity, &reference.path.collection);
    let actor = state.actor(&headers).await?;
    if let Err(refusal) = state.edge.requests.check_pull(&actor, client).await {
        return Ok(refusal.sregistry_response());
    }
    render(&state, &actor, &reference, "shub").await
}

async fn find(
    state: &AppState,
    actor: &Actor,
    reference: &LegacyRef,
) -> Result<ImageView, DomainError> {
    match &reference.version {
        Some(version) => {
            let hex = version
                .trim_start_matches("sha256.")
                .trim_start_matches("sha256:")
                .to_ascii_lowercase();
            state
                .registry
                .image_by_digest_prefix(actor, &reference.path, &hex)
                .await
        }
        None => {
            let image_ref = ImageRef {
                path: reference.path.clone(),
                version: Version::Tag(reference.tag_or_default().to_string()),
            };
            let details = state
                .registry
                .image_details(actor, &image_ref, None)
                .await?;
            Ok(details.view.clone())
        }
    }
}

pub(crate) async fn render(
    state: &AppState,
    actor: &Actor,
    reference: &LegacyRef,
    protocol: &str,
) -> SregistryResult<Response> {
    let view = find(state, actor, reference).await?;
    let url = download_url(state, actor, &view, protocol).await?;
    let tag = match (&reference.version, &reference.tag) {
        (None, _) => reference.tag_or_default().to_string(),
        (Some(_), Some(t)) => t.clone(),
        (Some(_), None) => view
            .tags
            .first()
            .map(|t| t.name.clone())
            .unwrap_or_default(),
    };
    let image = &view.image;
    let container = &view.owner.container.name;
    Ok(axum::Json(json!({
        "id": image.id,
        "image": url,
        "name": container,
        "tag": tag,
        "version": image.sha256,
        "commit": image.sha256,
        "collection": reference.collection,
        "entity": view.owner.entity.name,
        "uri": format!("{}/{container}:{tag}", reference.collection),
        "arch": image.arch,
        "size": image.size,
        "add_date": image.created_at,
        "frozen": false,
        "metadata": {"size_mb": image.size as f64 / (1024.0 * 1024.0), "sha256": image.sha256},
    }))
    .into_response())
}
