//! Error responses produced by the HTTP layer itself (before GraphQL runs), in the
//! GraphQL response shape so clients handle them the same way:
//! `{"errors":[{"message": ..., "extensions": {"code": ...}}]}`.

use std::any::Any;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::code;

pub(super) fn problem(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = json!({ "errors": [{ "message": message.into(), "extensions": { "code": code } }] });
    (status, axum::Json(body)).into_response()
}

/// `Allow: POST` of a 405 (a mutation sent with GET).
pub(super) fn set_allow_post(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
}

pub(super) fn internal() -> Response {
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        code::INTERNAL_SERVER_ERROR,
        "internal server error",
    )
}

/// 503 with `Retry-After`: the database cannot be reached; the request may be
/// retried unchanged (see `crate::error::unavailable`).
pub(super) fn unavailable() -> Response {
    super::error::HttpError::Unavailable(crate::error::UNAVAILABLE_MESSAGE.to_owned())
        .into_response()
}

/// Seconds a client should wait before retrying a 503.
const RETRY_AFTER_SECS: u64 = 1;

/// `Retry-After` of a 503.
pub(super) fn set_retry_after(response: &mut Response) {
    insert_retry_after(response, RETRY_AFTER_SECS);
}

/// `Retry-After` of a 429 (rate limits, quotas).
pub(super) fn with_retry_after(mut response: Response, seconds: u64) -> Response {
    insert_retry_after(&mut response, seconds);
    response
}

/// The one place that writes `Retry-After` (whole seconds, at least one).
fn insert_retry_after(response: &mut Response, seconds: u64) {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
}

pub(super) fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "request handler panicked");
    internal()
}
