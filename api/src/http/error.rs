//! [`HttpError`]: the error type of the HTTP handlers outside GraphQL (the
//! browser login, the HTTP-level refusals), so they return
//! `Result<Response, HttpError>` and use `?`.
//!
//! Policy: every variant has one status and one `extensions.code`, written
//! here and nowhere else; the body is the GraphQL error shape of
//! [`super::problem`]. `Internal` is logged with its context and answered
//! with a bare `INTERNAL_SERVER_ERROR`; `Unavailable` is the one 503 shape
//! (code `UNAVAILABLE`, `Retry-After`), whatever is unavailable.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::problem::{internal, problem, set_retry_after};
use crate::error::code;

#[derive(Debug, thiserror::Error)]
pub(super) enum HttpError {
    /// 400 `UNAUTHENTICATED`: a sign-in that cannot go on; the reason is a
    /// short category, never a token or the identity provider's own text.
    #[error("sign-in failed ({0})")]
    SignInFailed(String),
    /// 403 `FORBIDDEN`.
    #[error("{0}")]
    Forbidden(String),
    /// 404 `NOT_FOUND`.
    #[error("{0}")]
    NotFound(&'static str),
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
            Self::Forbidden(message) => problem(StatusCode::FORBIDDEN, code::FORBIDDEN, message),
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
