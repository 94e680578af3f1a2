//! Issue 16, calling the API from another origin: `AUDITLOG_CORS_ORIGINS`
//! answers preflights and grants `Access-Control-Allow-Origin` and
//! `-Credentials` to the listed origins only; without it there is no
//! `Access-Control-*` header at all. The WebSocket `Origin` check and the CSRF
//! check of cookie-authenticated requests read the same list, and
//! `AUDITLOG_ALLOWED_ORIGINS` is its alias.
//!
//! A refused origin's request is still answered (an API key works from any
//! client): CORS only tells the browser whether its page may read the answer,
//! so the tests look at the headers, not at the status.

use auditlog_api::config::Settings;
use auditlog_api::limits::Rate;
use auditlog_api::startup::Application;
use auditlog_tests::ws::{TRANSPORT_WS, WsClient};
use auditlog_tests::{Backend, GqlResponse, TestApp, backend_tests, spawn_app_with};
use reqwest::Method;
use reqwest::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, AsHeaderName, HeaderMap, ORIGIN,
};
use serde_json::{Value, json};

use crate::oidc::{browser_signed_in, fixture_with};

/// The frontend's origin, listed in `AUDITLOG_CORS_ORIGINS`.
const LISTED: &str = "https://app.example.com";
/// Any other page.
const FOREIGN: &str = "https://evil.example";
/// What a frontend's preflight asks for: every header the API reads.
const REQUESTED_HEADERS: &str = "authorization,content-type,auditlog-tenant,x-request-id";
const TENANT_QUERY: &str = "query { tenant { slug } }";

fn list_the_frontend(settings: &mut Settings) {
    settings.origins.cors_origins = vec![LISTED.into()];
}

/// `OPTIONS /graphql` as a browser sends it before a cross-origin POST.
async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.graphql_url())
        .header(ORIGIN, origin)
        .header(ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(ACCESS_CONTROL_REQUEST_HEADERS, REQUESTED_HEADERS)
        .send()
        .await
        .unwrap()
}

/// `POST /graphql` from a page on `origin` with `headers` (a credential).
async fn graphql_from(app: &TestApp, origin: &str, headers: &[(&str, &str)]) -> GqlResponse {
    let mut all = vec![("origin", origin)];
    all.extend_from_slice(headers);
    app.graphql_with_headers(TENANT_QUERY, Value::Null, None, &all)
        .await
}

fn header(headers: &HeaderMap, name: impl AsHeaderName) -> Option<&str> {
    headers.get(name).map(|value| value.to_str().unwrap())
}

/// A comma-separated header's entries, lowercase.
fn entries(headers: &HeaderMap, name: impl AsHeaderName) -> Vec<String> {
    header(headers, name)
        .unwrap_or_default()
        .split(',')
        .map(|entry| entry.trim().to_ascii_lowercase())
        .filter(|entry| !entry.is_empty())
        .collect()
}

/// The names of the response's `Access-Control-*` headers.
fn access_control(headers: &HeaderMap) -> Vec<&str> {
    headers
        .keys()
        .map(|name| name.as_str())
        .filter(|name| name.starts_with("access-control-"))
        .collect()
}

/// Asserts that `origin` may read the response and send credentials.
#[track_caller]
fn assert_granted(headers: &HeaderMap, origin: &str) {
    assert_eq!(
        header(headers, ACCESS_CONTROL_ALLOW_ORIGIN),
        Some(origin),
        "{headers:?}"
    );
    assert_eq!(
        header(headers, ACCESS_CONTROL_ALLOW_CREDENTIALS),
        Some("true"),
        "{headers:?}"
    );
}

/// Asserts that neither reading nor credentials are granted.
#[track_caller]
fn assert_not_granted(headers: &HeaderMap) {
    for name in [
        ACCESS_CONTROL_ALLOW_ORIGIN,
        ACCESS_CONTROL_ALLOW_CREDENTIALS,
    ] {
        assert!(headers.get(&name).is_none(), "{name} in {headers:?}");
    }
}

/// A listed origin's preflight is answered with its origin, credentials, the
/// methods and headers a frontend needs and a cache lifetime, before the
/// per-IP limit (one request), authentication or the media-type check could
/// refuse it; a foreign origin's preflight gets no grant.
async fn preflights_are_granted_to_listed_origins_only(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        list_the_frontend(settings);
        settings.limits.rate_limit_per_ip = Rate::per_minute(1);
        settings.limits.rate_limit_per_ip_burst = 1;
    })
    .await;
    for _ in 0..3 {
        let response = preflight(&app, LISTED).await;
        assert!(response.status().is_success(), "{}", response.status());
        let headers = response.headers();
        assert_granted(headers, LISTED);
        let allowed_headers = entries(headers, ACCESS_CONTROL_ALLOW_HEADERS);
        for requested in REQUESTED_HEADERS.split(',') {
            assert!(
                allowed_headers.iter().any(|h| h == requested),
                "{requested} not allowed: {allowed_headers:?}"
            );
        }
        let methods = entries(headers, ACCESS_CONTROL_ALLOW_METHODS);
        for method in ["get", "post"] {
            assert!(methods.iter().any(|m| m == method), "{methods:?}");
        }
        assert_eq!(header(headers, ACCESS_CONTROL_MAX_AGE), Some("600"));
        assert!(
            entries(headers, "vary").iter().any(|h| h == "origin"),
            "a shared cache must key the answer by origin: {headers:?}"
        );
    }

    let response = preflight(&app, FOREIGN).await;
    assert_not_granted(response.headers());
}

/// A request with an API key from a listed origin's page carries the grant and
/// exposes the request id and `Retry-After`; from a foreign page it is
/// answered without any grant.
async fn requests_are_granted_to_listed_origins_only(backend: Backend) {
    let app = spawn_app_with(backend, list_the_frontend).await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    let bearer = format!("Bearer {}", tenant.admin_key);
    let credential = [("authorization", bearer.as_str())];

    let listed = graphql_from(&app, LISTED, &credential).await.headers;
    assert_granted(&listed, LISTED);
    let exposed = entries(&listed, ACCESS_CONTROL_EXPOSE_HEADERS);
    for name in ["x-request-id", "retry-after"] {
        assert!(exposed.iter().any(|h| h == name), "{exposed:?}");
    }

    let foreign = graphql_from(&app, FOREIGN, &credential).await.headers;
    assert_not_granted(&foreign);
}

/// The default (no origins listed): no `Access-Control-*` header on a
/// preflight or a request, so browsers keep every other origin out.
async fn no_origin_is_granted_by_default(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    let bearer = format!("Bearer {}", tenant.admin_key);

    let response = preflight(&app, LISTED).await;
    assert_eq!(access_control(response.headers()), Vec::<&str>::new());
    let headers = graphql_from(&app, LISTED, &[("authorization", bearer.as_str())])
        .await
        .headers;
    assert_eq!(access_control(&headers), Vec::<&str>::new());
}

/// An origin listed only in `AUDITLOG_CORS_ORIGINS` may open a WebSocket; an
/// unlisted one gets 403 before the upgrade.
async fn websocket_origin_check_reads_the_cors_list(backend: Backend) {
    let app = spawn_app_with(backend, list_the_frontend).await;
    let acme = app.create_tenant("acme", "TEAM").await;

    let refused =
        WsClient::try_connect_with_headers(&app.ws_url(), TRANSPORT_WS, &[("origin", FOREIGN)])
            .await
            .err()
            .expect("an unlisted origin must be refused");
    assert_eq!(refused.status, 403, "{refused}");

    let mut client =
        WsClient::connect_with_headers(&app.ws_url(), TRANSPORT_WS, &[("origin", LISTED)]).await;
    let init = json!({ "type": "connection_init",
                       "payload": { "Authorization": format!("Bearer {}", acme.admin_key) } });
    client.send(init).await;
    assert_eq!(client.next_json().await["type"], "connection_ack");
    client.close().await;
}

/// A signed-in browser on a listed origin: the CSRF check accepts the session
/// cookie from it (GraphQL and logout) and the response lets its page read the
/// answer with credentials; from a foreign origin the cookie is `FORBIDDEN`
/// and no credentials are granted, on the preflight or the request.
async fn cookie_credentials_are_granted_to_listed_origins_only(backend: Backend) {
    let f = fixture_with(backend, list_the_frontend).await;
    let app = &f.app;
    let (browser, cookie) = browser_signed_in(app, "alice").await;

    let cookie = [("cookie", cookie.as_str())];
    let foreign = graphql_from(app, FOREIGN, &cookie).await;
    foreign.assert_error("FORBIDDEN");
    assert_not_granted(&foreign.headers);
    assert_not_granted(preflight(app, FOREIGN).await.headers());

    let listed = graphql_from(app, LISTED, &cookie).await;
    assert_eq!(listed.field("tenant")["slug"], "acme");
    assert_granted(&listed.headers, LISTED);

    let logout = browser
        .client
        .post(app.url("/auth/logout"))
        .header(ORIGIN, LISTED)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    assert_granted(logout.headers(), LISTED);
}

/// `AUDITLOG_ALLOWED_ORIGINS`, the former name, still lists an origin for CORS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_former_variable_is_an_alias() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.origins.allowed_origins = vec![LISTED.into()];
    })
    .await;
    assert_granted(preflight(&app, LISTED).await.headers(), LISTED);
}

/// An entry that is not an exact origin stops the start, naming the variable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inexact_origin_stops_the_start() {
    for entry in ["*", "https://app.example.com/console", "app.example.com"] {
        let mut settings = Settings::for_database("sqlite::memory:".to_owned());
        settings.origins.cors_origins = vec![LISTED.into(), entry.into()];
        let refused = Application::build(settings)
            .await
            .err()
            .unwrap_or_else(|| panic!("started with {entry:?}"));
        let message = format!("{refused:#}");
        assert!(
            message.contains("AUDITLOG_CORS_ORIGINS") && message.contains(entry),
            "{message}"
        );
    }
}

backend_tests!(
    preflights_are_granted_to_listed_origins_only,
    requests_are_granted_to_listed_origins_only,
    no_origin_is_granted_by_default,
    websocket_origin_check_reads_the_cors_list,
    cookie_credentials_are_granted_to_listed_origins_only,
);
