//! The one error type of Silo's server functions, shared by client and server. It carries only
//! what a visitor may see: internal causes are logged on the server and never sent.
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum SiloError {
    /// Absent, or present but not visible to the viewer (private collections look absent).
    #[error("not found")]
    NotFound,
    #[error("please log in to see this")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    /// Something broke on the server; the details are in the server's log.
    #[error("the registry ran into an internal error; please try again later")]
    Internal,
    /// The request did not make it to the server function and back (network, encoding).
    #[error("could not reach the registry: {0}")]
    Transport(String),
}

impl SiloError {
    /// The HTTP status the server answers with.
    pub fn status(&self) -> u16 {
        match self {
            SiloError::NotFound => 404,
            SiloError::Unauthenticated => 401,
            SiloError::Forbidden(_) => 403,
            SiloError::BadRequest(_) => 400,
            SiloError::Internal => 500,
            SiloError::Transport(_) => 502,
        }
    }
}

impl FromServerFnError for SiloError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                SiloError::BadRequest("malformed request".into())
            }
            ServerFnErrorErr::ServerError(_)
            | ServerFnErrorErr::MiddlewareError(_)
            | ServerFnErrorErr::Registration(_)
            | ServerFnErrorErr::Response(_) => SiloError::Internal,
            other => SiloError::Transport(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<silo_domain::DomainError> for SiloError {
    /// The one place where domain errors become what the SPA sees.
    fn from(err: silo_domain::DomainError) -> Self {
        use silo_domain::DomainError as D;
        match err {
            D::NotFound(_) => SiloError::NotFound,
            D::Unauthenticated => SiloError::Unauthenticated,
            D::Forbidden(msg) => SiloError::Forbidden(msg),
            D::InvalidInput(msg) => SiloError::BadRequest(msg),
            D::Conflict(msg) => SiloError::BadRequest(msg),
            other => {
                tracing::error!(error = %other, "server function failed");
                SiloError::Internal
            }
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::SiloError;
    use silo_domain::DomainError;

    #[test]
    fn domain_errors_map_without_leaking_internals() {
        assert_eq!(
            SiloError::from(DomainError::not_found("collection a/b")),
            SiloError::NotFound
        );
        assert_eq!(SiloError::NotFound.status(), 404);
        let internal = SiloError::from(DomainError::Storage("/srv/silo/blobs: disk full".into()));
        assert_eq!(internal, SiloError::Internal);
        assert!(!internal.to_string().contains("/srv"));
        assert_eq!(
            SiloError::from(DomainError::invalid("bad tag")),
            SiloError::BadRequest("bad tag".into())
        );
    }
}
