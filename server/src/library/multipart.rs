//! The v2 multipart upload: start, per-part capability URLs, complete, abort.
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use silo_domain::names::Sha256Hex;
use silo_domain::DomainError;

use super::error::{parse_id, Caller, LibraryJson, LibraryResult};
use super::files::{body_stream, completion};
use super::wire::data;
use crate::state::AppState;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct StartBody {
    pub filesize: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct PartBody {
    pub part_size: i64,
    #[serde(rename = "uploadID", alias = "uploadId")]
    pub upload_id: String,
    pub part_number: i64,
    pub sha256sum: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct CompletedPart {
    pub part_number: i64,
    pub token: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct CompleteBody {
    #[serde(rename = "uploadID", alias = "uploadId")]
    pub upload_id: String,
    pub completed_parts: Vec<CompletedPart>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AbortBody {
    #[serde(rename = "uploadID", alias = "uploadId")]
    pub upload_id: String,
}

fn optional_sha(value: &str) -> LibraryResult<Option<Sha256Hex>> {
    match value.trim() {
        "" => Ok(None),
        hex => Ok(Some(Sha256Hex::parse(&hex.to_ascii_lowercase())?)),
    }
}

fn positive(name: &str, value: i64) -> LibraryResult<u64> {
    u64::try_from(value)
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| DomainError::invalid(format!("{name} must be a positive number")).into())
}

/// `POST /v2/imagefile/{id}/_multipart {"filesize"}`.
pub async fn start(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(image): Path<String>,
    LibraryJson(body): LibraryJson<StartBody>,
) -> LibraryResult<impl IntoResponse> {
    let image_id = parse_id("image", &image)?;
    let filesize = positive("filesize", body.filesize.unwrap_or(0))?;
    let preferred = state.config.library.multipart_part_size_mib * 1024 * 1024;
    let ticket = state
        .registry
        .begin_multipart(&actor, image_id, filesize, preferred)
        .await?;
    Ok(data(json!({
        "uploadID": ticket.session_id,
        "totalParts": ticket.total_parts,
        "partSize": ticket.part_size,
        "options": {"s3compliant": "true"},
    })))
}

/// `PUT /v2/imagefile/{id}/_multipart {"partSize","uploadID","partNumber","sha256sum"}`:
/// answers the URL for the part: the object store's presigned part URL when the store takes
/// parts directly, else Silo's capability URL.
pub async fn part_url(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(image): Path<String>,
    LibraryJson(body): LibraryJson<PartBody>,
) -> LibraryResult<impl IntoResponse> {
    let image_id = parse_id("image", &image)?;
    let number = positive("partNumber", body.part_number)?;
    let size = positive("partSize", body.part_size)?;
    let sha = optional_sha(&body.sha256sum)?;
    let store_url = state
        .registry
        .prepare_part(
            &actor,
            image_id,
            &body.upload_id,
            number,
            size,
            sha.as_ref(),
        )
        .await?;
    let url = store_url.unwrap_or_else(|| {
        format!(
            "{}/v2/imagefile/_upload/{}/{number}",
            state.public_url, body.upload_id
        )
    });
    Ok(data(json!({"presignedURL": url})))
}

/// `PUT /v2/imagefile/_upload/{session}/{part}`: one part's bytes; the URL is the credential.
/// Answers exactly 200 with the part's sha256 as `ETag`.
pub async fn receive_part(
    State(state): State<AppState>,
    Path((session, part)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> LibraryResult<Response> {
    let number: u64 = part
        .parse()
        .map_err(|_| DomainError::not_found(format!("upload part {part:?}")))?;
    let announced = match headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
    {
        Some(v) if v.len() == 64 => optional_sha(v)?,
        _ => None,
    };
    let sha = state
        .registry
        .receive_part(&session, number, body_stream(body), announced.as_ref())
        .await?;
    let mut response = StatusCode::OK.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{sha}\"")) {
        response.headers_mut().insert(header::ETAG, v);
    }
    Ok(response)
}

/// `PUT /v2/imagefile/{id}/_multipart_complete {"uploadID","completedParts"}`.
pub async fn complete(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(image): Path<String>,
    LibraryJson(body): LibraryJson<CompleteBody>,
) -> LibraryResult<impl IntoResponse> {
    let image_id = parse_id("image", &image)?;
    let parts: Vec<(u64, String)> = body
        .completed_parts
        .into_iter()
        .map(|p| (u64::try_from(p.part_number).unwrap_or(0), p.token))
        .collect();
    let view = state
        .registry
        .complete_multipart(&actor, image_id, &body.upload_id, &parts)
        .await?;
    completion(&state, &view).await
}

/// `PUT /v2/imagefile/{id}/_multipart_abort {"uploadID"}`.
pub async fn abort(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(image): Path<String>,
    LibraryJson(body): LibraryJson<AbortBody>,
) -> LibraryResult<impl IntoResponse> {
    let image_id = parse_id("image", &image)?;
    state
        .registry
        .abort_multipart(&actor, image_id, &body.upload_id)
        .await?;
    Ok(data(json!({})))
}
