//! The GraphQL-over-HTTP transport, following the GraphQL over HTTP specification
//! (checked by graphql-http's audit suite in the tests).
//!
//! - `POST /graphql`: a JSON body `{"query", "variables", "operationName",
//!   "extensions"}`. Other content types get 415 (see `media_type`); bodies over
//!   4 MiB get 413; bodies that are not a JSON request object with a string
//!   `query` (or, instead, a persisted query's hash in
//!   `extensions.persistedQuery`) get 400; array batches are refused (400), so
//!   one HTTP request is always one operation counted against the limits.
//! - `GET /graphql`: GraphiQL for browsers (when enabled); otherwise a query in
//!   the URL (`query` or a persisted query's hash in `extensions`). A mutation
//!   over GET gets 405, because GET must be safe (no CSRF via links); the
//!   schema's guard tells, once it has the document (`graphql::SafeMethod`).
//! - The response is `application/graphql-response+json` if `Accept` prefers it,
//!   else `application/json`; an `Accept` allowing neither gets 406.
//!   A request that could not execute at all (unparsable, invalid, refused by
//!   a limit or by the introspection switch, an unknown persisted query) has
//!   no `data` entry; it gets 400 under `application/graphql-response+json`
//!   and 200 under `application/json`. Field errors are 200.
//!
//! Every error has `extensions.code`. A refusal by a rate limit or the ingest
//! quota is a 429 with `Retry-After` (see `rate_limit`); `UNAVAILABLE` (the
//! database cannot be reached) a 503 with `Retry-After`. A WebSocket upgrade
//! from a foreign `Origin` gets 403 (`ws_origin`).

use std::collections::BTreeMap;

use async_graphql::http::GraphiQLSource;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::media_type::{ResponseMediaType, is_json_request};
use super::problem::problem;
use super::request_id::CallerRequestId;
use super::state::AppState;
use crate::auth::Principal;
use crate::error::code;

pub(super) async fn post_handler(
    State(state): State<AppState>,
    principal: Principal,
    caller_request_id: Option<Extension<CallerRequestId>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Some(refused) = super::rate_limit::credential_refusal(&state, &principal) {
        return refused;
    }
    let Some(media_type) = ResponseMediaType::negotiate(&headers) else {
        return not_acceptable();
    };
    let refuse =
        |status, code, message: String| with_media_type(problem(status, code, message), media_type);
    if !is_json_request(&headers) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::UNSUPPORTED_MEDIA_TYPE,
            "send the request as `Content-Type: application/json` (UTF-8)".into(),
        );
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                code::PAYLOAD_TOO_LARGE,
                format!("the request body exceeds {} bytes", super::MAX_BODY_BYTES),
            );
        }
        Err(rejection) => {
            return refuse(rejection.status(), code::BAD_REQUEST, rejection.body_text());
        }
    };
    let request = match parse_request_body(&body) {
        Ok(request) => request,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, code::BAD_REQUEST, message),
    };
    execute(&state, principal, caller_request_id, request, media_type).await
}

pub(super) async fn get_handler(
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
    let Some(media_type) = ResponseMediaType::negotiate(&headers) else {
        return not_acceptable();
    };
    let request = match parse_query_string(&query) {
        Ok(request) => request.data(crate::graphql::SafeMethod),
        Err(message) => {
            return with_media_type(
                problem(StatusCode::BAD_REQUEST, code::BAD_REQUEST, message),
                media_type,
            );
        }
    };
    execute(&state, principal, caller_request_id, request, media_type).await
}

async fn execute(
    state: &AppState,
    principal: Principal,
    caller_request_id: Option<Extension<CallerRequestId>>,
    request: async_graphql::Request,
    media_type: ResponseMediaType,
) -> Response {
    let mut request = request.data(principal);
    if let Some(Extension(id)) = caller_request_id {
        request = request.data(id);
    }
    let response = state.executor.execute(request).await;
    let limited = super::rate_limit::status_of(&response);
    let unavailable = has_error_coded(&response, code::UNAVAILABLE);
    let not_executed = is_request_error(&response);
    let cap = state.max_response_bytes;
    let body = if not_executed {
        super::response_cap::to_vec_capped(
            &RequestErrorBody {
                errors: &response.errors,
                extensions: &response.extensions,
            },
            cap,
        )
    } else {
        super::response_cap::to_vec_capped(&response, cap)
    };
    // Over the cap (or not serializable, logged): the request ran, but its
    // data is replaced by one error, as if a field error had nulled it all.
    let Some(body) = body else {
        let body = serde_json::json!({
            "data": null,
            "errors": [super::response_cap::too_large_error(cap)],
        });
        return with_media_type(
            (StatusCode::OK, body.to_string()).into_response(),
            media_type,
        );
    };
    let wrong_method = not_executed && has_error_coded(&response, code::METHOD_NOT_ALLOWED);
    let status = if unavailable {
        StatusCode::SERVICE_UNAVAILABLE
    } else if let Some((status, _)) = limited {
        status
    } else if wrong_method {
        StatusCode::METHOD_NOT_ALLOWED
    } else if not_executed && media_type == ResponseMediaType::GraphQLResponseJson {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut response = with_media_type((status, body).into_response(), media_type);
    if unavailable {
        super::problem::set_retry_after(&mut response);
    }
    if wrong_method {
        super::problem::set_allow_post(&mut response);
    }
    match limited {
        Some((_, retry_after)) if !unavailable => {
            super::rate_limit::with_retry_after(response, retry_after)
        }
        _ => response,
    }
}

/// Whether an error of `response` has `extensions.code` `wanted`. One with
/// `UNAVAILABLE` is answered with 503 and `Retry-After`, so HTTP clients and
/// proxies retry it without reading the body; `METHOD_NOT_ALLOWED` (a
/// mutation over GET) with 405.
fn has_error_coded(response: &async_graphql::Response, wanted: &str) -> bool {
    response.errors.iter().any(|error| {
        error
            .extensions
            .as_ref()
            .and_then(|extensions| extensions.get("code"))
            .is_some_and(|value| *value == async_graphql::Value::from(wanted))
    })
}

/// The body of a request error: like a GraphQL response, without `data`.
#[derive(serde::Serialize)]
struct RequestErrorBody<'a> {
    errors: &'a [async_graphql::ServerError],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    extensions: &'a BTreeMap<String, async_graphql::Value>,
}

/// A request error in the specification's sense: nothing was executed, so
/// there is no data and no error points at a field (parse and validation
/// errors, limits, unknown operation, variables that do not coerce). A field
/// error always has a path, even when it nulls the whole `data`.
fn is_request_error(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| error.path.is_empty())
}

fn with_media_type(mut response: Response, media_type: ResponseMediaType) -> Response {
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, media_type.header_value());
    response
}

fn not_acceptable() -> Response {
    problem(
        StatusCode::NOT_ACCEPTABLE,
        code::NOT_ACCEPTABLE,
        "accept `application/graphql-response+json` or `application/json`",
    )
}

fn parse_request_body(body: &[u8]) -> Result<async_graphql::Request, String> {
    // The common case straight into the request: a batch of 1000 events is
    // not built as a `serde_json::Value` tree first.
    let is_object = body
        .iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|byte| *byte == b'{');
    // (An empty `query` may mean a missing one, which async-graphql defaults.)
    if is_object
        && let Ok(request) = serde_json::from_slice::<async_graphql::Request>(body)
        && !request.query.is_empty()
    {
        return Ok(request);
    }
    // Anything else is refused; parse it generically to say precisely why.
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|error| format!("the body is not valid JSON: {error}"))?;
    match value {
        serde_json::Value::Object(ref object)
            if !object.contains_key("query") && !is_persisted_query(object) =>
        {
            Err("the request has no `query` (nor `extensions.persistedQuery`)".into())
        }
        serde_json::Value::Object(_) => serde_json::from_value(value)
            .map_err(|error| format!("the body is not a GraphQL request: {error}")),
        serde_json::Value::Array(_) => {
            Err("batched requests are not supported; send one operation per request".into())
        }
        _ => Err("the body must be a JSON object with a `query` field".into()),
    }
}

/// Whether a request without `query` names a persisted query by its hash
/// (Apollo's automatic persisted queries; see `graphql::documents`).
fn is_persisted_query(object: &serde_json::Map<String, serde_json::Value>) -> bool {
    object
        .get("extensions")
        .and_then(|extensions| extensions.get("persistedQuery"))
        .is_some()
}

/// A GraphQL request from a URL's query string: `query`, `operationName`,
/// and `variables` and `extensions` as JSON text (GraphQL over HTTP, and
/// Apollo's persisted queries with `extensions` alone).
fn parse_query_string(query_string: &str) -> Result<async_graphql::Request, String> {
    #[derive(serde::Deserialize)]
    struct Parameters {
        #[serde(default)]
        query: String,
        #[serde(rename = "operationName")]
        operation_name: Option<String>,
        variables: Option<String>,
        extensions: Option<String>,
    }
    let parameters: Parameters = serde_urlencoded::from_str(query_string)
        .map_err(|error| format!("the query string is not a GraphQL request: {error}"))?;
    fn json<T: serde::de::DeserializeOwned + Default>(
        name: &str,
        text: Option<String>,
    ) -> Result<T, String> {
        match text.filter(|text| !text.is_empty()) {
            Some(text) => serde_json::from_str(&text)
                .map_err(|error| format!("`{name}` is not a JSON object: {error}")),
            None => Ok(T::default()),
        }
    }
    let variables: async_graphql::Variables = json("variables", parameters.variables)?;
    let extensions: async_graphql::Extensions = json("extensions", parameters.extensions)?;
    if parameters.query.is_empty() && !extensions.contains_key("persistedQuery") {
        return Err("missing `query` parameter".into());
    }
    let mut request = async_graphql::Request::new(parameters.query).variables(variables);
    request.extensions = extensions;
    request.operation_name = parameters.operation_name.filter(|name| !name.is_empty());
    Ok(request)
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.to_ascii_lowercase().contains("text/html"))
}
