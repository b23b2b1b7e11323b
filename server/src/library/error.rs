//! The library API's error envelope and its extractors.
//!
//! Errors are `{"error":{"code":<status>,"message":"…"}}` (the sylabs json-resp shape the
//! Go client parses); this module is the only place domain errors become library responses.
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use silo_domain::{Actor, DomainError};

use crate::state::AppState;

#[derive(Debug)]
pub struct LibraryError(pub DomainError);

impl From<DomainError> for LibraryError {
    fn from(e: DomainError) -> Self {
        LibraryError(e)
    }
}

pub type LibraryResult<T> = Result<T, LibraryError>;

/// The envelope for a status and message.
pub fn envelope(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({"error": {"code": status.as_u16(), "message": message}});
    (status, axum::Json(body)).into_response()
}

impl IntoResponse for LibraryError {
    fn into_response(self) -> Response {
        let status = match &self.0 {
            DomainError::NotFound(_) => StatusCode::NOT_FOUND,
            DomainError::Unauthenticated => StatusCode::UNAUTHORIZED,
            DomainError::Forbidden(_) => StatusCode::FORBIDDEN,
            DomainError::InvalidInput(_) | DomainError::Interrupted(_) => StatusCode::BAD_REQUEST,
            DomainError::Conflict(_) => StatusCode::CONFLICT,
            DomainError::DigestMismatch { .. } | DomainError::SizeMismatch { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            DomainError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            DomainError::Storage(_) | DomainError::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = if self.0.is_internal() {
            tracing::error!(error = %self.0, "internal error in library API");
            "internal server error".to_string()
        } else {
            self.0.to_string()
        };
        let mut response = envelope(status, &message);
        if let DomainError::RangeNotSatisfiable { size } = self.0 {
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, v);
            }
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The caller of a library API request.
pub struct Caller(pub Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = LibraryError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> LibraryResult<Self> {
        Ok(Caller(state.actor(&parts.headers).await?))
    }
}

/// A JSON body, accepted with or without a `Content-Type` (the Go client sends none), of at
/// most `limits.json_body_kib` (413 beyond).
pub struct LibraryJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for LibraryJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let limit = state.config.limits.json_body_bytes();
        let body = crate::edge::limits::read_small_body(req.into_body(), limit)
            .await
            .map_err(|e| envelope(e.status(), &e.to_string()))?;
        let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &body
        };
        serde_json::from_slice(body).map(LibraryJson).map_err(|e| {
            LibraryError(DomainError::invalid(format!("malformed JSON body: {e}"))).into_response()
        })
    }
}

/// Parses a library object id (opaque strings on the wire, integers here).
pub fn parse_id(kind: &str, id: &str) -> LibraryResult<i64> {
    id.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| LibraryError(DomainError::not_found(format!("{kind} {id:?}"))))
}
