//! The delivery contract, checked by a receiver that verifies every
//! signature with the `standardwebhooks` library: batches in order, ranges
//! contiguous, every event once, the signed tree head covering each batch,
//! replay from a chosen sequence, both signatures during a rotation, and
//! filters (ranges stay contiguous over the events left out).

use auditlog_tests::receiver::{batches, delivered_sequences};
use auditlog_tests::{Backend, backend_tests};
use serde_json::{Value, json};

use super::{
    caught_up, contiguous_events, create_stream, deliveries, record_one, stream_id,
    streaming_tenant,
};
use crate::helpers::events;

async fn batches_verify_are_contiguous_and_complete(backend: Backend) {
    let (app, tenant, receiver) = streaming_tenant(backend).await;
    let key = &tenant.admin_key;
    app.record_ok(key, events("doc.create", 12)).await;
    let created = create_stream(
        &app,
        key,
        json!({ "name": "SIEM", "kind": "WEBHOOK", "url": receiver.url("/hook"), "batchSize": 5 }),
        Some(0),
    )
    .await;
    let secret = created["signingSecret"]
        .as_str()
        .expect("a signing secret")
        .to_owned();
    assert!(secret.starts_with("whsec_"), "{created}");
    let id = stream_id(&created);
    receiver.configure(&[&secret], json!([])).await;
    for _ in 0..3 {
        app.record_ok(key, events("doc.update", 4)).await;
    }
    let last = record_one(&app, key, "doc.delete").await;

    let requests = receiver
        .wait_for("every event delivered", |requests| {
            delivered_sequences(requests).last() == Some(&last)
        })
        .await;
    let sent: Vec<&Value> = batches(&requests).collect();
    for request in &sent {
        assert_eq!(
            request["verified"],
            json!([true]),
            "standardwebhooks verifies: {request}"
        );
        assert_eq!(request["path"], "/hook");
        assert_eq!(request["body"]["tenant"], tenant.id.as_str());
        let events = request["body"]["events"].as_array().unwrap();
        assert!(
            !events.is_empty() && events.len() <= 5,
            "at most batchSize events"
        );
        let head = &request["body"]["treeHead"];
        assert!(
            head["treeSize"].as_i64().unwrap() >= request["body"]["lastSequence"].as_i64().unwrap(),
            "the tree head covers the batch: {head}"
        );
        assert!(
            head["signature"].is_string() && head["keyId"].is_string(),
            "{head}"
        );
    }
    let sequences = contiguous_events(&sent, 1);
    assert_eq!(
        sequences,
        (1..=last).collect::<Vec<_>>(),
        "every event once, in order"
    );
    let ids: std::collections::HashSet<&str> = sent
        .iter()
        .map(|request| request["headers"]["webhook-id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), sent.len(), "one delivery id per batch");

    let stream = caught_up(&app, key, &id, last).await;
    assert_eq!(stream["state"], "ACTIVE");
    let attempts = deliveries(&app, key, &id).await;
    let delivered = attempts
        .iter()
        .filter(|attempt| attempt["status"] == "DELIVERED")
        .count();
    assert!(
        delivered >= sent.len(),
        "every batch is recorded: {attempts:?}"
    );
    assert!(attempts.iter().all(|attempt| attempt["test"] == false));
    let metrics = app.metrics().await;
    assert!(
        metrics
            .contains("auditlog_stream_deliveries_total{kind=\"WEBHOOK\",outcome=\"delivered\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!("auditlog_stream_lag_events{{stream=\"{id}\"}}"))
            || metrics.contains("auditlog_stream_lag_events{stream=\"other\"}")
    );
}

async fn replay_redelivers_from_the_given_sequence(backend: Backend) {
    let (app, tenant, receiver) = streaming_tenant(backend).await;
    let key = &tenant.admin_key;
    app.record_ok(key, events("doc.create", 20)).await;
    let created = create_stream(
        &app,
        key,
        json!({ "name": "SIEM", "kind": "WEBHOOK", "url": receiver.url("/hook"), "batchSize": 8 }),
        Some(0),
    )
    .await;
    let id = stream_id(&created);
    receiver
        .wait_for("the first 20 events", |requests| {
            delivered_sequences(requests).len() >= 20
        })
        .await;
    let replayed = app
        .graphql(
            "mutation($id: ID!) { replayLogStream(id: $id, afterSequence: 10) { deliveredThroughSequence state } }",
            json!({ "id": id }),
            Some(key),
        )
        .await;
    assert_eq!(
        replayed.field("replayLogStream")["deliveredThroughSequence"],
        10
    );
    let before = receiver.requests().await.len();
    let last = record_one(&app, key, "doc.delete").await;
    let requests = receiver
        .wait_for("the replay", |requests| {
            delivered_sequences(requests).last() == Some(&last)
        })
        .await;
    let after: Vec<&Value> = batches(&requests[before..]).collect();
    let sequences = contiguous_events(&after, 11);
    assert_eq!(
        sequences,
        (11..=last).collect::<Vec<_>>(),
        "re-delivered from 11 on"
    );
    let log = app
        .all_events(key, json!({ "actions": ["log_stream.replay"] }))
        .await;
    assert_eq!(log.len(), 1, "the replay is audited");
    assert_eq!(log[0]["payload"]["afterSequence"], 10);
}

async fn a_rotation_signs_with_both_secrets(backend: Backend) {
    let (app, tenant, receiver) = streaming_tenant(backend).await;
    let key = &tenant.admin_key;
    let created = create_stream(
        &app,
        key,
        json!({ "name": "SIEM", "kind": "WEBHOOK", "url": receiver.url("/hook") }),
        None,
    )
    .await;
    let old = created["signingSecret"].as_str().unwrap().to_owned();
    let id = stream_id(&created);
    let first = record_one(&app, key, "doc.create").await;
    receiver
        .wait_for("the first event", |requests| {
            delivered_sequences(requests).contains(&first)
        })
        .await;
    let rotated = app
        .graphql(
            "mutation($id: ID!) { rotateLogStreamSecret(id: $id) { signingSecret logStream { id } } }",
            json!({ "id": id }),
            Some(key),
        )
        .await;
    let new = rotated.field("rotateLogStreamSecret")["signingSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new, old);
    let second = record_one(&app, key, "doc.update").await;
    receiver.configure(&[&old, &new], json!([])).await;
    let requests = receiver
        .wait_for("the event after the rotation", |requests| {
            delivered_sequences(requests).contains(&second)
        })
        .await;
    let before: Vec<&Value> = batches(&requests)
        .filter(|request| request["body"]["lastSequence"].as_i64() < Some(second))
        .collect();
    let after: Vec<&Value> = batches(&requests)
        .filter(|request| request["body"]["lastSequence"].as_i64() >= Some(second))
        .collect();
    assert!(
        before
            .iter()
            .all(|request| request["verified"] == json!([true, false]))
    );
    for request in &after {
        assert_eq!(
            request["verified"],
            json!([true, true]),
            "both secrets verify: {request}"
        );
        let signature = request["headers"]["webhook-signature"].as_str().unwrap();
        assert_eq!(signature.split(' ').count(), 2, "{signature}");
    }
    let log = app
        .all_events(key, json!({ "actionPrefix": "log_stream." }))
        .await;
    let text = serde_json::to_string(&log).unwrap();
    assert!(
        !text.contains(&old) && !text.contains(&new),
        "no secret in the log"
    );
    assert!(!text.contains("whsec_"), "no secret in the log: {text}");
}

async fn a_filter_delivers_matching_events_over_contiguous_ranges(backend: Backend) {
    let (app, tenant, receiver) = streaming_tenant(backend).await;
    let key = &tenant.admin_key;
    let created = create_stream(
        &app,
        key,
        json!({
            "name": "deletions", "kind": "WEBHOOK", "url": receiver.url("/deletions"),
            "batchSize": 3, "filter": { "actions": ["doc.delete"] },
        }),
        None,
    )
    .await;
    let start = created["logStream"]["deliveredThroughSequence"]
        .as_i64()
        .unwrap();
    let mut deleted = Vec::new();
    for round in 0..4 {
        app.record_ok(key, events("doc.update", 3)).await;
        let recorded = app
            .record_ok(key, events("doc.delete", 2 + round % 2))
            .await;
        deleted.extend(
            recorded
                .iter()
                .map(|event| event["sequence"].as_i64().unwrap()),
        );
    }
    let last = record_one(&app, key, "doc.update").await;
    let id = stream_id(&created);
    caught_up(&app, key, &id, last).await;
    let requests = receiver.requests().await;
    let sent: Vec<&Value> = batches(&requests).collect();
    let sequences = contiguous_events(&sent, start + 1);
    assert_eq!(sequences, deleted, "exactly the matching events");
    for request in &sent {
        for event in request["body"]["events"].as_array().unwrap() {
            assert_eq!(event["action"], "doc.delete");
        }
    }
    let listed = super::stream(&app, key, &id).await;
    assert_eq!(listed["filter"]["actions"], json!(["doc.delete"]));
    assert_eq!(listed["lagEvents"], 0);
}

backend_tests!(
    batches_verify_are_contiguous_and_complete,
    replay_redelivers_from_the_given_sequence,
    a_rotation_signs_with_both_secrets,
    a_filter_delivers_matching_events_over_contiguous_ranges,
);
