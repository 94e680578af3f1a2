//! The request limits at the HTTP edge: the per-IP limit (middleware, before
//! authentication), the per-credential check the GraphQL handlers call after
//! it, and the 429 answer: `Retry-After` in whole seconds and a GraphQL-shaped
//! body `{"errors":[{"message", "extensions":{"code", "retryAfterSeconds"}}]}`.
//! A GraphQL response refused by the ingest quota (`QUOTA_EXCEEDED`) gets the
//! same status and header.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::client_ip::client_ip;
use super::state::AppState;
use crate::auth::Principal;
use crate::error::code;
use crate::limits::{Rejection, Scope};

/// Middleware: refuses a client IP over `AUDITLOG_RATE_LIMIT_PER_IP`. A
/// request whose bearer credential was verified moments ago is not counted
/// (`Authenticator::recently_verified`): an application server sending many
/// requests from one address meets its credential's limit, not this one.
pub(super) async fn per_ip(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let verified = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|authorization| {
            let tenant = parts
                .headers
                .get(super::extract::AUDITLOG_TENANT)
                .and_then(|value| value.to_str().ok());
            state.authenticator.recently_verified(authorization, tenant)
        });
    if !verified
        && let Some(client) = client_ip(&parts, &state.trusted_proxies)
        && let Err(rejection) = state.limits.check_ip(client)
    {
        tracing::info!(client = %client, "request refused by the per-IP rate limit");
        return too_many_requests(rejection);
    }
    next.run(Request::from_parts(parts, body)).await
}

/// The 429 for an authenticated request over its credential's rate, if it is.
pub(super) fn credential_refusal(state: &AppState, principal: &Principal) -> Option<Response> {
    state
        .limits
        .check_credential(principal)
        .err()
        .map(too_many_requests)
}

/// HTTP 429 for a rate-limit rejection.
pub(super) fn too_many_requests(rejection: Rejection) -> Response {
    let message = match rejection.scope {
        Scope::Ip => "too many requests from this address",
        _ => "too many requests with this credential",
    };
    let body = json!({ "errors": [{
        "message": format!("{message}; retry after {} s", rejection.retry_after_secs),
        "extensions": { "code": code::RATE_LIMITED, "retryAfterSeconds": rejection.retry_after_secs },
    }] });
    with_retry_after(
        (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response(),
        rejection.retry_after_secs,
    )
}

/// 429 and `Retry-After` for a GraphQL response refused by the ingest quota
/// or a rate limit (`None`: an ordinary response, status 200).
pub(super) fn status_of(response: &async_graphql::Response) -> Option<(StatusCode, u64)> {
    response.errors.iter().find_map(|error| {
        let extensions = error.extensions.as_ref()?;
        let code = match extensions.get("code")? {
            async_graphql::Value::String(code) => code.as_str(),
            _ => return None,
        };
        if code != code::QUOTA_EXCEEDED && code != code::RATE_LIMITED {
            return None;
        }
        let retry_after = match extensions.get("retryAfterSeconds") {
            Some(async_graphql::Value::Number(seconds)) => seconds.as_u64().unwrap_or(1),
            _ => 1,
        };
        Some((StatusCode::TOO_MANY_REQUESTS, retry_after))
    })
}

pub(super) use super::problem::with_retry_after;
