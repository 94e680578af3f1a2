//! [`HttpError`]: the error type of the HTTP handlers outside GraphQL (the
//! browser login, the export, the HTTP-level refusals), so they return
//! `Result<Response, HttpError>` and use `?`; an [`ApiError`] of the service
//! layer converts into it (`From`) with the status its code calls for.
//!
//! Policy: every variant has one status and one `extensions.code`, written
//! here and nowhere else; the body is the GraphQL error shape of
//! [`super::problem`]. `Internal` is logged with its context and answered
//! with a bare `INTERNAL_SERVER_ERROR`; `Unavailable` is the one 503 shape
//! (code `UNAVAILABLE`, `Retry-After`), whatever is unavailable.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::problem::{internal, problem, set_retry_after, with_retry_after};
use crate::error::{ApiError, code};

/// Seconds an export refused with `EXPORT_IN_PROGRESS` is told to wait: an
/// export takes a while, retrying at once would be refused again.
const EXPORT_RETRY_AFTER_SECS: u64 = 10;

#[derive(Debug, thiserror::Error)]
pub(super) enum HttpError {
    /// 400 `UNAUTHENTICATED`: a sign-in that cannot go on; the reason is a
    /// short category, never a token or the identity provider's own text.
    #[error("sign-in failed ({0})")]
    SignInFailed(String),
    /// 400 `BAD_USER_INPUT`: a parameter is unacceptable; the message names it.
    #[error("{0}")]
    BadUserInput(String),
    /// 400 `TENANT_REQUIRED`: a platform key named no tenant (`Auditlog-Tenant`).
    #[error("{0}")]
    TenantRequired(String),
    /// 401 `UNAUTHENTICATED`: no credential, or one that matches nothing.
    #[error("{0}")]
    Unauthenticated(String),
    /// 403 `FORBIDDEN`.
    #[error("{0}")]
    Forbidden(String),
    /// 404 `TENANT_NOT_FOUND`: a platform key named a tenant that does not exist.
    #[error("{0}")]
    TenantNotFound(String),
    /// 429 `EXPORT_IN_PROGRESS` with `Retry-After`: the tenant already runs
    /// as many exports as `AUDITLOG_EXPORT_MAX_CONCURRENT_PER_TENANT` allows.
    #[error("this tenant already runs {0} exports; retry when one has finished")]
    ExportInProgress(usize),
    /// 404 `NOT_FOUND`.
    #[error("{0}")]
    NotFound(&'static str),
    /// 503 `TIMEOUT`: a database statement ran too long and was cancelled.
    #[error("{0}")]
    Timeout(String),
    /// 503 `UNAVAILABLE` with `Retry-After`: a dependency (the database, the
    /// identity provider) cannot be reached; retrying unchanged may work.
    #[error("{0}")]
    Unavailable(String),
    /// 500 `INTERNAL_SERVER_ERROR`; the cause is logged, never answered.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        match self {
            Self::SignInFailed(_) => problem(
                StatusCode::BAD_REQUEST,
                code::UNAUTHENTICATED,
                format!("{self}; start again at /auth/login"),
            ),
            Self::BadUserInput(message) => {
                problem(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, message)
            }
            Self::TenantRequired(message) => {
                problem(StatusCode::BAD_REQUEST, code::TENANT_REQUIRED, message)
            }
            Self::Unauthenticated(message) => {
                problem(StatusCode::UNAUTHORIZED, code::UNAUTHENTICATED, message)
            }
            Self::Forbidden(message) => problem(StatusCode::FORBIDDEN, code::FORBIDDEN, message),
            Self::TenantNotFound(message) => {
                problem(StatusCode::NOT_FOUND, code::TENANT_NOT_FOUND, message)
            }
            Self::ExportInProgress(_) => with_retry_after(
                problem(
                    StatusCode::TOO_MANY_REQUESTS,
                    code::EXPORT_IN_PROGRESS,
                    self.to_string(),
                ),
                EXPORT_RETRY_AFTER_SECS,
            ),
            Self::Timeout(message) => {
                problem(StatusCode::SERVICE_UNAVAILABLE, code::TIMEOUT, message)
            }
            Self::NotFound(message) => problem(StatusCode::NOT_FOUND, code::NOT_FOUND, message),
            Self::Unavailable(message) => {
                let mut response =
                    problem(StatusCode::SERVICE_UNAVAILABLE, code::UNAVAILABLE, message);
                set_retry_after(&mut response);
                response
            }
            Self::Internal(error) => {
                tracing::error!(error = ?error, "request failed");
                internal()
            }
        }
    }
}

impl From<ApiError> for HttpError {
    /// The client errors keep their message; a database that cannot be
    /// reached is `Unavailable` (whatever wraps it); anything else is
    /// `Internal`, logged and never shown.
    fn from(error: ApiError) -> Self {
        if error.code() == code::UNAVAILABLE {
            return Self::Unavailable(crate::error::UNAVAILABLE_MESSAGE.to_owned());
        }
        match error {
            ApiError::BadUserInput { message, .. } => Self::BadUserInput(message),
            ApiError::Unauthenticated(message) => Self::Unauthenticated(message),
            ApiError::Forbidden(message) => Self::Forbidden(message),
            ApiError::TenantRequired(message) => Self::TenantRequired(message),
            ApiError::TenantNotFound(message) => Self::TenantNotFound(message),
            ApiError::Timeout(message) => Self::Timeout(message),
            ApiError::Internal(cause) | ApiError::Unavailable(cause) => Self::Internal(cause),
            other => Self::Internal(anyhow::Error::new(other).context("unexpected error")),
        }
    }
}
