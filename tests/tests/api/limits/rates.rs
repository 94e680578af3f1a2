//! Requests per credential (after authentication) and per client IP (before it).

use auditlog_api::limits::Rate;
use auditlog_tests::ws::{TRANSPORT_WS, WsClient};
use auditlog_tests::{Backend, backend_tests, spawn_app_with};
use serde_json::Value;

use super::{metrics, post};

const TENANT_QUERY: &str = "{ tenant { slug } }";

/// One credential over its budget gets 429 + `Retry-After` + `RATE_LIMITED`;
/// another tenant's key, and the operator, have budgets of their own.
async fn a_credential_over_its_rate_gets_429_and_others_are_unaffected(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.limits.rate_limit_per_credential = Rate::per_minute(1);
        settings.limits.rate_limit_per_credential_burst = 2;
    })
    .await;
    // The operator's two requests use up its own budget only.
    let acme = app.create_tenant("acme", "TEAM").await;
    let globex = app.create_tenant("globex", "TEAM").await;

    for _ in 0..2 {
        let answer = post(&app, TENANT_QUERY, Value::Null, Some(&acme.admin_key)).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body["data"]["tenant"]["slug"], "acme");
    }
    let refused = post(&app, TENANT_QUERY, Value::Null, Some(&acme.admin_key)).await;
    refused.assert_too_many("RATE_LIMITED");
    assert!(refused.body["data"].is_null(), "{}", refused.body);

    let other = post(&app, TENANT_QUERY, Value::Null, Some(&globex.admin_key)).await;
    assert_eq!(other.status, 200, "{}", other.body);
    assert_eq!(other.body["data"]["tenant"]["slug"], "globex");

    let operator = post(&app, TENANT_QUERY, Value::Null, Some(&app.operator_token)).await;
    operator.assert_too_many("RATE_LIMITED");

    assert!(
        metrics(&app)
            .await
            .contains("auditlog_rate_limit_rejections_total{scope=\"credential\"}"),
        "no credential rejections counted"
    );
}

/// Unauthenticated requests count against the client's address, before any
/// credential is looked at; WebSocket upgrades count too. Health checks and
/// metrics are not limited.
async fn an_address_over_its_rate_gets_429_before_authentication(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.limits.rate_limit_per_ip = Rate::per_minute(1);
        settings.limits.rate_limit_per_ip_burst = 2;
    })
    .await;
    for _ in 0..2 {
        let answer = post(&app, "{ __typename }", Value::Null, None).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let refused = post(&app, "{ __typename }", Value::Null, Some("garbage")).await;
    refused.assert_too_many("RATE_LIMITED");

    let upgrade = WsClient::try_connect_with_headers(&app.ws_url(), TRANSPORT_WS, &[]).await;
    let refused = upgrade.err().expect("the upgrade should be refused");
    assert_eq!(refused.status, 429, "{refused}");
    assert!(refused.retry_after.is_some(), "{refused:?}");
    assert_eq!(
        refused.body["errors"][0]["extensions"]["code"],
        "RATE_LIMITED"
    );

    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(
        metrics(&app)
            .await
            .contains("auditlog_rate_limit_rejections_total{scope=\"ip\"}"),
        "no IP rejections counted"
    );
}

/// A `X-Forwarded-For` header from an untrusted peer does not buy a new
/// budget; from a trusted proxy it names the client.
async fn forwarded_for_counts_only_from_trusted_proxies(backend: Backend) {
    for (trusted, expected) in [(false, [200, 429, 429]), (true, [200, 200, 429])] {
        let app = spawn_app_with(backend, |settings| {
            settings.limits.rate_limit_per_ip = Rate::per_minute(1);
            settings.limits.rate_limit_per_ip_burst = 1;
            if trusted {
                settings.limits.trusted_proxies = vec!["127.0.0.1".into()];
            }
        })
        .await;
        let mut statuses = Vec::new();
        for client in ["198.51.100.1", "198.51.100.2", "198.51.100.1"] {
            let response = app
                .graphql_with_headers(
                    "{ __typename }",
                    Value::Null,
                    None,
                    &[("x-forwarded-for", client)],
                )
                .await;
            statuses.push(response.status.as_u16());
        }
        assert_eq!(statuses, expected, "trusted proxy: {trusted}");
    }
}

/// A PUBLISHER key has its own, higher rate (an application server recording
/// one event per request), and a credential verified moments ago is not
/// counted against its address: only its own limit applies.
async fn publishers_have_their_own_rate_and_verified_callers_skip_the_address_limit(
    backend: Backend,
) {
    let app = spawn_app_with(backend, |settings| {
        settings.limits.rate_limit_per_ip = Rate::per_minute(1);
        settings.limits.rate_limit_per_ip_burst = 3;
        settings.limits.rate_limit_per_credential = Rate::per_minute(1);
        settings.limits.rate_limit_per_credential_burst = 2;
        settings.limits.rate_limit_per_publisher = Rate::per_minute(1);
        settings.limits.rate_limit_per_publisher_burst = 6;
        settings.auth_cache_ms = 600_000;
    })
    .await;
    // Address cells: the operator's request, the admin key's first, the
    // publisher key's first; every later request of a verified key passes.
    let acme = app.create_tenant("acme", "TEAM").await;
    let created = post(
        &app,
        "mutation { createApiKey(name: \"app\", role: PUBLISHER) { secret } }",
        Value::Null,
        Some(&acme.admin_key),
    )
    .await;
    let publisher = created.body["data"]["createApiKey"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("no key: {}", created.body))
        .to_owned();
    let record = "mutation { recordAuditEvents(events: [{ action: \"page.view\", \
                  actor: { type: USER, id: \"u1\" } }]) { events { sequence } } }";
    for attempt in 0..6 {
        let answer = post(&app, record, Value::Null, Some(&publisher)).await;
        assert_eq!(answer.status, 200, "request {attempt}: {}", answer.body);
    }
    post(&app, record, Value::Null, Some(&publisher))
        .await
        .assert_too_many("RATE_LIMITED");
    let admin = post(&app, TENANT_QUERY, Value::Null, Some(&acme.admin_key)).await;
    assert_eq!(admin.status, 200, "{}", admin.body);
    post(&app, TENANT_QUERY, Value::Null, Some(&acme.admin_key))
        .await
        .assert_too_many("RATE_LIMITED");
    // The address's budget is spent: an unverified request is refused by it.
    post(&app, "{ __typename }", Value::Null, Some("garbage"))
        .await
        .assert_too_many("RATE_LIMITED");
}

backend_tests!(
    publishers_have_their_own_rate_and_verified_callers_skip_the_address_limit,
    a_credential_over_its_rate_gets_429_and_others_are_unaffected,
    an_address_over_its_rate_gets_429_before_authentication,
    forwarded_for_counts_only_from_trusted_proxies,
);
