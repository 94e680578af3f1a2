//! Issue 12, finding 10: instants that chrono parses but the database cannot
//! hold (years beyond 1 to 9999) are the client's error, `BAD_USER_INPUT`, on
//! both backends, and a batch holding one writes nothing.

use auditlog_tests::{Backend, backend_tests, spawn_app};
use serde_json::{Value, json};

use crate::helpers::{app_with_tenant, assert_rejected, event};

const OUT_OF_RANGE: [&str; 2] = ["-262143-01-01T00:00:00Z", "+262142-12-31T00:00:00Z"];

async fn out_of_range_occurred_at_is_bad_user_input(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("acme", "ENTERPRISE").await;
    let key = tenant.admin_key.as_str();
    // On legal hold no instant is outside the retention window, so only the
    // range check stands between these values and the database.
    app.graphql(
        "mutation { setLegalHold(enabled: true) { legalHold } }",
        Value::Null,
        Some(key),
    )
    .await
    .field("setLegalHold");
    for at in OUT_OF_RANGE {
        let count = app.event_count(key).await;
        let mut bad = event("entry.create");
        bad["occurredAt"] = json!(at);
        let response = app.record(key, json!([event("entry.create"), bad])).await;
        assert_rejected(&app, key, &response, &["BAD_USER_INPUT"], count).await;
        let message = response.error_message();
        assert!(message.contains("occurredAt"), "{at}: {message}");
    }
    // The range's first instant is storable (and read back) on both backends.
    let mut oldest = event("entry.create");
    oldest["occurredAt"] = json!("0001-01-01T00:00:00Z");
    let written = app.record_ok(key, json!([oldest])).await;
    assert_eq!(written.len(), 1);
}

async fn out_of_range_filter_window_is_bad_user_input(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let query = "query($filter: AuditEventFilter) { \
                 auditEvents(first: 1, filter: $filter) { edges { node { id } } } }";
    for field in ["occurredAfter", "occurredBefore"] {
        for at in OUT_OF_RANGE {
            let response = app
                .graphql(
                    query,
                    json!({ "filter": { field: at } }),
                    Some(&tenant.admin_key),
                )
                .await;
            response.assert_error("BAD_USER_INPUT");
            assert!(
                response.error_message().contains(field),
                "{}",
                response.text
            );
        }
    }
}

backend_tests!(
    out_of_range_occurred_at_is_bad_user_input,
    out_of_range_filter_window_is_bad_user_input,
);
