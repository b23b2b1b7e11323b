//! The OCI error body `{"errors":[{"code","message","detail"}]}` and its statuses: the only
//! place a domain error becomes an OCI response.
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use silo_domain::services::oci::OciCode;
use silo_domain::DomainError;

/// A failed OCI request. `challenge` is the `WWW-Authenticate` value to send with a 401;
/// `anonymous` turns "no such repository" into a 401 so clients log in and retry.
#[derive(Debug)]
pub struct OciError {
    pub error: DomainError,
    pub challenge: Option<String>,
    pub anonymous: bool,
}

impl From<DomainError> for OciError {
    fn from(error: DomainError) -> Self {
        OciError {
            error,
            challenge: None,
            anonymous: false,
        }
    }
}

pub type OciResult<T> = Result<T, OciError>;

/// The OCI error body with one error.
pub(crate) fn body(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({"errors": [{"code": code, "message": message, "detail": null}]});
    (status, axum::Json(body)).into_response()
}

impl IntoResponse for OciError {
    fn into_response(self) -> Response {
        let message = if self.error.is_internal() {
            tracing::error!(error = %self.error, "internal error in OCI API");
            "internal server error".to_string()
        } else if let Some((_, detail)) = OciCode::classify(&self.error) {
            detail.to_string()
        } else {
            self.error.to_string()
        };
        let (status, code) = match (&self.error, OciCode::classify(&self.error)) {
            (_, Some((code, _))) => {
                let status = match code {
                    OciCode::BlobUnknown
                    | OciCode::BlobUploadUnknown
                    | OciCode::ManifestUnknown
                    | OciCode::NameUnknown => StatusCode::NOT_FOUND,
                    OciCode::Unsupported => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    _ => StatusCode::BAD_REQUEST,
                };
                (status, code.as_str())
            }
            (DomainError::NotFound(_), None) => (StatusCode::NOT_FOUND, "NAME_UNKNOWN"),
            (DomainError::Unauthenticated, _) => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
            (DomainError::Forbidden(_), _) => (StatusCode::FORBIDDEN, "DENIED"),
            (DomainError::Conflict(_), _) => (StatusCode::CONFLICT, "DENIED"),
            (DomainError::InvalidInput(_), _) => (StatusCode::BAD_REQUEST, "NAME_INVALID"),
            (DomainError::DigestMismatch { .. }, _) => (StatusCode::BAD_REQUEST, "DIGEST_INVALID"),
            (DomainError::SizeMismatch { .. }, _) => (StatusCode::BAD_REQUEST, "SIZE_INVALID"),
            (DomainError::RangeNotSatisfiable { .. }, _) => {
                (StatusCode::RANGE_NOT_SATISFIABLE, "BLOB_UPLOAD_INVALID")
            }
            (DomainError::Interrupted(_), _) => (StatusCode::BAD_REQUEST, "BLOB_UPLOAD_INVALID"),
            (DomainError::Storage(_) | DomainError::Database(_), _) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN")
            }
        };
        // Repositories an anonymous caller cannot see ask for credentials instead.
        let (status, code) = if self.anonymous && code == "NAME_UNKNOWN" {
            (StatusCode::UNAUTHORIZED, "UNAUTHORIZED")
        } else {
            (status, code)
        };
        let message = if status == StatusCode::UNAUTHORIZED {
            "authentication required".to_string()
        } else {
            message
        };
        let mut response = body(status, code, &message);
        if let DomainError::RangeNotSatisfiable { size } = self.error {
            let range = format!("0-{}", size.saturating_sub(1));
            if let Ok(v) = HeaderValue::from_str(&range) {
                response.headers_mut().insert(header::RANGE, v);
            }
        }
        // On 403 too: a client whose token lacks a scope fetches one with the scope named.
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            if let Some(v) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
        }
        response
    }
}
