//! Blob endpoints: `HEAD|GET|DELETE /v2/<name>/blobs/<digest>` and the upload session
//! endpoints under `/v2/<name>/blobs/uploads/`.
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use serde::Deserialize;
use silo_domain::services::oci::{parse_digest, OciCode};
use silo_domain::store::ByteStream;
use silo_domain::DomainError;

use super::auth::authorize;
use super::error::OciResult;
use crate::headers::{content_length, requested_range};
use crate::state::AppState;

type Repo = (String, String, String);

fn stream(body: Body) -> ByteStream {
    Box::pin(body.into_data_stream().map_err(std::io::Error::other))
}

fn set(response: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, v);
    }
}

/// `HEAD|GET /v2/<name>/blobs/<digest>`.
pub async fn get(
    State(state): State<AppState>,
    Path((e, c, n, digest)): Path<(String, String, String, String)>,
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
    let sha = parse_digest(&digest).map_err(|e| access.fail(e))?;
    let registry = &state.registry;
    let mut response = if method == Method::HEAD {
        let size = registry
            .oci_blob_size(&access.actor, &access.path, &sha)
            .await
            .map_err(|e| access.fail(e))?;
        let mut r = StatusCode::OK.into_response();
        set(&mut r, "content-length", &size.to_string());
        r
    } else {
        // Malformed ranges are ignored here: the blob is served whole.
        let range = requested_range(&headers).ok().flatten();
        let store_url = registry
            .oci_blob_redirect(&access.actor, &access.path, &sha, range.is_none())
            .await
            .map_err(|e| access.fail(e))?;
        if let Some(url) = store_url {
            // The store serves the bytes (and any range) itself.
            let mut r = StatusCode::TEMPORARY_REDIRECT.into_response();
            set(&mut r, "location", &url);
            set(&mut r, "docker-content-digest", &format!("sha256:{sha}"));
            return Ok(r);
        }
        let reader = registry
            .oci_open_blob(&access.actor, &access.path, &sha, range, range.is_none())
            .await
            .map_err(|e| access.fail(e))?;
        let mut r = Response::new(Body::from_stream(reader.stream));
        match reader.range {
            Some((first, last)) => {
                *r.status_mut() = StatusCode::PARTIAL_CONTENT;
                set(&mut r, "content-length", &(last - first + 1).to_string());
                let total = reader.total_size;
                set(
                    &mut r,
                    "content-range",
                    &format!("bytes {first}-{last}/{total}"),
                );
            }
            None => set(&mut r, "content-length", &reader.total_size.to_string()),
        }
        r
    };
    set(&mut response, "content-type", "application/octet-stream");
    set(
        &mut response,
        "docker-content-digest",
        &format!("sha256:{sha}"),
    );
    set(&mut response, "accept-ranges", "bytes");
    Ok(response)
}

/// `DELETE /v2/<name>/blobs/<digest>` → 202.
pub async fn delete(
    State(state): State<AppState>,
    Path((e, c, n, digest)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> OciResult<Response> {
    let access = authorize(&state, &headers, (&e, &c, &n), "push").await?;
    let sha = parse_digest(&digest).map_err(|e| access.fail(e))?;
    state
        .registry
        .oci_delete_blob(&access.actor, &access.path, &sha)
        .await
        .map_err(|e| access.fail(e))?;
    Ok(StatusCode::ACCEPTED.into_response())
}

#[derive(Deserialize)]
pub struct StartQuery {
    digest: Option<String>,
    mount: Option<String>,
    from: Option<String>,
}

fn created(name: &str, sha: &str) -> Response {
    let mut r = StatusCode::CREATED.into_response();
    set(
        &mut r,
        "location",
        &format!("/v2/{name}/blobs/sha256:{sha}"),
    );
    set(&mut r, "docker-content-digest", &format!("sha256:{sha}"));
    set(&mut r, "content-length", "0");
    r
}

fn upload_response(status: StatusCode, name: &str, id: &str, received: u64) -> Response {
    let mut r = status.into_response();
    set(
        &mut r,
        "location",
        &format!("/v2/{name}/blobs/uploads/{id}"),
    );
    set(
        &mut r,
        "range",
        &format!("0-{}", received.saturating_sub(1)),
    );
    set(&mut r, "docker-upload-uuid", id);
    set(&mut r, "content-length", "0");
    r
}

/// `POST /v2/<name>/blobs/uploads/[?digest=|?mount=&from=]`: a monolithic upload (201), a
/// mount (201) or a new session (202).
pub async fn start(
    State(state): State<AppState>,
    Path((e, c, n)): Path<Repo>,
    Query(query): Query<StartQuery>,
    headers: HeaderMap,
    body: Body,
) -> OciResult<Response> {
    let access = authorize(&state, &headers, (&e, &c, &n), "push").await?;
    let registry = &state.registry;
    let fail = |e| access.fail(e);
    if let (Some(mount), Some(from)) = (&query.mount, &query.from) {
        let sha = parse_digest(mount).map_err(fail)?;
        let from = silo_domain::services::oci::parse_repository(from).map_err(fail)?;
        let mounted = registry
            .oci_mount_blob(&access.actor, &access.path, &sha, &from)
            .await
            .map_err(fail)?;
        if mounted {
            return Ok(created(&access.name, sha.as_str()));
        }
    } else if let Some(digest) = &query.digest {
        let sha = parse_digest(digest).map_err(fail)?;
        registry
            .oci_put_blob(
                &access.actor,
                &access.path,
                &sha,
                stream(body),
                content_length(&headers),
            )
            .await
            .map_err(fail)?;
        return Ok(created(&access.name, sha.as_str()));
    }
    let id = registry
        .oci_start_upload(&access.actor, &access.path)
        .await
        .map_err(fail)?;
    Ok(upload_response(StatusCode::ACCEPTED, &access.name, &id, 0))
}

/// The start offset of `Content-Range: [bytes=]<start>-<end>`.
fn content_range_start(headers: &HeaderMap) -> Result<Option<u64>, DomainError> {
    let Some(value) = headers.get(header::CONTENT_RANGE) else {
        return Ok(None);
    };
    let bad = || OciCode::BlobUploadInvalid.err("malformed Content-Range");
    let text = value.to_str().map_err(|_| bad())?;
    let (start, _end) = silo_domain::headers::parse_content_range(text).ok_or_else(bad)?;
    Ok(Some(start))
}

/// `PATCH /v2/<name>/blobs/uploads/<id>`: the next chunk, in order → 202.
pub async fn patch(
    State(state): State<AppState>,
    Path((e, c, n, id)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> OciResult<Response> {
    let access = authorize(&state, &headers, (&e, &c, &n), "push").await?;
    let offset = content_range_start(&headers).map_err(|e| access.fail(e))?;
    let received = state
        .registry
        .oci_append_upload(&access.actor, &access.path, &id, offset, stream(body))
        .await
        .map_err(|e| access.fail(e))?;
    Ok(upload_response(
        StatusCode::ACCEPTED,
        &access.name,
        &id,
        received,
    ))
}

#[derive(Deserialize)]
pub struct FinishQuery {
    digest: Option<String>,
}

/// `PUT /v2/<name>/blobs/uploads/<id>?digest=`: the last chunk (maybe empty) → 201.
pub async fn finish(
    State(state): State<AppState>,
    Path((e, c, n, id)): Path<(String, String, String, String)>,
    Query(query): Query<FinishQuery>,
    headers: HeaderMap,
    body: Body,
) -> OciResult<Response> {
    let access = authorize(&state, &headers, (&e, &c, &n), "push").await?;
    let digest = query.digest.ok_or_else(|| {
        access.fail(OciCode::DigestInvalid.err("the digest parameter is missing"))
    })?;
    let sha = parse_digest(&digest).map_err(|e| access.fail(e))?;
    state
        .registry
        .oci_finish_upload(&access.actor, &access.path, &id, &sha, Some(stream(body)))
        .await
        .map_err(|e| access.fail(e))?;
    Ok(created(&access.name, sha.as_str()))
}

/// `GET /v2/<name>/blobs/uploads/<id>` → 204 with `Range`.
pub async fn status(
    State(state): State<AppState>,
    Path((e, c, n, id)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> OciResult<Response> {
    let access = authorize(&state, &headers, (&e, &c, &n), "push").await?;
    let received = state
        .registry
        .oci_upload_status(&access.actor, &access.path, &id)
        .await
        .map_err(|e| access.fail(e))?;
    Ok(upload_response(
        StatusCode::NO_CONTENT,
        &access.name,
        &id,
        received,
    ))
}

/// `DELETE /v2/<name>/blobs/uploads/<id>` → 204.
pub async fn cancel(
    State(state): State<AppState>,
    Path((e, c, n, id)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> OciResult<Response> {
    let access = authorize(&state, &headers, (&e, &c, &n), "push").await?;
    state
        .registry
        .oci_cancel_upload(&access.actor, &access.path, &id)
        .await
        .map_err(|e| access.fail(e))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
