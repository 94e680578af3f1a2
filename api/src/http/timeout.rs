//! The whole-request timeout of HTTP requests (`AUDITLOG_REQUEST_TIMEOUT_SECS`):
//! 503 with a GraphQL-shaped `TIMEOUT` error. A WebSocket upgrade answers at
//! once, so its stream is not bounded by this.
//!
//! The handler's future is dropped at the deadline. That is safe for writes:
//! an open SeaORM transaction rolls back when dropped, so a timed-out
//! `recordAuditEvents` has recorded nothing — unless it had already committed,
//! in which case its events are stored (a retry with the same idempotency keys
//! returns them) and live subscribers see them at the next notification or resync.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use super::problem::problem;
use super::state::AppState;
use crate::error::code;

pub(super) async fn request_timeout(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(limit) = state.limits.request_timeout else {
        return next.run(request).await;
    };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_elapsed) => {
            tracing::warn!(timeout_secs = limit.as_secs(), "request timed out");
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                code::TIMEOUT,
                format!("the request did not finish within {} s", limit.as_secs()),
            )
        }
    }
}
