//! The REST API's errors and extractors. Errors are `{"error":{"code":<status>,"message":"…"}}`;
//! [`RestError::into_response`] is the only place a domain error becomes a REST response.
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use silo_domain::{Actor, DomainError};
use utoipa::ToSchema;

use crate::state::AppState;

#[derive(Debug)]
pub struct RestError(pub DomainError);

pub type RestResult<T> = Result<T, RestError>;

impl From<DomainError> for RestError {
    fn from(e: DomainError) -> Self {
        RestError(e)
    }
}

impl From<QueryRejection> for RestError {
    fn from(e: QueryRejection) -> Self {
        RestError(DomainError::invalid(format!(
            "invalid query parameters: {}",
            e.body_text()
                .trim_start_matches("Failed to deserialize query string: ")
        )))
    }
}

impl From<PathRejection> for RestError {
    fn from(e: PathRejection) -> Self {
        RestError(DomainError::invalid(format!(
            "invalid path: {}",
            e.body_text()
        )))
    }
}

/// The error envelope.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// The HTTP status code.
    #[schema(example = 404)]
    pub code: u16,
    #[schema(example = "collection alice/tools not found")]
    pub message: String,
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let status = match &self.0 {
            DomainError::NotFound(_) => StatusCode::NOT_FOUND,
            DomainError::Unauthenticated => StatusCode::UNAUTHORIZED,
            DomainError::Forbidden(_) => StatusCode::FORBIDDEN,
            DomainError::InvalidInput(_)
            | DomainError::Interrupted(_)
            | DomainError::DigestMismatch { .. }
            | DomainError::SizeMismatch { .. } => StatusCode::BAD_REQUEST,
            DomainError::Conflict(_) => StatusCode::CONFLICT,
            DomainError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            DomainError::Storage(_) | DomainError::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = if self.0.is_internal() {
            tracing::error!(error = %self.0, "internal error in REST API");
            "internal server error".to_string()
        } else {
            self.0.to_string()
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: status.as_u16(),
                message,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The caller: anonymous without an `Authorization` header, refused (401) with a bad one.
pub struct Caller(pub Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = RestError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> RestResult<Self> {
        Ok(Caller(state.actor(&parts.headers).await?))
    }
}

/// Query parameters; malformed ones are a 400 in the REST envelope.
pub struct RestQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for RestQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = RestError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> RestResult<Self> {
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(RestQuery(value))
    }
}

/// Path parameters; malformed ones are a 400 in the REST envelope.
pub struct RestPath<T>(pub T);

impl<T, S> FromRequestParts<S> for RestPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = RestError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> RestResult<Self> {
        let axum::extract::Path(value) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(RestPath(value))
    }
}
