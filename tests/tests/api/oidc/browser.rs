//! The browser login, driven like a browser: `/auth/login` → the provider's
//! login and consent forms → `/auth/callback` → session cookie → GraphQL →
//! `/auth/logout`; the CSRF check on cookie-authenticated requests; and the
//! `user.login` / `user.login_failed` / `user.logout` events.

use auditlog_tests::oidc::Browser;
use auditlog_tests::{Backend, GqlResponse, TestApp, backend_tests, spawn_app};
use reqwest::header::{COOKIE, ORIGIN};
use serde_json::{Value, json};

use super::{browser_signed_in, events_with_actions, fixture, session_cookie};

const TENANT_QUERY: &str = "query { tenant { slug } }";

/// `POST /graphql` with a `Cookie` header and optional extra headers.
pub(super) async fn graphql_with_cookie(
    app: &TestApp,
    cookie: &str,
    headers: &[(&str, &str)],
    query: &str,
) -> GqlResponse {
    let mut all = vec![(COOKIE.as_str(), cookie)];
    all.extend_from_slice(headers);
    app.graphql_with_headers(query, Value::Null, None, &all)
        .await
}

/// `POST /auth/logout` from `origin` with the browser's cookies.
async fn logout(browser: &Browser, app: &TestApp, origin: &str) -> reqwest::Response {
    browser
        .client
        .post(app.url("/auth/logout"))
        .header(ORIGIN, origin)
        .send()
        .await
        .unwrap()
}

fn slug(response: &GqlResponse) -> &str {
    response.field("tenant")["slug"].as_str().unwrap()
}

/// The full flow: login → cookie → GraphQL → a second login rotates the
/// session id → logout; each step in the tenant's log with the person as actor.
async fn browser_login_opens_a_session_until_logout(backend: Backend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let origin = app.address.as_str();
    let (browser, first_cookie) = browser_signed_in(app, "alice").await;
    assert!(
        !first_cookie.contains("auditlog_login"),
        "the login-flow cookie is cleared"
    );

    // Same-origin requests: with `Origin` (POST from a page), or with the
    // custom header when a request carries no `Origin`.
    let response =
        graphql_with_cookie(app, &first_cookie, &[("origin", origin)], TENANT_QUERY).await;
    assert_eq!(slug(&response), "acme");
    let response = graphql_with_cookie(
        app,
        &first_cookie,
        &[("x-requested-with", "fetch")],
        TENANT_QUERY,
    )
    .await;
    assert_eq!(slug(&response), "acme");

    let logins = events_with_actions(app, &f.acme.admin_key, &["user.login"]).await;
    assert_eq!(logins.len(), 1, "{logins:?}");
    assert_eq!(
        logins[0]["actor"],
        json!({"type": "USER", "actorId": "alice", "id": "alice", "name": "Alice Admin", "email": "alice@acme.test"})
    );
    assert_eq!(logins[0]["outcome"], "SUCCESS");
    assert_eq!(logins[0]["target"]["type"], "session");
    assert_eq!(logins[0]["payload"]["role"], "admin");
    assert!(
        events_with_actions(app, &f.beta.admin_key, &["user.login"])
            .await
            .is_empty(),
        "B's log is untouched"
    );

    // A second login in the same browser issues a new session id and ends the old one.
    let (url, status, _) = browser
        .sign_in(&app.url("/auth/login?return_to=/healthz"), "alice", None)
        .await
        .page();
    assert_eq!((url, status), (app.url("/healthz"), 200));
    let second_cookie = session_cookie(&browser, app);
    assert_ne!(
        second_cookie, first_cookie,
        "the session id rotates at login"
    );
    graphql_with_cookie(app, &first_cookie, &[("origin", origin)], TENANT_QUERY)
        .await
        .assert_error("UNAUTHENTICATED");

    let response = logout(&browser, app, origin).await;
    assert_eq!(response.status(), 204);
    let cleared = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|value| value.to_str().unwrap().starts_with("auditlog_session=;"));
    assert!(cleared, "logout clears the cookie");
    graphql_with_cookie(app, &second_cookie, &[("origin", origin)], TENANT_QUERY)
        .await
        .assert_error("UNAUTHENTICATED");

    let logouts = events_with_actions(app, &f.acme.admin_key, &["user.logout"]).await;
    assert_eq!(logouts.len(), 1, "{logouts:?}");
    assert_eq!(logouts[0]["actor"]["id"], "alice");
    assert_eq!(logouts[0]["actor"]["type"], "USER");
}

/// A cookie-authenticated request from a foreign origin (or with neither an
/// `Origin` nor the custom header) is `FORBIDDEN`; so is a foreign logout,
/// which leaves the session working.
async fn cookie_requests_from_foreign_origins_are_refused(backend: Backend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let (browser, cookie) = browser_signed_in(app, "bob").await;

    let foreign = graphql_with_cookie(
        app,
        &cookie,
        &[("origin", "http://evil.example")],
        TENANT_QUERY,
    )
    .await;
    foreign.assert_error("FORBIDDEN");
    assert!(
        foreign.error_message().contains("cross-site"),
        "{}",
        foreign.text
    );
    graphql_with_cookie(app, &cookie, &[], TENANT_QUERY)
        .await
        .assert_error("FORBIDDEN");

    assert_eq!(
        logout(&browser, app, "http://evil.example").await.status(),
        403
    );
    let response =
        graphql_with_cookie(app, &cookie, &[("origin", &app.address)], TENANT_QUERY).await;
    assert_eq!(slug(&response), "acme");
    assert!(
        events_with_actions(app, &f.acme.admin_key, &["user.logout"])
            .await
            .is_empty(),
        "a refused logout records nothing"
    );
}

/// A verified person of a known tenant without a mapped role is refused, and
/// `user.login_failed` (reason category only) lands in that tenant's log; a
/// person naming no tenant is refused and recorded nowhere.
async fn refused_logins_are_forbidden_and_recorded_in_the_tenant(backend: Backend) {
    let f = fixture(backend).await;
    let app = &f.app;
    let before_beta = app.event_count(&f.beta.admin_key).await;

    let browser = Browser::new();
    let (_, status, body) = browser
        .sign_in(&app.url("/auth/login"), "erin", None)
        .await
        .page();
    assert_eq!(status, 403, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert!(body.contains("`roles`"), "{body}");
    assert!(
        browser
            .cookies_for(&app.address)
            .is_none_or(|cookies| !cookies.to_str().unwrap().contains("auditlog_session")),
        "no session for a refused login"
    );
    let failed = events_with_actions(app, &f.acme.admin_key, &["user.login_failed"]).await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["outcome"], "FAILURE");
    assert_eq!(failed[0]["actor"]["id"], "erin");
    assert_eq!(failed[0]["actor"]["type"], "USER");
    assert_eq!(failed[0]["payload"]["reason"], "missing_role");
    assert!(
        !failed[0].to_string().contains("eyJ"),
        "no token in the event"
    );

    let (_, status, body) = Browser::new()
        .sign_in(&app.url("/auth/login"), "dave", None)
        .await
        .page();
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("`org_id`"), "{body}");
    assert_eq!(
        events_with_actions(app, &f.acme.admin_key, &["user.login_failed"])
            .await
            .len(),
        1
    );
    assert_eq!(app.event_count(&f.beta.admin_key).await, before_beta);
}

/// A callback without the login-flow cookie, or with a forged `state`, opens
/// no session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_without_a_matching_login_are_refused() {
    let f = fixture(Backend::Sqlite).await;
    let browser = Browser::new();
    let (_, status, body) = browser
        .follow(&f.app.url("/auth/callback?code=abc&state=forged"), None)
        .await
        .page();
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("login_expired"), "{body}");

    // Start a real login, then come back with another state.
    let login = browser
        .follow(&f.app.url("/auth/login"), Some(&f.provider.issuer))
        .await;
    assert!(
        login.redirected_to().contains("code_challenge="),
        "PKCE is used"
    );
    let (_, status, body) = browser
        .follow(&f.app.url("/auth/callback?code=abc&state=forged"), None)
        .await
        .page();
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("state_mismatch"), "{body}");
}

/// Without an identity provider the login routes do not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_login_is_off_without_an_identity_provider() {
    let app = spawn_app(Backend::Sqlite).await;
    let response = app.client.get(app.url("/auth/login")).send().await.unwrap();
    assert_eq!(response.status(), 404);
}

backend_tests!(
    browser_login_opens_a_session_until_logout,
    cookie_requests_from_foreign_origins_are_refused,
    refused_logins_are_forbidden_and_recorded_in_the_tenant,
);
