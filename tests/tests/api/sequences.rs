//! Per-tenant sequences: gapless from 1, unique, ordered within a batch and within
//! one writer, under 8 concurrent writers; and assigned in commit order, so a
//! reader who sees sequence N sees every event up to N. Sequences past 2^32
//! (beyond GraphQL's 32-bit `Int`) travel as JSON numbers through every read
//! and the subscription (issue 14).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};

use auditlog_tests::database::{HIGH_SEQUENCE as HIGH, set_event_counter, tenant_uuid};
use auditlog_tests::queries::SUBSCRIPTION;
use auditlog_tests::ws::WsClient;
use auditlog_tests::{Backend, TestApp, backend_tests};
use futures::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{app_with_tenant, event, events, sequence};

const WRITERS: usize = 8;

/// `batches` batches of `size` events from writer `writer`, one after another;
/// returns the sequences of each batch.
async fn write(
    app: &TestApp,
    key: &str,
    writer: usize,
    batches: usize,
    size: usize,
) -> Vec<Vec<i64>> {
    let mut sequences = Vec::with_capacity(batches);
    for batch in 0..batches {
        let inputs: Vec<Value> = (0..size)
            .map(|i| {
                let mut input = event("load.write");
                input["payload"] = json!({ "writer": writer, "batch": batch, "i": i });
                input
            })
            .collect();
        let written = app.record_ok(key, Value::Array(inputs)).await;
        sequences.push(written.iter().map(sequence).collect());
    }
    sequences
}

/// Asserts that the tenant's sequences are exactly 1..=N.
async fn assert_gapless(app: &TestApp, key: &str) -> i64 {
    let mut all: Vec<i64> = app
        .all_events(key, Value::Null)
        .await
        .iter()
        .map(sequence)
        .collect();
    all.sort_unstable();
    let n = i64::try_from(all.len()).expect("small");
    assert_eq!(
        all,
        (1..=n).collect::<Vec<_>>(),
        "sequences are 1..=N without gaps or repeats"
    );
    n
}

async fn gapless_and_ordered_under_8_concurrent_writers(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let before = app.event_count(key).await;
    let (batches, size) = (25, 4);

    let writers = (0..WRITERS).map(|w| write(&app, key, w, batches, size));
    let results: Vec<Vec<Vec<i64>>> = join_all(writers).await;

    let mut seen = BTreeSet::new();
    for (writer, batches) in results.iter().enumerate() {
        for batch in batches {
            let first = batch[0];
            assert_eq!(
                *batch,
                (first..first + 4).collect::<Vec<_>>(),
                "writer {writer}: a batch takes consecutive sequences"
            );
            assert!(
                batch.iter().all(|s| seen.insert(*s)),
                "writer {writer}: a sequence was handed out twice"
            );
        }
        let firsts: Vec<i64> = batches.iter().map(|b| b[0]).collect();
        assert!(
            firsts.windows(2).all(|w| w[0] < w[1]),
            "writer {writer}: later batches get later sequences: {firsts:?}"
        );
    }
    let n = assert_gapless(&app, key).await;
    assert_eq!(
        usize::try_from(n).expect("positive"),
        before + WRITERS * batches * size
    );
}

async fn a_reader_never_sees_a_gap(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let done = AtomicBool::new(false);

    let writers = async {
        join_all((0..WRITERS).map(|w| write(&app, key, w, 10, 4))).await;
        done.store(true, Ordering::SeqCst);
    };
    // Each read is one request, answered from one snapshot: the sequences it shows
    // must be exactly 1..=max (everything stays under one page of 500).
    let reader = async {
        let mut reads = 0;
        loop {
            let finished = done.load(Ordering::SeqCst);
            let page = app.page(key, json!({ "first": 500 })).await;
            let mut seen: Vec<i64> = page.nodes.iter().map(sequence).collect();
            seen.sort_unstable();
            let max = seen.last().copied().unwrap_or(0);
            assert_eq!(
                seen,
                (1..=max).collect::<Vec<_>>(),
                "read {reads} saw sequence {max} but not all before it"
            );
            reads += 1;
            if finished {
                return reads;
            }
        }
    };
    let ((), reads) = tokio::join!(writers, reader);
    assert!(reads > 1, "the reader ran while writers wrote");
    assert_gapless(&app, key).await;
}

async fn sequences_are_per_tenant(backend: Backend) {
    let (app, a) = app_with_tenant(backend).await;
    let b = app.create_tenant("globex", "TEAM").await;
    app.record_ok(&a.admin_key, Value::Array(vec![event("a.write"); 30]))
        .await;
    let b_written = app
        .record_ok(&b.admin_key, Value::Array(vec![event("b.write"); 3]))
        .await;
    let b_count = i64::try_from(app.event_count(&b.admin_key).await).expect("small");
    let b_sequences: Vec<i64> = b_written.iter().map(sequence).collect();
    assert_eq!(
        b_sequences,
        vec![b_count - 2, b_count - 1, b_count],
        "B counts its own events only"
    );
    assert_gapless(&app, &a.admin_key).await;
    assert_gapless(&app, &b.admin_key).await;

    let first = app
        .all_events(&b.admin_key, json!({ "actions": ["tenant.create"] }))
        .await;
    assert_eq!(first.len(), 1, "one tenant.create event");
    assert_eq!(
        sequence(&first[0]),
        1,
        "the tenant's own creation is its first event"
    );
}

/// Asserts that `event.sequence` is the JSON number `expected`.
#[track_caller]
fn assert_sequence(event: &Value, expected: i64) {
    assert!(
        event["sequence"].is_u64(),
        "sequence is a JSON number: {event}"
    );
    assert_eq!(sequence(event), expected, "{event}");
}

async fn sequences_above_2_pow_32_are_json_numbers_everywhere(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    set_event_counter(app.superuser_database_url(), tenant_uuid(&tenant.id), HIGH).await;

    // The mutation's payload.
    let recorded = app.record_ok(key, events("high.write", 3)).await;
    for (i, event) in (1..).zip(&recorded) {
        assert_sequence(event, HIGH + i);
    }

    // `auditEvents`, newest first, and its filter.
    let listed = app
        .all_events(key, json!({ "actions": ["high.write"] }))
        .await;
    assert_eq!(listed.len(), 3, "{listed:?}");
    for (i, event) in (0..).zip(&listed) {
        assert_sequence(event, HIGH + 3 - i);
    }
    let page = app.page(key, json!({ "first": 1 })).await;
    assert_sequence(&page.nodes[0], HIGH + 3);

    // `auditEvent(id)`.
    let one = app
        .event(key, &auditlog_tests::str_field(&recorded[1], "id"))
        .await;
    assert_sequence(one.field("auditEvent"), HIGH + 2);

    // Facet counts are `Count`: JSON numbers too.
    let facets = app.facets(key).await;
    let actions = facets.field("auditEventFacets")["actions"]
        .as_array()
        .expect("facet actions");
    let high = actions
        .iter()
        .find(|row| row["value"] == "high.write")
        .expect("a high.write row");
    assert_eq!(high["count"], json!(3), "{high}");

    // The subscription replays after a sequence above 2^32, given as a number
    // or as a string of digits, then continues live.
    // (One socket each: `next_event` skips other subscriptions' messages.)
    let mut by_number = WsClient::connect_and_init(&app.ws_url(), key).await;
    by_number
        .subscribe("n", SUBSCRIPTION, json!({ "after": HIGH + 1 }))
        .await;
    let mut by_text = WsClient::connect_and_init(&app.ws_url(), key).await;
    by_text
        .subscribe(
            "s",
            SUBSCRIPTION,
            json!({ "after": (HIGH + 2).to_string() }),
        )
        .await;
    assert_sequence(&by_number.next_event("n").await, HIGH + 2);
    assert_sequence(&by_number.next_event("n").await, HIGH + 3);
    assert_sequence(&by_text.next_event("s").await, HIGH + 3);
    let live = app.record_ok(key, json!([event("high.live")])).await;
    assert_sequence(&live[0], HIGH + 4);
    assert_sequence(&by_number.next_event("n").await, HIGH + 4);
    assert_sequence(&by_text.next_event("s").await, HIGH + 4);
    by_number.close().await;
    by_text.close().await;
}

async fn sequence_arguments_refuse_what_is_not_a_non_negative_64_bit_integer(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let mut ws = WsClient::connect_and_init(&app.ws_url(), &tenant.admin_key).await;
    for (id, after) in [
        ("negative", json!(-1)),
        ("fraction", json!(1.5)),
        ("too-large", json!(u64::MAX)),
        ("too-large-text", json!("9223372036854775808")),
        ("not-digits", json!("12abc")),
        ("boolean", json!(true)),
    ] {
        ws.subscribe(id, SUBSCRIPTION, json!({ "after": after }))
            .await;
        let error = ws.next_json().await;
        assert_eq!(error["type"], "error", "{id}: {error}");
        assert_eq!(
            error["payload"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{id}: {error}"
        );
        let message = error["payload"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("Sequence") && message.contains("2^63"),
            "{id}: the message names the type and its range: {message}"
        );
    }
    // The largest value is accepted (nothing comes after it).
    ws.subscribe(
        "max",
        SUBSCRIPTION,
        json!({ "after": i64::MAX.to_string() }),
    )
    .await;
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.next_json().await["type"], "pong");
    ws.close().await;
}

backend_tests!(
    gapless_and_ordered_under_8_concurrent_writers,
    a_reader_never_sees_a_gap,
    sequences_are_per_tenant,
    sequences_above_2_pow_32_are_json_numbers_everywhere,
    sequence_arguments_refuse_what_is_not_a_non_negative_64_bit_integer
);
