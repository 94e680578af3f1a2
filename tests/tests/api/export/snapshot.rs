//! The snapshot: the bound is fixed when the export starts (events recorded
//! after the headers arrived are not in it), resuming with `afterSequence` =
//! the last sequence received and the same `untilSequence` yields every event
//! exactly once, and a body cut short has no manifest.

use super::{AFTER, NDJSON, UNTIL, export, header_sequence, ndjson, ok, request, sequences};
use crate::helpers::events;
use auditlog_tests::{Backend, backend_tests, spawn_app};

/// More than two batches of the export (1000 rows each).
const EVENTS: usize = 2_500;

async fn record_many(app: &auditlog_tests::TestApp, key: &str, count: usize) {
    let mut left = count;
    while left > 0 {
        let batch = left.min(1000);
        app.record_ok(key, events("bulk.event", batch)).await;
        left -= batch;
    }
}

async fn later_events_are_not_in_an_export_and_a_cut_one_resumes_exactly(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = app.create_tenant("acme", "TEAM").await;
    let key = acme.admin_key.as_str();
    record_many(&app, key, EVENTS).await;

    // The headers come first; what is recorded after them is not in the body.
    let response = request(&app, NDJSON, &[], Some(key), &[]).await;
    let until = header_sequence(response.headers(), UNTIL);
    assert_eq!(header_sequence(response.headers(), AFTER), 0);
    assert!(
        until > EVENTS as i64,
        "every event is below the bound: {until}"
    );
    app.record_ok(key, events("late.event", 10)).await;
    let body = response.bytes().await.expect("the body");
    let (lines, manifest) = ndjson(&body);
    let all = sequences(&lines);
    assert_eq!(
        all,
        (1..=until).collect::<Vec<_>>(),
        "every event once, in order"
    );
    assert!(lines.iter().all(|line| line["action"] != "late.event"));
    let manifest = manifest.expect("complete");
    assert_eq!(manifest["untilSequence"], until);
    assert_eq!(manifest["count"], until);

    // Cut after the first part of the body: no manifest in what arrived.
    let until_text = until.to_string();
    let bound = [("untilSequence", until_text.as_str())];
    let mut response = request(&app, NDJSON, &bound, Some(key), &[]).await;
    assert_eq!(header_sequence(response.headers(), UNTIL), until);
    let mut received = Vec::new();
    while received.iter().filter(|byte| **byte == b'\n').count() < 1_200 {
        let chunk = response.chunk().await.expect("a chunk").expect("more body");
        received.extend_from_slice(&chunk);
    }
    drop(response);
    // Only whole lines count; the rest is what the cut took.
    let whole = received
        .iter()
        .rposition(|byte| *byte == b'\n')
        .map_or(0, |end| end + 1);
    let (first_part, manifest) = ndjson(&received[..whole]);
    assert!(manifest.is_none(), "a truncated export has no manifest");
    let last = *sequences(&first_part).last().expect("some events");
    assert!(last < until, "cut before the end");

    // Resumed after the last sequence received, with the same bound.
    let last_text = last.to_string();
    let resumed = ok(export(
        &app,
        NDJSON,
        &[
            ("afterSequence", last_text.as_str()),
            ("untilSequence", until_text.as_str()),
        ],
        Some(key),
    )
    .await);
    assert_eq!(resumed.sequence_header(AFTER), last);
    let (rest, manifest) = ndjson(&resumed.body);
    let manifest = manifest.expect("the resumed export is complete");
    assert_eq!(manifest["afterSequence"], last);
    let mut joined = sequences(&first_part);
    joined.extend(sequences(&rest));
    assert_eq!(joined, all, "no gap and no duplicate across the cut");
}

backend_tests!(later_events_are_not_in_an_export_and_a_cut_one_resumes_exactly);
