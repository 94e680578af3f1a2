//! Several workers, crashes and the purge: a stream is delivered by one
//! `auditlog-worker` at a time, a SIGKILLed worker's stream is taken over
//! after its lease and its batch re-sent under the same delivery id; events
//! the purge deleted (or that expired) before delivery become a recorded
//! gap, never a batch that claims them.

use std::collections::{BTreeMap, BTreeSet};

use auditlog_tests::database::{self, tenant_uuid};
use auditlog_tests::receiver::{StreamReceiver, batches};
use auditlog_tests::{Backend, backend_tests, process, spawn_app_with, worker};
use serde_json::{Value, json};

use super::{app_with_streams, caught_up, create_stream, record_one, stream_id};
use crate::helpers::events;

const WORKER: &str = env!("CARGO_BIN_EXE_auditlog-worker-for-tests");

async fn a_killed_workers_stream_is_taken_over_without_loss(backend: Backend) {
    // Delivery only in the workers.
    let app = spawn_app_with(backend, |settings| {
        settings.streams.stream_allow_private_targets = true;
    })
    .await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    let key = &tenant.admin_key;
    let receiver = StreamReceiver::start().await;
    // The first delivery is answered slowly: the worker is killed while it waits.
    receiver
        .configure(&[], json!([{ "delayMs": 1500, "status": 204 }]))
        .await;
    app.record_ok(key, events("doc.create", 12)).await;
    let env = [
        ("AUDITLOG_STREAM_ALLOW_PRIVATE_TARGETS", "true"),
        ("AUDITLOG_STREAM_POLL_MS", "50"),
        ("AUDITLOG_STREAM_TIMEOUT_MS", "3000"),
        ("AUDITLOG_STREAM_LEASE_SECS", "4"),
        ("AUDITLOG_TREE_HEAD_SCHEDULE", "0 0 0 1 1 *"),
    ];
    let first = worker::spawn(WORKER, "run", app.database_url(), &env);
    let created = create_stream(
        &app,
        key,
        json!({ "name": "SIEM", "kind": "WEBHOOK", "url": receiver.url("/hook"), "batchSize": 5 }),
        Some(0),
    )
    .await;
    let id = stream_id(&created);
    receiver
        .wait_for("the first delivery", |requests| !requests.is_empty())
        .await;
    process::send_signal(&first, "KILL").await;
    let second = worker::spawn(WORKER, "run", app.database_url(), &env);
    let last = record_one(&app, key, "doc.delete").await;
    caught_up(&app, key, &id, last).await;
    let requests = receiver.requests().await;
    let sent: Vec<&Value> = batches(&requests).collect();
    // Same id, same batch: a receiver deduplicates by `webhook-id`.
    let mut by_id: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for request in &sent {
        by_id
            .entry(request["headers"]["webhook-id"].as_str().unwrap())
            .or_default()
            .push(request);
    }
    for copies in by_id.values() {
        for copy in copies {
            assert_eq!(
                copy["body"]["firstSequence"],
                copies[0]["body"]["firstSequence"]
            );
            assert_eq!(
                copy["body"]["lastSequence"],
                copies[0]["body"]["lastSequence"]
            );
            assert_eq!(copy["body"]["events"], copies[0]["body"]["events"]);
        }
    }
    let first_id = sent[0]["headers"]["webhook-id"].as_str().unwrap();
    assert!(
        by_id[first_id].len() >= 2,
        "the batch in flight was sent again"
    );
    let mut distinct: Vec<&Value> = by_id.values().map(|copies| copies[0]).collect();
    distinct.sort_by_key(|request| request["body"]["firstSequence"].as_i64());
    let sequences = super::contiguous_events(&distinct, 1);
    assert_eq!(
        sequences,
        (1..=last).collect::<Vec<_>>(),
        "every event, once per delivery id"
    );
    drop(second);
}

async fn purged_and_expired_events_become_a_recorded_gap(backend: Backend) {
    let app = app_with_streams(backend).await;
    let db = database::connect(app.database_url()).await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    let key = &tenant.admin_key;
    let tenant_id = tenant_uuid(&tenant.id);
    let ten_days_ago = chrono::Utc::now() - chrono::Duration::days(10);
    database::plant(&db, tenant_id, "old.purged", ten_days_ago, 4).await;
    app.record_ok(key, events("doc.create", 3)).await;
    let report = database::purger(&db, database::purge_settings(100))
        .run_pass()
        .await
        .unwrap();
    assert_eq!(report.events_deleted, 4);
    // Expired but not purged yet: hidden from every read, streams included.
    database::plant(&db, tenant_id, "old.expired", ten_days_ago, 2).await;
    app.record_ok(key, events("doc.update", 3)).await;
    let receiver = StreamReceiver::start().await;
    let created = create_stream(
        &app,
        key,
        json!({ "name": "SIEM", "kind": "WEBHOOK", "url": receiver.url("/hook") }),
        Some(0),
    )
    .await;
    let id = stream_id(&created);
    let last = record_one(&app, key, "doc.delete").await;
    let stream = caught_up(&app, key, &id, last).await;
    let requests = receiver.requests().await;
    let sent: Vec<&Value> = batches(&requests).collect();
    let delivered: BTreeSet<i64> = sent
        .iter()
        .flat_map(|r| r["body"]["events"].as_array().unwrap())
        .map(|event| event["sequence"].as_i64().unwrap())
        .collect();
    for request in &sent {
        for event in request["body"]["events"].as_array().unwrap() {
            assert!(
                !event["action"].as_str().unwrap().starts_with("old."),
                "{event}"
            );
        }
    }
    // Every sequence up to `last` is either in a batch's range or in a gap.
    let gaps = app
        .all_events(key, json!({ "actions": ["log_stream.gap"] }))
        .await;
    let mut gap_ranges: Vec<(i64, i64)> = gaps
        .iter()
        .map(|gap| {
            let payload = &gap["payload"];
            (
                payload["fromSequence"].as_i64().unwrap(),
                payload["toSequence"].as_i64().unwrap(),
            )
        })
        .collect();
    gap_ranges.sort_unstable();
    assert!(
        gap_ranges.len() >= 2,
        "the purged run and the expired run: {gap_ranges:?}"
    );
    let mut ranges: Vec<(i64, i64)> = sent
        .iter()
        .map(|r| {
            (
                r["body"]["firstSequence"].as_i64().unwrap(),
                r["body"]["lastSequence"].as_i64().unwrap(),
            )
        })
        .chain(gap_ranges.iter().copied())
        .collect();
    ranges.sort_unstable();
    let mut next = 1;
    for (from, to) in &ranges {
        assert_eq!(*from, next, "batches and gaps tile the log: {ranges:?}");
        next = to + 1;
    }
    assert!(next > last);
    let visible: BTreeSet<i64> = app
        .all_events(key, json!({}))
        .await
        .iter()
        .map(|event| event["sequence"].as_i64().unwrap())
        .filter(|sequence| *sequence <= last)
        .collect();
    let delivered: BTreeSet<i64> = delivered.into_iter().filter(|s| *s <= last).collect();
    assert_eq!(delivered, visible, "every visible event, nothing hidden");
    let shown = &stream["lastGap"];
    assert!(
        shown["fromSequence"].is_i64(),
        "the stream shows its last gap: {stream}"
    );
}

backend_tests!(
    a_killed_workers_stream_is_taken_over_without_loss,
    purged_and_expired_events_become_a_recorded_gap,
);
