//! Manifest endpoints, tag listing, the catalog and the referrers API.
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use silo_domain::services::oci::{parse_digest, ManifestRules, OciCode, Reference, OCI_INDEX};

use super::auth::{authorize, caller};
use super::error::OciResult;
use crate::state::AppState;

type RepoRef = (String, String, String, String);

fn set(response: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, v);
    }
}

/// `HEAD|GET /v2/<name>/manifests/<reference>`.
pub async fn get(
    State(state): State<AppState>,
    Path((e, c, n, reference)): Path<RepoRef>,
    method: Method,
    client: crate::edge::proxy::ClientAddress,
    headers: HeaderMap,
) -> OciResult<Response> {
    let access = authorize(&state, &headers, (&e, &c, &n), "pull").await?;
    if method == Method::GET {
        if let Err(refusal) = state.edge.requests.check_pull(&access.actor, client).await {
            return Ok(refusal.oci_response());
        }
    }
    let reference = Reference::parse(&reference).map_err(|e| access.fail(e))?;
    let manifest = state
        .registry
        .oci_get_manifest(&access.actor, &access.path, &reference)
        .await
        .map_err(|e| access.fail(e))?;
    let length = manifest.content.len().to_string();
    let mut response = if method == Method::HEAD {
        StatusCode::OK.into_response()
    } else {
        Response::new(Body::from(manifest.content))
    };
    set(&mut response, "content-type", &manifest.media_type);
    set(&mut response, "content-length", &length);
    let digest = format!("sha256:{}", manifest.digest);
    set(&mut response, "docker-content-digest", &digest);
    set(&mut response, "etag", &format!("\"{digest}\""));
    Ok(response)
}

/// `PUT /v2/<name>/manifests/<reference>` → 201.
pub async fn put(
    State(state): State<AppState>,
    Path((e, c, n, reference)): Path<RepoRef>,
    headers: HeaderMap,
    body: Body,
) -> OciResult<Response> {
    let access = authorize(&state, &headers, (&e, &c, &n), "push").await?;
    let reference = Reference::parse(&reference).map_err(|e| access.fail(e))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_string())
        .filter(|v| !v.is_empty());
    let limit = state.config.limits.oci_manifest_bytes();
    let bytes = match crate::edge::limits::read_small_body(body, limit).await {
        Ok(bytes) => bytes,
        Err(err @ crate::edge::limits::BodyError::TooLarge { .. }) => {
            // The distribution spec: a registry refusing a manifest for its size answers 413.
            let body = serde_json::json!({"errors": [{
                "code": OciCode::ManifestInvalid.as_str(),
                "message": format!("manifest {err}"),
                "detail": null,
            }]});
            return Ok((StatusCode::PAYLOAD_TOO_LARGE, axum::Json(body)).into_response());
        }
        Err(err) => return Err(access.fail(OciCode::ManifestInvalid.err(err.to_string()))),
    };
    let rules = ManifestRules {
        allowed_media_types: state.config.oci.allowed_media_types.clone(),
    };
    let pushed = state
        .registry
        .oci_put_manifest(
            &access.actor,
            &access.path,
            &reference,
            content_type.as_deref(),
            &bytes,
            &rules,
        )
        .await
        .map_err(|e| access.fail(e))?;
    let mut response = StatusCode::CREATED.into_response();
    let digest = format!("sha256:{}", pushed.digest);
    set(
        &mut response,
        "location",
        &format!("/v2/{}/manifests/{digest}", access.name),
    );
    set(&mut response, "docker-content-digest", &digest);
    if let Some(subject) = pushed.subject {
        set(&mut response, "oci-subject", &format!("sha256:{subject}"));
    }
    Ok(response)
}

/// `DELETE /v2/<name>/manifests/<reference>` → 202.
pub async fn delete(
    State(state): State<AppState>,
    Path((e, c, n, reference)): Path<RepoRef>,
    headers: HeaderMap,
) -> OciResult<Response> {
    let access = authorize(&state, &headers, (&e, &c, &n), "push").await?;
    let reference = Reference::parse(&reference).map_err(|e| access.fail(e))?;
    state
        .registry
        .oci_delete_manifest(&access.actor, &access.path, &reference)
        .await
        .map_err(|e| access.fail(e))?;
    Ok(StatusCode::ACCEPTED.into_response())
}

#[derive(Deserialize)]
pub struct PageQuery {
    n: Option<String>,
    last: Option<String>,
}

impl PageQuery {
    fn n(&self) -> OciResult<Option<usize>> {
        match self.n.as_deref().filter(|n| !n.is_empty()) {
            None => Ok(None),
            Some(n) => n.parse().map(Some).map_err(|_| {
                silo_domain::DomainError::invalid(format!("n = {n:?}: expected a number")).into()
            }),
        }
    }
}

fn link(response: &mut Response, base: &str, n: Option<usize>, last: Option<&String>) {
    if let (Some(n), Some(last)) = (n, last) {
        let last: String = url::form_urlencoded::byte_serialize(last.as_bytes()).collect();
        set(
            response,
            "link",
            &format!("<{base}?n={n}&last={last}>; rel=\"next\""),
        );
    }
}

/// `GET /v2/<name>/tags/list[?n=&last=]`, with a `Link` to the next page.
pub async fn tags(
    State(state): State<AppState>,
    Path((e, c, n)): Path<(String, String, String)>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> OciResult<Response> {
    let access = authorize(&state, &headers, (&e, &c, &n), "pull").await?;
    let page = query.n()?;
    let (tags, more) = state
        .registry
        .oci_tags(&access.actor, &access.path, page, query.last.as_deref())
        .await
        .map_err(|e| access.fail(e))?;
    let next = more.then(|| tags.last()).flatten();
    let body = serde_json::json!({"name": access.name, "tags": tags});
    let mut response = axum::Json(body).into_response();
    link(
        &mut response,
        &format!("/v2/{}/tags/list", access.name),
        page,
        next,
    );
    Ok(response)
}

/// `GET /v2/_catalog[?n=&last=]`: the repositories the caller may read.
pub async fn catalog(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> OciResult<Response> {
    let actor = caller(&state, &headers).await?;
    let page = query.n()?;
    let (names, more) = state
        .registry
        .oci_catalog(&actor, page, query.last.as_deref())
        .await?;
    let next = more.then(|| names.last()).flatten();
    let mut response = axum::Json(serde_json::json!({"repositories": names})).into_response();
    link(&mut response, "/v2/_catalog", page, next);
    Ok(response)
}

#[derive(Deserialize)]
pub struct ReferrersQuery {
    #[serde(rename = "artifactType")]
    artifact_type: Option<String>,
}

/// `GET /v2/<name>/referrers/<digest>[?artifactType=]`: an image index, empty when none.
pub async fn referrers(
    State(state): State<AppState>,
    Path((e, c, n, digest)): Path<RepoRef>,
    Query(query): Query<ReferrersQuery>,
    headers: HeaderMap,
) -> OciResult<Response> {
    let access = authorize(&state, &headers, (&e, &c, &n), "pull").await?;
    let subject = parse_digest(&digest).map_err(|e| access.fail(e))?;
    let filter = query.artifact_type.as_deref().filter(|a| !a.is_empty());
    let index = state
        .registry
        .oci_referrers(&access.actor, &access.path, &subject, filter)
        .await
        .map_err(|e| access.fail(e))?;
    let mut response = axum::Json(index).into_response();
    set(&mut response, "content-type", OCI_INDEX);
    if filter.is_some() {
        set(&mut response, "oci-filters-applied", "artifactType");
    }
    Ok(response)
}
