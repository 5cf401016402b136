//! The one mapping from domain errors to gRPC status. Every service returns [`AppError`]
//! from its domain and storage rooms; the API room converts with `?`.

use tonic::{Code, Status};

/// An error a caller can act on, or an internal failure that is logged and hidden.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A request field is missing or malformed.
    #[error("invalid {field}: {reason}")]
    InvalidArgument {
        /// The proto field name, e.g. `date_of_birth`.
        field: &'static str,
        /// What was expected.
        reason: String,
    },
    /// No credentials, or credentials that are not valid.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller is known but may not do this.
    #[error("{0}")]
    PermissionDenied(String),
    /// The named thing does not exist (or is not visible to the caller).
    #[error("{0}")]
    NotFound(String),
    /// The thing already exists (unique number, username, citizen ID).
    #[error("{0}")]
    AlreadyExists(String),
    /// The request is valid but the system is not in a state that allows it.
    #[error("{0}")]
    FailedPrecondition(String),
    /// Too many requests.
    #[error("{0}")]
    ResourceExhausted(String),
    /// A dependency is down; retrying later may succeed.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an infrastructure failure; details are logged, not returned.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// Shorthand for [`AppError::InvalidArgument`].
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidArgument { field, reason: reason.into() }
    }

    /// The gRPC code this error maps to.
    pub fn code(&self) -> Code {
        match self {
            Self::InvalidArgument { .. } => Code::InvalidArgument,
            Self::Unauthenticated(_) => Code::Unauthenticated,
            Self::PermissionDenied(_) => Code::PermissionDenied,
            Self::NotFound(_) => Code::NotFound,
            Self::AlreadyExists(_) => Code::AlreadyExists,
            Self::FailedPrecondition(_) => Code::FailedPrecondition,
            Self::ResourceExhausted(_) => Code::ResourceExhausted,
            Self::Unavailable(_) => Code::Unavailable,
            Self::Internal(_) => Code::Internal,
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        if crate::db::is_unavailable(&err) {
            tracing::warn!(error = %err, "database unavailable");
            Self::Unavailable("the database is unavailable; retry shortly".into())
        } else {
            Self::Internal(anyhow::Error::new(err).context("database"))
        }
    }
}

impl From<AppError> for Status {
    fn from(err: AppError) -> Self {
        match err {
            AppError::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                Status::internal("internal error; it has been logged")
            }
            other => Status::new(other.code(), other.to_string()),
        }
    }
}

/// Result alias for domain and storage code.
pub type AppResult<T> = Result<T, AppError>;

/// Answers a unary RPC from an [`AppResult`]: the API room's one line per RPC.
pub fn respond<T>(result: AppResult<T>) -> Result<tonic::Response<T>, Status> {
    result.map(tonic::Response::new).map_err(Status::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_names_the_field() {
        let status: Status = AppError::invalid("citizen_id", "expected 12 digits").into();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "invalid citizen_id: expected 12 digits");
    }

    #[test]
    fn internal_details_are_hidden() {
        let status: Status = AppError::Internal(anyhow::anyhow!("password=hunter2")).into();
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("hunter2"));
    }
}
