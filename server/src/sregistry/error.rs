//! The one place a domain error becomes an sregistry/shub response: `{"detail": "…"}` (the
//! field the sregistry client reads) with a status code.
//!
//! Authentication failures answer 403, not 401: on 401 the client exits with "credentials
//! expired" without reading the answer, while 403 is what it retries (unsigned pulls) or
//! reports.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use silo_domain::DomainError;

#[derive(Debug)]
pub struct SregistryError(pub DomainError);

impl From<DomainError> for SregistryError {
    fn from(e: DomainError) -> Self {
        SregistryError(e)
    }
}

pub type SregistryResult<T> = Result<T, SregistryError>;

impl IntoResponse for SregistryError {
    fn into_response(self) -> Response {
        let status = match &self.0 {
            DomainError::NotFound(_) => StatusCode::NOT_FOUND,
            DomainError::Unauthenticated | DomainError::Forbidden(_) => StatusCode::FORBIDDEN,
            DomainError::InvalidInput(_) | DomainError::Interrupted(_) => StatusCode::BAD_REQUEST,
            DomainError::Conflict(_) => StatusCode::CONFLICT,
            DomainError::DigestMismatch { .. } | DomainError::SizeMismatch { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            DomainError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            DomainError::Storage(_) | DomainError::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let detail = match &self.0 {
            e if e.is_internal() => {
                tracing::error!(error = %e, "internal error in the sregistry/shub API");
                "internal server error".to_string()
            }
            DomainError::Unauthenticated => {
                "authentication failed: unknown user, or the signature does not match any live sregistry secret".to_string()
            }
            e => e.to_string(),
        };
        (status, axum::Json(serde_json::json!({"detail": detail}))).into_response()
    }
}
