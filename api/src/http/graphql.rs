//! The GraphQL-over-HTTP transport.
//!
//! - `POST /graphql`: a JSON body `{"query", "variables", "operationName"}`.
//!   Other content types get 415; bodies over 4 MiB get 413; bodies that are not
//!   a JSON request object get 400; array batches are refused (400), so one HTTP
//!   request is always one operation counted against the limits.
//! - `GET /graphql`: GraphiQL for browsers; otherwise a query in the URL. A
//!   mutation over GET gets 405, because GET must be safe (no CSRF via links).
//!
//! Execution errors are GraphQL errors in a 200 response, each with `extensions.code`,
//! except a refusal by a rate limit or the ingest quota (429 with `Retry-After`,
//! see `rate_limit`) and `UNAVAILABLE` (the database cannot be reached: 503 with
//! `Retry-After`). A WebSocket upgrade from a foreign `Origin` gets 403 (`ws_origin`).

use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::OperationType;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::problem::{method_not_allowed, problem};
use super::request_id::CallerRequestId;
use super::state::AppState;
use crate::auth::Principal;
use crate::error::code;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

pub async fn post_handler(
    State(state): State<AppState>,
    principal: Principal,
    caller_request_id: Option<Extension<CallerRequestId>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Some(refused) = super::rate_limit::credential_refusal(&state, &principal) {
        return refused;
    }
    if !is_json_content_type(&headers) {
        return problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::UNSUPPORTED_MEDIA_TYPE,
            "send the request as `Content-Type: application/json`",
        );
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                code::PAYLOAD_TOO_LARGE,
                format!("the request body exceeds {} bytes", super::MAX_BODY_BYTES),
            );
        }
        Err(rejection) => {
            return problem(rejection.status(), code::BAD_REQUEST, rejection.body_text());
        }
    };
    let request = match parse_request_body(&body) {
        Ok(request) => request,
        Err(message) => return problem(StatusCode::BAD_REQUEST, code::BAD_REQUEST, message),
    };
    execute(&state, principal, caller_request_id, request, &headers).await
}

pub async fn get_handler(
    State(state): State<AppState>,
    principal: Principal,
    caller_request_id: Option<Extension<CallerRequestId>>,
    headers: HeaderMap,
    websocket: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    RawQuery(query): RawQuery,
) -> Response {
    if let Some(refused) = super::rate_limit::credential_refusal(&state, &principal) {
        return refused;
    }
    if let Ok(websocket) = websocket {
        if let Some(refused) = super::ws_origin::refusal(&headers, &state.websocket_origins) {
            return refused;
        }
        let authorization = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        // The browser-session cookie counts only from an allowed `Origin`
        // (cross-site WebSocket hijacking); `connection_init` may still bring a token.
        let session_cookie = state
            .browser
            .as_ref()
            .filter(|browser| browser.websocket_origin_allowed(&headers))
            .and_then(|_| super::browser::cookie_value(&headers, super::browser::SESSION_COOKIE));
        return super::websocket::upgrade(websocket, state, authorization, session_cookie);
    }
    let query = query.unwrap_or_default();
    if query.is_empty() {
        if state.graphiql && accepts_html(&headers) {
            return Html(
                GraphiQLSource::build()
                    .endpoint("/graphql")
                    .title("auditlog")
                    .finish(),
            )
            .into_response();
        }
        return problem(
            StatusCode::BAD_REQUEST,
            code::BAD_REQUEST,
            "missing `query` parameter",
        );
    }
    let request = match async_graphql::http::parse_query_string(&query) {
        Ok(request) => request,
        Err(error) => {
            return problem(
                StatusCode::BAD_REQUEST,
                code::BAD_REQUEST,
                error.to_string(),
            );
        }
    };
    if is_mutation(&request) {
        return method_not_allowed("mutations must be sent with POST");
    }
    execute(&state, principal, caller_request_id, request, &headers).await
}

async fn execute(
    state: &AppState,
    principal: Principal,
    caller_request_id: Option<Extension<CallerRequestId>>,
    request: async_graphql::Request,
    headers: &HeaderMap,
) -> Response {
    let mut request = request.data(principal);
    if let Some(Extension(id)) = caller_request_id {
        request = request.data(id);
    }
    let response = state.schema.execute(request).await;
    let limited = super::rate_limit::status_of(&response);
    let unavailable = has_unavailable_error(&response);
    let content_type = if accepts(headers, GRAPHQL_RESPONSE_JSON) {
        GRAPHQL_RESPONSE_JSON
    } else {
        "application/json"
    };
    match serde_json::to_vec(&response) {
        Ok(body) => {
            let status = limited.map_or(StatusCode::OK, |(status, _)| status);
            let mut response = (status, body).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            if unavailable {
                *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                super::problem::set_retry_after(&mut response);
            }
            match limited {
                Some((_, retry_after)) => {
                    super::rate_limit::with_retry_after(response, retry_after)
                }
                None => response,
            }
        }
        Err(error) => {
            tracing::error!(error = %error, "cannot serialize a GraphQL response");
            super::problem::internal()
        }
    }
}

/// A response with an `UNAVAILABLE` error is answered with 503 and
/// `Retry-After`, so HTTP clients and proxies retry it without reading the body.
fn has_unavailable_error(response: &async_graphql::Response) -> bool {
    response.errors.iter().any(|error| {
        error
            .extensions
            .as_ref()
            .and_then(|extensions| extensions.get("code"))
            .is_some_and(|value| *value == async_graphql::Value::from(code::UNAVAILABLE))
    })
}

fn parse_request_body(body: &[u8]) -> Result<async_graphql::Request, String> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|error| format!("the body is not valid JSON: {error}"))?;
    match value {
        serde_json::Value::Object(_) => serde_json::from_value(value)
            .map_err(|error| format!("the body is not a GraphQL request: {error}")),
        serde_json::Value::Array(_) => {
            Err("batched requests are not supported; send one operation per request".into())
        }
        _ => Err("the body must be a JSON object with a `query` field".into()),
    }
}

/// Whether the operation the request would run is a mutation (or a subscription,
/// which GET cannot serve either). Unparsable documents are left to execution,
/// which reports them as GraphQL errors.
fn is_mutation(request: &async_graphql::Request) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    document.operations.iter().any(|(name, operation)| {
        let selected = match (&request.operation_name, name) {
            (Some(wanted), Some(name)) => wanted.as_str() == name.as_str(),
            (Some(_), None) => false,
            (None, _) => true,
        };
        selected && operation.node.ty != OperationType::Query
    })
}

fn is_json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case("application/json"))
}

fn accepts(headers: &HeaderMap, media_type: &str) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.to_ascii_lowercase().contains(media_type))
}

fn accepts_html(headers: &HeaderMap) -> bool {
    accepts(headers, "text/html")
}
