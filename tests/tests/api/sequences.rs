//! Per-tenant sequences: gapless from 1, unique, ordered within a batch and within
//! one writer, under 8 concurrent writers; and assigned in commit order, so a
//! reader who sees sequence N sees every event up to N.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};

use auditlog_tests::{Backend, TestApp, backend_tests};
use futures::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{app_with_tenant, event, sequence};

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

backend_tests!(
    gapless_and_ordered_under_8_concurrent_writers,
    a_reader_never_sees_a_gap,
    sequences_are_per_tenant
);
