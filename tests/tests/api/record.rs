//! Recording events and reading every field back, through the write response,
//! `auditEvents` and the `auditEvent(id)` permalink.

use auditlog_tests::{Backend, backend_tests};
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    app_with_tenant, assert_event_matches_input, assert_same_event, base_time, event, id, instant,
    rfc3339, sequence,
};

fn full_event() -> Value {
    json!({
        "action": "document.share",
        "actor": { "type": "USER", "id": "user-42", "name": "Ada Lovelace", "email": "ada@example.com" },
        "target": { "type": "document", "id": "doc-7", "name": "Analytical Engine notes" },
        "outcome": "FAILURE",
        "context": { "ipAddress": "203.0.113.9", "userAgent": "Mozilla/5.0 (X11) Tests/1.0", "requestId": "req-abc-123" },
        "payload": {
            "reason": "quota",
            "sharedWith": ["bob@example.com", "eve@example.com"],
            "count": 3,
            "ratio": 0.5,
            "nested": { "ok": false, "none": null },
            "unicode": "héllo ✓ 日本"
        },
        "occurredAt": rfc3339(base_time(34) + Duration::milliseconds(56_789))
    })
}

async fn records_and_reads_back_every_field(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let highest_before = app
        .all_events(key, Value::Null)
        .await
        .iter()
        .map(sequence)
        .max()
        .unwrap_or(0);
    let input = full_event();

    let sent_at = Utc::now();
    let recorded = app.record_ok(key, json!([input])).await;
    let returned_at = Utc::now();

    assert_eq!(recorded.len(), 1);
    let written = &recorded[0];
    assert_event_matches_input(written, &input);
    let uuid = Uuid::parse_str(&id(written)).expect("the event id is a UUID");
    assert_eq!(uuid.get_version_num(), 7, "event ids are UUID v7");
    assert_eq!(
        sequence(written),
        highest_before + 1,
        "the next sequence of the tenant"
    );
    let received_at = instant(&written["receivedAt"]);
    assert!(
        received_at >= sent_at - Duration::seconds(1)
            && received_at <= returned_at + Duration::seconds(1),
        "receivedAt {received_at} is not the time of the request"
    );

    let listed = app
        .all_events(key, json!({ "actions": ["document.share"] }))
        .await;
    assert_eq!(listed.len(), 1, "exactly the recorded event: {listed:?}");
    assert_same_event(&listed[0], written);

    let by_id = app.event(key, &id(written)).await;
    assert_eq!(
        by_id.field("auditEvent"),
        &listed[0],
        "the permalink and the list agree on every field"
    );
}

async fn applies_defaults_for_omitted_fields(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let input = event("user.login");
    let before = Utc::now();
    let written = app
        .record_ok(&tenant.admin_key, json!([input]))
        .await
        .remove(0);

    let stored = app
        .event(&tenant.admin_key, &id(&written))
        .await
        .field("auditEvent")
        .clone();
    assert_same_event(&stored, &written);
    assert_event_matches_input(&stored, &input);
    assert_eq!(stored["outcome"], "SUCCESS");
    assert!(stored["target"].is_null(), "no target: {stored}");
    assert!(stored["payload"].is_null(), "no payload: {stored}");
    assert!(
        stored["actor"]["name"].is_null() && stored["actor"]["email"].is_null(),
        "{stored}"
    );
    let occurred_at = instant(&stored["occurredAt"]);
    assert!(
        occurred_at >= before - Duration::seconds(1)
            && occurred_at <= Utc::now() + Duration::seconds(1),
        "occurredAt defaults to now, got {occurred_at}"
    );
}

async fn returns_a_batch_in_input_order_with_consecutive_sequences(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    // Input order deliberately differs from time order.
    let minutes = [30, 10, 50, 20, 40];
    let inputs: Vec<Value> = minutes
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut input = event(&format!("batch.step_{i}"));
            input["occurredAt"] = json!(rfc3339(base_time(*m)));
            input
        })
        .collect();
    let written = app.record_ok(key, Value::Array(inputs.clone())).await;

    assert_eq!(written.len(), inputs.len());
    for (event, input) in written.iter().zip(&inputs) {
        assert_event_matches_input(event, input);
    }
    let sequences: Vec<i64> = written.iter().map(sequence).collect();
    let first = sequences[0];
    assert_eq!(
        sequences,
        (first..first + 5).collect::<Vec<_>>(),
        "one batch takes consecutive sequences in input order"
    );

    let listed: Vec<String> = app
        .all_events(key, json!({ "actionPrefix": "batch." }))
        .await
        .iter()
        .map(id)
        .collect();
    let newest_first: Vec<String> = [2, 4, 0, 3, 1].iter().map(|i| id(&written[*i])).collect();
    assert_eq!(
        listed, newest_first,
        "auditEvents lists newest occurredAt first"
    );
}

async fn round_trips_every_actor_type_outcome_and_address_family(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let inputs = json!([
        { "action": "a.user", "actor": { "type": "USER", "id": "u", "name": "Zoë Ünal", "email": "zoe@example.com" },
          "outcome": "SUCCESS", "context": { "ipAddress": "2001:db8::1" } },
        { "action": "a.key", "actor": { "type": "API_KEY", "id": "k" }, "outcome": "FAILURE",
          "context": { "ipAddress": "192.0.2.1", "userAgent": "curl/8.5.0" } },
        { "action": "a.system", "actor": { "type": "SYSTEM", "id": "cron", "name": "Nightly job" },
          "target": { "type": "tenant" }, "payload": [1, "two", { "three": 3 }] },
        { "action": "a.scalar_payload", "actor": { "type": "SYSTEM", "id": "cron" }, "payload": "just a string" }
    ]);
    let written = app.record_ok(&tenant.admin_key, inputs.clone()).await;
    for (event, input) in written.iter().zip(inputs.as_array().expect("array")) {
        let stored = app
            .event(&tenant.admin_key, &id(event))
            .await
            .field("auditEvent")
            .clone();
        assert_event_matches_input(&stored, input);
        assert_same_event(&stored, event);
    }
}

async fn unknown_event_id_reads_as_null(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let response = app
        .event(&tenant.admin_key, &Uuid::now_v7().to_string())
        .await;
    assert!(response.field("auditEvent").is_null(), "{}", response.text);
}

backend_tests!(
    records_and_reads_back_every_field,
    applies_defaults_for_omitted_fields,
    returns_a_batch_in_input_order_with_consecutive_sequences,
    round_trips_every_actor_type_outcome_and_address_family,
    unknown_event_id_reads_as_null,
);
