//! The domain's one error type. Every protocol adapter maps it to its own wire format in
//! exactly one function; internal causes are logged there and never shown to clients.
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("authentication required")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    Conflict(String),
    #[error("sha256 mismatch: expected {expected}, received {actual}")]
    DigestMismatch { expected: String, actual: String },
    #[error("size mismatch: expected {expected} bytes, received {actual}")]
    SizeMismatch { expected: u64, actual: u64 },
    #[error("requested range not satisfiable")]
    RangeNotSatisfiable { size: u64 },
    #[error("upload interrupted: {0}")]
    Interrupted(String),
    #[error("storage error: {0}")]
    Storage(String),
    #[error("database error: {0}")]
    Database(sea_orm::DbErr),
}

impl From<sea_orm::DbErr> for DomainError {
    /// A unique index refusing a row means a concurrent request created the same thing first
    /// (or the request repeats a create): a conflict, not a server fault.
    fn from(err: sea_orm::DbErr) -> Self {
        if is_unique_violation(&err) {
            tracing::debug!(error = %err, "unique index refused a row");
            return DomainError::Conflict(
                "it already exists (created by a concurrent request)".into(),
            );
        }
        if let Some(message) = data_exception(&err) {
            tracing::debug!(error = %err, "the database refused a value of the request");
            return DomainError::InvalidInput(format!(
                "the request holds a value the database cannot store ({message})"
            ));
        }
        DomainError::Database(err)
    }
}

/// The message of a PostgreSQL data exception (SQLSTATE class 22: a NUL character in text,
/// a number out of range, a string too long), which only a request's own values cause.
fn data_exception(err: &sea_orm::DbErr) -> Option<String> {
    use sea_orm::{DbErr, RuntimeErr};
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = err
    else {
        return None;
    };
    let sea_orm::SqlxError::Database(db) = e.as_ref() else {
        return None;
    };
    let code = db.code()?;
    code.starts_with("22").then(|| db.message().to_string())
}

/// What the store's "no such blob" becomes (`From<StoreError>`).
const MISSING_BLOB: &str = "blob";

impl DomainError {
    /// True for the store's "no such blob": bytes that may have been collected meanwhile.
    pub fn is_missing_blob(&self) -> bool {
        matches!(self, DomainError::NotFound(what) if what == MISSING_BLOB)
    }
}

/// True when a unique index refused the statement.
pub(crate) fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

impl From<StoreError> for DomainError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => DomainError::NotFound(MISSING_BLOB.into()),
            StoreError::DigestMismatch { expected, actual } => {
                DomainError::DigestMismatch { expected, actual }
            }
            StoreError::SizeMismatch { expected, actual } => {
                DomainError::SizeMismatch { expected, actual }
            }
            StoreError::RangeNotSatisfiable { size } => DomainError::RangeNotSatisfiable { size },
            StoreError::Interrupted(e) => DomainError::Interrupted(e.to_string()),
            StoreError::Io(e) => DomainError::Storage(e.to_string()),
        }
    }
}

impl DomainError {
    pub fn not_found(what: impl Into<String>) -> Self {
        DomainError::NotFound(what.into())
    }
    pub fn invalid(msg: impl Into<String>) -> Self {
        DomainError::InvalidInput(msg.into())
    }
    pub fn forbidden(msg: impl Into<String>) -> Self {
        DomainError::Forbidden(msg.into())
    }
    /// True for errors caused by the server rather than the request.
    pub fn is_internal(&self) -> bool {
        matches!(self, DomainError::Storage(_) | DomainError::Database(_))
    }
}

pub type Result<T, E = DomainError> = std::result::Result<T, E>;
