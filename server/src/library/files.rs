//! Image bytes: the v2 capability upload, the legacy v1 upload, and downloads with ranges.
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use serde_json::json;
use silo_domain::names::{ImageRef, Sha256Hex};
use silo_domain::services::{Download, ImageView};
use silo_domain::store::{ByteRange, ByteStream};
use silo_domain::DomainError;

use super::error::{parse_id, Caller, LibraryJson, LibraryResult};
use super::images::ArchQuery;
use super::wire::{self, data};
use crate::config::DownloadMode;
use crate::headers::{content_length, requested_range};
use crate::state::AppState;

/// A request body as a byte stream for the blob store.
pub fn body_stream(body: Body) -> ByteStream {
    Box::pin(body.into_data_stream().map_err(std::io::Error::other))
}

/// `POST /v2/imagefile/{id}`: hands out a capability URL for the bytes.
pub async fn start_upload(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(image): Path<String>,
    LibraryJson(body): LibraryJson<wire::UploadRequest>,
) -> LibraryResult<impl IntoResponse> {
    let image_id = parse_id("image", &image)?;
    let size = body
        .filesize
        .and_then(|s| u64::try_from(s).ok())
        .ok_or_else(|| DomainError::invalid("filesize must be given and not negative"))?;
    let sha = match body.sha256sum.as_deref().filter(|s| !s.is_empty()) {
        Some(hex) => Some(Sha256Hex::parse(&hex.to_ascii_lowercase())?),
        None => None,
    };
    let ticket = state
        .registry
        .begin_upload(&actor, image_id, size, sha.as_ref())
        .await?;
    let url = format!(
        "{}/v2/imagefile/_upload/{}",
        state.public_url, ticket.session_id
    );
    Ok(data(json!({"uploadURL": url})))
}

/// `PUT /v2/imagefile/_upload/{session}`: the bytes; the session id is the credential.
pub async fn receive_upload(
    State(state): State<AppState>,
    Path(session): Path<String>,
    body: Body,
) -> LibraryResult<Response> {
    state
        .registry
        .receive_upload(&session, body_stream(body))
        .await?;
    Ok(StatusCode::OK.into_response())
}

/// `PUT /v2/imagefile/{id}/_complete`.
pub async fn complete_upload(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(image): Path<String>,
) -> LibraryResult<impl IntoResponse> {
    let view = state
        .registry
        .complete_upload(&actor, parse_id("image", &image)?)
        .await?;
    completion(&state, &view).await
}

/// The answer to a finished upload: quota use and the container's web page.
pub async fn completion(
    state: &AppState,
    view: &ImageView,
) -> LibraryResult<axum::Json<wire::Data<serde_json::Value>>> {
    let usage = state.registry.entity_usage(view.owner.entity.id).await?;
    Ok(data(json!({
        "quota": {"quotaTotal": view.owner.entity.quota, "quotaUsage": usage},
        "containerUrl": format!("c/{}", view.owner.path()),
    })))
}

/// `POST /v1/imagefile/{id}`: the legacy single-request upload.
pub async fn legacy_upload(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(image): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> LibraryResult<impl IntoResponse> {
    let image_id = parse_id("image", &image)?;
    let size = content_length(&headers);
    state
        .registry
        .upload_direct(&actor, image_id, body_stream(body), size)
        .await?;
    Ok(data(json!({"id": image_id.to_string(), "uploaded": true})))
}

/// The request's byte range; a malformed one is a 400.
pub fn parse_range(headers: &HeaderMap) -> LibraryResult<Option<ByteRange>> {
    Ok(requested_range(headers).map_err(DomainError::invalid)?)
}

/// `GET /v1/imagefile/{ref}?arch=`: the image bytes, whole (200) or a range (206); or, in
/// redirect mode, 303 to a signed download URL.
pub async fn download(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(reference): Path<String>,
    Query(query): Query<ArchQuery>,
    method: Method,
    client: crate::edge::proxy::ClientAddress,
    headers: HeaderMap,
) -> LibraryResult<Response> {
    if method == Method::GET {
        if let Err(refusal) = state.edge.requests.check_pull(&actor, client).await {
            return Ok(refusal.library_response());
        }
    }
    let reference = ImageRef::parse(&reference)?;
    let arch = query.arch.as_deref();
    let mode = state.config.library.download_mode;
    if mode != DownloadMode::Stream {
        let store_url = state
            .registry
            .store_download_url(&actor, &reference, arch, "library")
            .await?;
        if let Some(url) = store_url {
            return Ok(see_other(&url));
        }
    }
    if mode == DownloadMode::Redirect {
        let (_, token) = state
            .registry
            .download_redirect(&actor, &reference, arch, "library")
            .await?;
        return Ok(see_other(&format!("{}/download/{token}", state.public_url)));
    }
    let range = parse_range(&headers)?;
    let record = method == Method::GET && range.is_none_or(|r| r.first == 0);
    let download = state
        .registry
        .download(&actor, &reference, arch, range, "library", record)
        .await?;
    Ok(blob_response(download))
}

/// 303 to `location`.
fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// `GET /download/{token}`: the bytes a signed download capability grants, with ranges.
/// Only a GET of the whole file counts as a download (ranged fetches follow a counted 303).
pub async fn download_granted(
    State(state): State<AppState>,
    Path(token): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> LibraryResult<Response> {
    let range = parse_range(&headers)?;
    let record = method == Method::GET && range.is_none();
    let download = state
        .registry
        .download_granted(&token, range, record)
        .await?;
    Ok(blob_response(download))
}

/// A 200 or 206 response streaming an opened blob.
pub fn blob_response(download: Download) -> Response {
    let reader = download.reader;
    let image = &download.view.image;
    let filename = format!(
        "{}_{}.sif",
        download.view.owner.container.name, image.sha256
    );
    let mut response = Response::new(Body::from_stream(reader.stream));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let mut insert = |name: header::HeaderName, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    };
    insert(header::ETAG, format!("\"sha256:{}\"", image.sha256));
    insert(
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"{filename}\""),
    );
    match reader.range {
        Some((first, last)) => {
            insert(header::CONTENT_LENGTH, (last - first + 1).to_string());
            insert(
                header::CONTENT_RANGE,
                format!("bytes {first}-{last}/{}", reader.total_size),
            );
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        }
        None => insert(header::CONTENT_LENGTH, reader.total_size.to_string()),
    }
    response
}
