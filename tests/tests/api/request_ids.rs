//! Request ids: every response has `x-request-id`; a caller's own id is echoed
//! and becomes `context.requestId` of the events the request records, unless an
//! event names its own; unusable ids are replaced, never echoed.

use auditlog_tests::{Backend, GqlResponse, TestApp, backend_tests, queries};
use serde_json::json;

use crate::helpers::{app_with_tenant, event};

async fn record_with_request_id(
    app: &TestApp,
    key: &str,
    request_id: &str,
    events: serde_json::Value,
) -> GqlResponse {
    app.graphql_with_headers(
        queries::RECORD_EVENTS,
        json!({ "events": events }),
        Some(key),
        &[("x-request-id", request_id)],
    )
    .await
}

async fn every_response_gets_a_generated_id(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let recorded = app.record(&tenant.admin_key, json!([event("a.b")])).await;
    let unauthenticated = app.graphql("{ tenant { slug } }", json!({}), None).await;
    let health = app.get("/healthz", "*/*", None).await;
    let mut seen = Vec::new();
    for response in [&recorded, &unauthenticated, &health] {
        let id = response
            .header("x-request-id")
            .unwrap_or_else(|| panic!("no x-request-id on {}", response.text));
        assert!(uuid::Uuid::parse_str(id).is_ok(), "not a UUID: {id}");
        seen.push(id.to_owned());
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 3, "request ids must differ per request");
    // A generated id is the server's, not the producer's: not stored in events.
    let events = recorded.field("recordAuditEvents")["events"].clone();
    assert_eq!(events[0]["context"]["requestId"], serde_json::Value::Null);
}

async fn callers_id_is_echoed_and_stored_in_events(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let own = json!({ "action": "a.own", "actor": { "type": "USER", "id": "u" },
                      "context": { "requestId": "event-chosen" } });
    let response = record_with_request_id(
        &app,
        &tenant.admin_key,
        "req-7f3a",
        json!([event("a.b"), own]),
    )
    .await;
    assert_eq!(response.header("x-request-id"), Some("req-7f3a"));
    let events = response.field("recordAuditEvents")["events"].clone();
    assert_eq!(events[0]["context"]["requestId"], "req-7f3a");
    assert_eq!(events[1]["context"]["requestId"], "event-chosen");
    let stored = app.all_events(&tenant.admin_key, json!({})).await;
    let by_action = |action: &str| {
        stored
            .iter()
            .find(|event| event["action"] == action)
            .map(|event| event["context"]["requestId"].clone())
    };
    assert_eq!(by_action("a.b"), Some(json!("req-7f3a")));
    assert_eq!(by_action("a.own"), Some(json!("event-chosen")));
}

async fn unusable_ids_are_replaced(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    for bad in ["x".repeat(129), "two words".to_owned()] {
        let response =
            record_with_request_id(&app, &tenant.admin_key, &bad, json!([event("a.b")])).await;
        let id = response.header("x-request-id").unwrap_or_default();
        assert!(
            uuid::Uuid::parse_str(id).is_ok(),
            "{bad:?} was not replaced: {id}"
        );
        let events = response.field("recordAuditEvents")["events"].clone();
        assert_eq!(events[0]["context"]["requestId"], serde_json::Value::Null);
    }
}

async fn a_retry_with_a_new_request_id_is_still_the_same_event(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let keyed = json!([{ "action": "a.b", "actor": { "type": "USER", "id": "u" },
                         "idempotencyKey": "retry-1" }]);
    let first = record_with_request_id(&app, &tenant.admin_key, "attempt-1", keyed.clone()).await;
    let retry = record_with_request_id(&app, &tenant.admin_key, "attempt-2", keyed).await;
    assert!(retry.errors().is_empty(), "{}", retry.text);
    let first = &first.field("recordAuditEvents")["events"][0];
    let retry = &retry.field("recordAuditEvents")["events"][0];
    assert_eq!(retry["id"], first["id"]);
    assert_eq!(retry["context"]["requestId"], "attempt-1");
}

async fn a_request_id_does_not_cross_tenants(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let other = app.create_tenant("other-co", "TEAM").await;
    record_with_request_id(&app, &tenant.admin_key, "req-shared", json!([event("a.b")])).await;
    let seen_by_other = app.all_events(&other.admin_key, json!({})).await;
    assert!(
        seen_by_other
            .iter()
            .all(|event| event["context"]["requestId"] != "req-shared"),
        "{seen_by_other:?}"
    );
}

backend_tests!(
    every_response_gets_a_generated_id,
    callers_id_is_echoed_and_stored_in_events,
    unusable_ids_are_replaced,
    a_retry_with_a_new_request_id_is_still_the_same_event,
    a_request_id_does_not_cross_tenants,
);
