//! Batch size, payload size, and a bad event inside an otherwise good batch.

use auditlog_tests::{Backend, backend_tests};
use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{app_with_tenant, assert_rejected, event, events, rfc3339};

const LIMIT: usize = 1000;

async fn rejects_an_empty_batch(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let count = app.event_count(key).await;
    let response = app.record(key, json!([])).await;
    assert_rejected(&app, key, &response, &["BAD_USER_INPUT"], count).await;
}

async fn rejects_1001_events_and_accepts_1000(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let count = app.event_count(key).await;
    let response = app.record(key, events("bulk.insert", LIMIT + 1)).await;
    assert_rejected(&app, key, &response, &["BAD_USER_INPUT"], count).await;

    let written = app.record_ok(key, events("bulk.insert", LIMIT)).await;
    assert_eq!(written.len(), LIMIT);
    assert_eq!(app.event_count(key).await, count + LIMIT);
}

fn with_payload_of(bytes: usize) -> Value {
    let mut input = event("file.upload");
    input["payload"] = json!({ "blob": "x".repeat(bytes) });
    input
}

async fn rejects_a_payload_over_64_kib(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let count = app.event_count(key).await;
    for bytes in [64 * 1024 + 1, 200 * 1024] {
        let response = app.record(key, json!([with_payload_of(bytes)])).await;
        assert_rejected(&app, key, &response, &["BAD_USER_INPUT"], count).await;
    }
    // Well under the limit is fine.
    let written = app
        .record_ok(key, json!([with_payload_of(60 * 1024)]))
        .await;
    assert_eq!(
        written[0]["payload"]["blob"].as_str().map(str::len),
        Some(60 * 1024)
    );
}

async fn one_bad_event_rejects_the_batch_and_names_its_index(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let count = app.event_count(key).await;

    let mut bad_action = event("x.y");
    bad_action["action"] = json!("Not A Valid Action");
    let mut future = event("clock.skew");
    future["occurredAt"] = json!(rfc3339(Utc::now() + Duration::hours(1)));
    let mut bad_ip = event("net.connect");
    bad_ip["context"] = json!({ "ipAddress": "300.1.2.3" });
    let cases = [
        ("bad action", bad_action),
        ("future occurredAt", future),
        ("bad IP", bad_ip),
        ("payload", with_payload_of(70 * 1024)),
    ];

    for (what, bad) in cases {
        let batch = json!([
            event("ok.first"),
            event("ok.second"),
            bad,
            event("ok.fourth")
        ]);
        let response = app.record(key, batch).await;
        assert_rejected(&app, key, &response, &["BAD_USER_INPUT"], count).await;
        assert!(
            response.error_message().contains('2'),
            "{what}: the message names index 2: {}",
            response.text
        );
        assert_eq!(
            response.error_extensions()["index"],
            json!(2),
            "{what}: extensions.index: {}",
            response.text
        );
    }
}

backend_tests!(
    rejects_an_empty_batch,
    rejects_1001_events_and_accepts_1000,
    rejects_a_payload_over_64_kib,
    one_bad_event_rejects_the_batch_and_names_its_index,
);
