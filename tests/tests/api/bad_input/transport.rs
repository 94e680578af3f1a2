//! Bad requests at the HTTP level: oversized and non-JSON bodies, unparsable
//! documents, and mutations sent over GET.

use auditlog_tests::{Backend, backend_tests, queries};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{app_with_tenant, key_states};

async fn rejects_a_body_over_4_mib_with_413(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let count = app.event_count(key).await;
    // Many events each under the payload limit, together over the body limit.
    let chunk = "x".repeat(40 * 1024);
    let events: Vec<Value> = (0..110)
        .map(|i| json!({ "action": "bulk.upload", "actor": { "type": "USER", "id": format!("u{i}") }, "payload": { "chunk": chunk } }))
        .collect();
    let body =
        json!({ "query": queries::RECORD_EVENTS, "variables": { "events": events } }).to_string();
    assert!(body.len() > 4 * 1024 * 1024);

    let response = app.post_raw(body, "application/json", Some(key)).await;
    assert_eq!(
        response.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        response.text
    );
    assert_eq!(
        app.event_count(key).await,
        count,
        "an oversized request wrote events"
    );
}

async fn rejects_a_non_json_body_with_400(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let count = app.event_count(key).await;
    for body in [
        "this is not json",
        "{\"query\": ",
        "mutation { recordAuditEvents(events: []) { events { id } } }",
    ] {
        let response = app.post_raw(body, "application/json", Some(key)).await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{body:?}: {}",
            response.text
        );
        assert_eq!(
            response.error_code().as_deref(),
            Some("BAD_REQUEST"),
            "{body:?}: {}",
            response.text
        );
    }
    assert_eq!(app.event_count(key).await, count);
}

async fn rejects_unparsable_and_invalid_documents(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = Some(tenant.admin_key.as_str());
    app.graphql("{ auditEvents { edges ", Value::Null, key)
        .await
        .assert_error("GRAPHQL_PARSE_FAILED");
    app.graphql("{ noSuchField }", Value::Null, key)
        .await
        .assert_error("GRAPHQL_VALIDATION_FAILED");
    app.graphql("{ tenant { slug secret } }", Value::Null, key)
        .await
        .assert_error("GRAPHQL_VALIDATION_FAILED");
}

async fn rejects_a_mutation_over_get_with_405(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let count = app.event_count(key).await;
    let keys = key_states(&app, key).await;

    let record = r#"mutation { recordAuditEvents(events: [{ action: "get.write", actor: { type: USER, id: "u" } }]) { events { id } } }"#;
    let create = r#"mutation { createApiKey(name: "via get", role: ADMIN) { secret } }"#;
    for document in [record, create] {
        let response = app
            .get_graphql(document, "application/json", Some(key))
            .await;
        assert_eq!(
            response.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{document}: {}",
            response.text
        );
    }
    assert_eq!(
        app.event_count(key).await,
        count,
        "a GET mutation wrote events"
    );
    assert_eq!(
        key_states(&app, key).await,
        keys,
        "a GET mutation created a key"
    );
}

backend_tests!(
    rejects_a_body_over_4_mib_with_413,
    rejects_a_non_json_body_with_400,
    rejects_unparsable_and_invalid_documents,
    rejects_a_mutation_over_get_with_405,
);
