//! Receivers that fail: 500, 429 with `Retry-After`, answers slower than the
//! timeout, dropped connections, refused connections, 410 Gone, other 4xx,
//! and retries running out. The schedule is milliseconds here
//! (`AUDITLOG_STREAM_RETRY_SCHEDULE`); what is checked is the states, the
//! attempts' records, and that nothing is lost or reordered on recovery.

use auditlog_tests::receiver::{StreamReceiver, batches, delivered_sequences};
use auditlog_tests::{Backend, backend_tests};
use serde_json::{Value, json};

use super::{
    app_with_streams, contiguous_events, create_stream, deliveries, record_one, stream_id,
    streaming_tenant, wait_for_stream,
};
use crate::helpers::events;

const RESUME: &str = "mutation($id: ID!) { resumeLogStream(id: $id) { state attempt lastError } }";

async fn retries_through_failures_without_loss(backend: Backend) {
    let (app, tenant, receiver) = streaming_tenant(backend).await;
    let key = &tenant.admin_key;
    receiver
        .configure(
            &[],
            json!([
                { "status": 500, "body": "database down" },
                { "status": 429, "retryAfter": "1" },
                { "delayMs": 1500, "status": 204 },
                { "destroy": true },
            ]),
        )
        .await;
    app.record_ok(key, events("doc.create", 4)).await;
    let created = create_stream(
        &app,
        key,
        json!({ "name": "flaky", "kind": "WEBHOOK", "url": receiver.url("/hook") }),
        Some(0),
    )
    .await;
    let id = stream_id(&created);
    // While the receiver's Retry-After runs, the stream is FAILING.
    let failing = wait_for_stream(&app, key, &id, "past the 429", |s| s["attempt"] == 2).await;
    assert_eq!(failing["state"], "FAILING", "{failing}");
    assert!(
        failing["lastError"].as_str().unwrap().contains("429"),
        "{failing}"
    );
    assert!(failing["nextAttemptAt"].is_string(), "{failing}");
    let last = record_one(&app, key, "doc.update").await;
    let requests = receiver
        .wait_for("recovery", |requests| {
            delivered_sequences(requests).last() == Some(&last)
        })
        .await;
    let sent: Vec<&Value> = batches(&requests).collect();
    let first_id = &sent[0]["headers"]["webhook-id"];
    for attempt in &sent[..5] {
        assert_eq!(
            &attempt["headers"]["webhook-id"], first_id,
            "a retry is the same delivery"
        );
        assert_eq!(attempt["body"]["events"], sent[0]["body"]["events"]);
    }
    let at = |index: usize| sent[index]["at"].as_i64().unwrap();
    assert!(at(2) - at(1) >= 1000, "Retry-After: 1 was honoured");
    // What the receiver acknowledged covers every event once, in order (the
    // slow answer's 204 came after the timeout: that attempt failed for us).
    let acknowledged: Vec<&Value> = sent[4..].to_vec();
    assert_eq!(
        contiguous_events(&acknowledged, 1),
        (1..=last).collect::<Vec<_>>()
    );
    let stream = wait_for_stream(&app, key, &id, "active again", |stream| {
        stream["state"] == "ACTIVE" && stream["deliveredThroughSequence"].as_i64() >= Some(last)
    })
    .await;
    assert_eq!(stream["attempt"], 0);
    assert!(stream["lastError"].is_null());
    let mut attempts = deliveries(&app, key, &id).await;
    attempts.reverse();
    let first_batch: Vec<&Value> = attempts
        .iter()
        .filter(|attempt| attempt["deliveryId"] == attempts[0]["deliveryId"])
        .collect();
    let statuses: Vec<&str> = first_batch
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["FAILED", "FAILED", "FAILED", "FAILED", "DELIVERED"]
    );
    let numbers: Vec<i64> = first_batch
        .iter()
        .map(|a| a["attempt"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5]);
    let codes: Vec<Value> = first_batch
        .iter()
        .map(|a| a["responseStatus"].clone())
        .collect();
    assert_eq!(
        codes,
        [json!(500), json!(429), Value::Null, Value::Null, json!(204)]
    );
    assert!(
        first_batch[0]["error"]
            .as_str()
            .unwrap()
            .contains("database down")
    );
    assert!(
        first_batch[2]["error"]
            .as_str()
            .unwrap()
            .contains("timed out"),
        "{first_batch:?}"
    );
}

async fn gone_disables_and_resume_recovers(backend: Backend) {
    let (app, tenant, receiver) = streaming_tenant(backend).await;
    let key = &tenant.admin_key;
    receiver
        .configure(&[], json!([{ "status": 410, "body": "stream retired" }]))
        .await;
    let created = create_stream(
        &app,
        key,
        json!({ "name": "retired", "kind": "WEBHOOK", "url": receiver.url("/hook") }),
        None,
    )
    .await;
    let id = stream_id(&created);
    let first = record_one(&app, key, "doc.create").await;
    let disabled = wait_for_stream(&app, key, &id, "DISABLED", |s| s["state"] == "DISABLED").await;
    assert!(
        disabled["lastError"].as_str().unwrap().contains("410"),
        "{disabled}"
    );
    assert_eq!(receiver.requests().await.len(), 1, "no retry after 410");
    let log = app
        .all_events(key, json!({ "actions": ["log_stream.disable"] }))
        .await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["actor"]["actorId"], "stream-worker");
    let resumed = app.graphql(RESUME, json!({ "id": id }), Some(key)).await;
    assert_eq!(resumed.field("resumeLogStream")["state"], "ACTIVE");
    let requests = receiver
        .wait_for("delivery after resume", |requests| {
            delivered_sequences(requests).contains(&first)
        })
        .await;
    let acknowledged: Vec<&Value> = batches(&requests).skip(1).collect();
    let start = created["logStream"]["deliveredThroughSequence"]
        .as_i64()
        .unwrap();
    let delivered = contiguous_events(&acknowledged, start + 1);
    assert!(delivered.contains(&first));
}

async fn other_client_errors_disable_and_exhausted_retries_give_up(backend: Backend) {
    let app = app_with_streams(backend).await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    let key = &tenant.admin_key;
    let refusing = StreamReceiver::start().await;
    refusing
        .configure(&[], json!([{ "status": 400, "body": "bad schema" }]))
        .await;
    let down = StreamReceiver::start().await;
    down.configure(&[], json!(vec![json!({ "status": 503 }); 6]))
        .await;
    let bad = create_stream(
        &app,
        key,
        json!({ "name": "400", "kind": "WEBHOOK", "url": refusing.url("/") }),
        None,
    )
    .await;
    let exhausted = create_stream(
        &app,
        key,
        json!({ "name": "503", "kind": "WEBHOOK", "url": down.url("/") }),
        None,
    )
    .await;
    record_one(&app, key, "doc.create").await;
    let bad_id = bad["logStream"]["id"].as_str().unwrap();
    let stream = wait_for_stream(&app, key, bad_id, "DISABLED", |s| s["state"] == "DISABLED").await;
    assert!(
        stream["lastError"]
            .as_str()
            .unwrap()
            .contains("HTTP 400: bad schema"),
        "{stream}"
    );
    let exhausted_id = exhausted["logStream"]["id"].as_str().unwrap();
    let stream = wait_for_stream(&app, key, exhausted_id, "DISABLED", |s| {
        s["state"] == "DISABLED"
    })
    .await;
    assert!(
        stream["lastError"]
            .as_str()
            .unwrap()
            .starts_with("gave up after 6 attempts"),
        "{stream}"
    );
    assert_eq!(
        down.requests().await.len(),
        6,
        "one attempt per step of the schedule"
    );
}

async fn a_failing_stream_delays_no_other(backend: Backend) {
    let (app, tenant, receiver) = streaming_tenant(backend).await;
    let key = &tenant.admin_key;
    // Nothing listens on a port just released.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let dead = create_stream(
        &app,
        key,
        json!({ "name": "dead", "kind": "WEBHOOK", "url": closed_url }),
        None,
    )
    .await;
    let alive = create_stream(
        &app,
        key,
        json!({ "name": "alive", "kind": "WEBHOOK", "url": receiver.url("/hook") }),
        None,
    )
    .await;
    let mut last = 0;
    for _ in 0..5 {
        last = record_one(&app, key, "doc.create").await;
    }
    receiver
        .wait_for("the healthy stream", |requests| {
            delivered_sequences(requests).last() == Some(&last)
        })
        .await;
    let dead_id = dead["logStream"]["id"].as_str().unwrap().to_owned();
    // FAILING, or DISABLED once the short schedule of the tests has run out.
    let failing = wait_for_stream(&app, key, &dead_id, "failing", |s| s["state"] != "ACTIVE").await;
    assert!(
        failing["lastError"]
            .as_str()
            .unwrap()
            .contains("could not connect"),
        "{failing}"
    );
    // Pointing it at a receiver that works delivers what it owes, in order.
    let update = app
        .graphql(
            "mutation($id: ID!, $input: LogStreamInput!) { updateLogStream(id: $id, input: $input) { state url } }",
            json!({ "id": dead_id, "input": { "name": "revived", "kind": "WEBHOOK", "url": receiver.url("/revived") } }),
            Some(key),
        )
        .await;
    assert_eq!(
        update.field("updateLogStream")["url"],
        receiver.url("/revived")
    );
    let resumed = app
        .graphql(RESUME, json!({ "id": dead_id }), Some(key))
        .await;
    assert_eq!(resumed.field("resumeLogStream")["state"], "ACTIVE");
    let requests = receiver
        .wait_for("the revived stream", |requests| {
            requests.iter().any(|request| {
                request["path"] == "/revived"
                    && request["body"]["lastSequence"].as_i64() >= Some(last)
            })
        })
        .await;
    let revived: Vec<&Value> = batches(&requests)
        .filter(|r| r["path"] == "/revived")
        .collect();
    let start = dead["logStream"]["deliveredThroughSequence"]
        .as_i64()
        .unwrap();
    let sequences = contiguous_events(&revived, start + 1);
    assert_eq!(
        sequences[..(last - start) as usize],
        (start + 1..=last).collect::<Vec<_>>()
    );
    let _ = alive;
}

backend_tests!(
    retries_through_failures_without_loss,
    gone_disables_and_resume_recovers,
    other_client_errors_disable_and_exhausted_retries_give_up,
    a_failing_stream_delays_no_other,
);
