//! `idempotencyKey`: a retried event returns the original (same id and sequence) and
//! stores nothing; the same key with a different body is a `CONFLICT` that writes
//! nothing; keys are scoped to one tenant.

use auditlog_tests::{Backend, backend_tests};
use futures::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{
    app_with_tenant, assert_rejected, assert_same_event, base_time, event, id, rfc3339, sequence,
};

fn keyed(action: &str, key: &str) -> Value {
    let mut input = event(action);
    input["idempotencyKey"] = json!(key);
    input["occurredAt"] = json!(rfc3339(base_time(0)));
    input["payload"] = json!({ "amount": 10 });
    input
}

async fn same_key_and_body_returns_the_original(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let original = app
        .record_ok(key, json!([keyed("invoice.pay", "pay-1")]))
        .await
        .remove(0);
    let count = app.event_count(key).await;

    for _ in 0..2 {
        let retried = app
            .record_ok(key, json!([keyed("invoice.pay", "pay-1")]))
            .await
            .remove(0);
        assert_same_event(&retried, &original);
    }
    assert_eq!(
        app.event_count(key).await,
        count,
        "retries store nothing new"
    );
    assert_eq!(
        app.all_events(key, json!({ "actions": ["invoice.pay"] }))
            .await
            .len(),
        1
    );
}

async fn retry_without_occurred_at_is_idempotent(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    // The common client retry: the same input, whose occurredAt defaults to "now".
    let mut input = event("invoice.pay");
    input["idempotencyKey"] = json!("pay-now");
    let original = app.record_ok(key, json!([input])).await.remove(0);
    let count = app.event_count(key).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let retried = app.record_ok(key, json!([input])).await.remove(0);
    assert_same_event(&retried, &original);
    assert_eq!(app.event_count(key).await, count);
}

async fn mixed_batch_returns_originals_and_stores_only_new_events(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let original = app
        .record_ok(key, json!([keyed("invoice.pay", "pay-1")]))
        .await
        .remove(0);
    let count = app.event_count(key).await;

    let batch = json!([
        keyed("invoice.refund", "refund-1"),
        keyed("invoice.pay", "pay-1"),
        event("invoice.view")
    ]);
    let written = app.record_ok(key, batch).await;
    assert_eq!(written.len(), 3, "one result per input, in input order");
    assert_same_event(&written[1], &original);
    assert_eq!(written[0]["action"], "invoice.refund");
    assert_eq!(written[2]["action"], "invoice.view");
    assert!(
        sequence(&written[0]) > sequence(&original) && sequence(&written[2]) > sequence(&original)
    );
    assert_eq!(
        app.event_count(key).await,
        count + 2,
        "only the two new events are stored"
    );
}

async fn same_key_with_a_different_body_conflicts(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let original = app
        .record_ok(key, json!([keyed("invoice.pay", "pay-1")]))
        .await
        .remove(0);
    let count = app.event_count(key).await;

    let mut different_payload = keyed("invoice.pay", "pay-1");
    different_payload["payload"] = json!({ "amount": 11 });
    let different_action = keyed("invoice.refund", "pay-1");
    for changed in [different_payload, different_action] {
        let response = app.record(key, json!([changed])).await;
        assert_rejected(&app, key, &response, &["CONFLICT"], count).await;
    }
    // In a batch, the conflict rejects the whole batch.
    let batch = json!([
        event("invoice.view"),
        keyed("invoice.refund", "pay-1"),
        event("invoice.view")
    ]);
    let response = app.record(key, batch).await;
    assert_rejected(&app, key, &response, &["CONFLICT"], count).await;

    let stored = app
        .event(key, &id(&original))
        .await
        .field("auditEvent")
        .clone();
    assert_same_event(&stored, &original);
}

async fn keys_are_scoped_to_one_tenant(backend: Backend) {
    let (app, first) = app_with_tenant(backend).await;
    let second = app.create_tenant("globex", "ENTERPRISE").await;
    let mine = app
        .record_ok(&first.admin_key, json!([keyed("invoice.pay", "pay-1")]))
        .await
        .remove(0);
    // Another tenant may use the same key, even with another body.
    let theirs = app
        .record_ok(&second.admin_key, json!([keyed("invoice.refund", "pay-1")]))
        .await
        .remove(0);
    assert_ne!(id(&mine), id(&theirs));
    assert_eq!(theirs["action"], "invoice.refund");
    let again = app
        .record_ok(&first.admin_key, json!([keyed("invoice.pay", "pay-1")]))
        .await
        .remove(0);
    assert_same_event(&again, &mine);
}

async fn concurrent_retries_store_one_event(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let count = app.event_count(key).await;
    let attempts = (0..8).map(|_| app.record_ok(key, json!([keyed("invoice.pay", "pay-race")])));
    let results: Vec<Value> = join_all(attempts)
        .await
        .into_iter()
        .map(|mut events| events.remove(0))
        .collect();
    for result in &results[1..] {
        assert_same_event(result, &results[0]);
    }
    assert_eq!(
        app.event_count(key).await,
        count + 1,
        "eight racing retries store one event"
    );
}

backend_tests!(
    same_key_and_body_returns_the_original,
    retry_without_occurred_at_is_idempotent,
    mixed_batch_returns_originals_and_stores_only_new_events,
    same_key_with_a_different_body_conflicts,
    keys_are_scoped_to_one_tenant,
    concurrent_retries_store_one_event,
);
