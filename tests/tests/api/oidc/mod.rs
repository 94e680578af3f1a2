//! Sign-in for people (issue 5), against a real OpenID Provider (`oidc-provider`
//! on Node.js, see `auditlog_tests::oidc`): IdP access tokens on HTTP
//! ([`tokens`]), the browser login with its session cookie, CSRF check and
//! user-activity events ([`browser`]), and WebSocket subscriptions opened with a
//! token or a session ([`live`]).
//!
//! Tests whose outcome depends on the database (sessions, events, isolation)
//! run on both backends; pure token validation runs on SQLite only.

mod browser;
mod live;
mod tokens;

use auditlog_api::config::Settings;
use auditlog_tests::oidc::{Browser, OidcProvider, spawn_app_with_oidc};
use auditlog_tests::{Backend, TenantHandle, TestApp};
use serde_json::{Value, json};

/// A provider with the test people, and a server with two tenants:
/// `acme` (ENTERPRISE) and `beta` (TEAM).
pub(crate) struct Fixture {
    pub provider: OidcProvider,
    pub app: TestApp,
    pub acme: TenantHandle,
    pub beta: TenantHandle,
}

/// The people of the provider. Roles map with the defaults: `admin` → ADMIN,
/// `auditor` → AUDITOR.
fn people() -> Vec<(&'static str, Value)> {
    vec![
        (
            "alice",
            json!({"org_id": "acme", "roles": ["admin"], "name": "Alice Admin", "email": "alice@acme.test"}),
        ),
        (
            "bob",
            json!({"org_id": "acme", "roles": ["auditor"], "name": "Bob Auditor", "email": "bob@acme.test"}),
        ),
        (
            "carol",
            json!({"org_id": "beta", "roles": ["admin"], "name": "Carol", "email": "carol@beta.test"}),
        ),
        // No tenant claim at all.
        ("dave", json!({"roles": ["admin"], "name": "Dave"})),
        // A tenant, but no role value that maps to ADMIN or AUDITOR.
        (
            "erin",
            json!({"org_id": "acme", "roles": ["viewer"], "name": "Erin", "email": "erin@acme.test"}),
        ),
        // A tenant claim naming no tenant.
        ("frank", json!({"org_id": "nowhere", "roles": ["admin"]})),
    ]
}

pub(crate) async fn fixture(backend: Backend) -> Fixture {
    fixture_with(backend, |_| {}).await
}

pub(crate) async fn fixture_with(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> Fixture {
    let provider = OidcProvider::start().await;
    for (login, claims) in people() {
        provider.set_account(login, claims);
    }
    let app = spawn_app_with_oidc(backend, &provider, configure).await;
    let acme = app.create_tenant("acme", "ENTERPRISE").await;
    let beta = app.create_tenant("beta", "TEAM").await;
    Fixture {
        provider,
        app,
        acme,
        beta,
    }
}

/// The slug of the bearer's tenant (`tenant { slug }`), asserting success.
pub(crate) async fn tenant_slug(app: &TestApp, bearer: &str) -> String {
    auditlog_tests::str_field(app.tenant(Some(bearer)).await.field("tenant"), "slug")
}

/// The tenant's events with one of `actions`, newest first.
pub(crate) async fn events_with_actions(app: &TestApp, key: &str, actions: &[&str]) -> Vec<Value> {
    app.all_events(key, json!({ "actions": actions })).await
}

/// Signs `login` in through the server's own login flow; returns the browser
/// (holding the session cookie) and the cookie header it sends to the server.
pub(crate) async fn browser_signed_in(app: &TestApp, login: &str) -> (Browser, String) {
    let browser = Browser::new();
    let (url, status, body) = browser
        .sign_in(&app.url("/auth/login?return_to=/healthz"), login, None)
        .await
        .page();
    assert_eq!(
        (url.as_str(), status, body.as_str()),
        (app.url("/healthz").as_str(), 200, "ok"),
        "the login did not land on return_to"
    );
    let cookie = session_cookie(&browser, app);
    (browser, cookie)
}

/// The `Cookie` header the browser sends to the server, asserting a session.
pub(crate) fn session_cookie(browser: &Browser, app: &TestApp) -> String {
    let cookies = browser
        .cookies_for(&app.address)
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let session = cookies
        .split("; ")
        .find(|cookie| cookie.starts_with("auditlog_session="))
        .unwrap_or_else(|| panic!("no session cookie in {cookies:?}"));
    session.to_owned()
}
