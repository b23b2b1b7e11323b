//! Push (two steps), and delete.
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use serde::Deserialize;
use serde_json::json;
use silo_domain::names::{ContainerPath, ImageRef, Version};
use silo_domain::DomainError;

use super::auth::{self, Claim};
use super::error::{SregistryError, SregistryResult};
use super::{parse_collection, spelling, LegacyRef};
use crate::state::AppState;

/// Largest text field of the upload form.
const MAX_FIELD: usize = 4096;

#[derive(Deserialize)]
pub struct PushRequest {
    collection: String,
    name: String,
    #[serde(default)]
    tag: Option<String>,
}

fn claim<'a>(
    kind: &'a str,
    path: &ContainerPath,
    spelt: &str,
    name: &'a str,
    tag: &'a str,
) -> Claim<'a> {
    let canonical = spelling(&path.entity, &path.collection);
    let mut collections = vec![spelt.to_string()];
    if canonical != spelt {
        collections.push(canonical);
    }
    Claim {
        kind,
        collections,
        name,
        tag,
    }
}

fn require_signed(headers: &HeaderMap) -> Result<&str, DomainError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(DomainError::Unauthenticated)
}

/// `POST /api/upload/chunked_upload` `{"collection","name","tag"}`, signed `push`: checks
/// that the signer may push there and answers `{"cid": <collection as the client spells
/// it>}`, which the client sends back as the upload's `collection` field. Creates nothing.
pub async fn start_push(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> SregistryResult<Response> {
    let limit = state.config.limits.json_body_bytes();
    let body = match crate::edge::limits::read_small_body(body, limit).await {
        Ok(body) => body,
        Err(err) => {
            let detail = serde_json::json!({"detail": err.to_string()});
            return Ok((err.status(), axum::Json(detail)).into_response());
        }
    };
    let request: PushRequest = serde_json::from_slice(&body)
        .map_err(|e| DomainError::invalid(format!("malformed JSON body: {e}")))?;
    let tag = request.tag.unwrap_or_else(|| "latest".into());
    let (entity, collection) = parse_collection(&request.collection)?;
    let path = ContainerPath::new(&entity, &collection, &request.name)?;
    let value = require_signed(&headers)?;
    let claim = claim("push", &path, &request.collection, &request.name, &tag);
    let actor = auth::verify(&state, value, Some(&claim)).await?;
    silo_domain::names::validate_tag(&tag)?;
    state.registry.check_push(&actor, &path).await?;
    Ok(axum::Json(json!({"cid": request.collection})).into_response())
}

/// Text fields of the upload form, read before the file.
#[derive(Default)]
struct UploadFields {
    event: Option<String>,
    name: Option<String>,
    collection: Option<String>,
    tag: Option<String>,
}

/// `POST /upload`: multipart `SREGISTRY_EVENT`, `name`, `collection`, `tag`, then `file1`,
/// signed `upload`. The file streams into the blob store; its sha256 becomes the version.
pub async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> SregistryResult<Response> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| DomainError::invalid("expected a multipart/form-data body"))?;
    let mut form = multer::Multipart::new(body.into_data_stream(), boundary);
    let mut fields = UploadFields::default();
    loop {
        let field = form
            .next_field()
            .await
            .map_err(|e| DomainError::invalid(format!("malformed multipart body: {e}")))?
            .ok_or_else(|| DomainError::invalid("the form has no file1 field"))?;
        let name = field.name().unwrap_or_default().to_string();
        if name == "file1" {
            let view = receive(&state, &headers, &fields, field).await?;
            let message = format!("Upload Complete: {}:{}", view.0, view.1);
            return Ok(axum::Json(json!({"message": message})).into_response());
        }
        let slot = match name.as_str() {
            "SREGISTRY_EVENT" => &mut fields.event,
            "name" => &mut fields.name,
            "collection" => &mut fields.collection,
            "tag" => &mut fields.tag,
            _ => continue,
        };
        let mut text = Vec::new();
        let mut field = field;
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| DomainError::invalid(format!("malformed multipart body: {e}")))?
        {
            text.extend_from_slice(&chunk);
            if text.len() > MAX_FIELD {
                return Err(DomainError::invalid(format!("form field {name} is too long")).into());
            }
        }
        *slot = Some(
            String::from_utf8(text)
                .map_err(|_| DomainError::invalid(format!("form field {name} is not UTF-8")))?,
        );
    }
}

async fn receive(
    state: &AppState,
    headers: &HeaderMap,
    fields: &UploadFields,
    file: multer::Field<'static>,
) -> Result<(String, String), SregistryError> {
    let missing = |f: &str| DomainError::invalid(format!("form field {f} must come before file1"));
    let name = fields.name.as_deref().ok_or_else(|| missing("name"))?;
    let spelt = fields
        .collection
        .as_deref()
        .ok_or_else(|| missing("collection"))?;
    let tag = fields.tag.as_deref().unwrap_or("latest");
    let (entity, collection) = parse_collection(spelt)?;
    let path = ContainerPath::new(&entity, &collection, name)?;
    let value = match headers.get(header::AUTHORIZATION) {
        Some(v) => v.to_str().map_err(|_| DomainError::Unauthenticated)?,
        None => fields
            .event
            .as_deref()
            .ok_or(DomainError::Unauthenticated)?,
    };
    let claim = claim("upload", &path, spelt, name, tag);
    let actor = auth::verify(state, value, Some(&claim)).await?;
    let data = Box::pin(file.map_err(std::io::Error::other));
    let view = state.registry.push_stream(&actor, &path, tag, data).await?;
    Ok((view.owner.path(), tag.to_string()))
}

/// `DELETE /api/container/[E/]C/N:tag` (also without `/api`), signed `delete`: removes the
/// image the tag points at, with all its tags (as the library API's delete does). 204.
pub async fn delete(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    headers: HeaderMap,
) -> SregistryResult<Response> {
    let reference = LegacyRef::parse(&reference)?;
    let tag = reference.tag_or_default().to_string();
    let name = reference.path.container.clone();
    let value = require_signed(&headers)?;
    let actor = if value.trim_start().starts_with(auth::SCHEME) {
        let claim = claim(
            "delete",
            &reference.path,
            &reference.collection,
            &name,
            &tag,
        );
        auth::verify(&state, value, Some(&claim)).await?
    } else {
        state.actor(&headers).await?
    };
    let image_ref = ImageRef {
        path: reference.path.clone(),
        version: Version::Tag(tag),
    };
    state
        .registry
        .delete_image(&actor, &image_ref, None)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
