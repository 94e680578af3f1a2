//! Exactly-once delivery across reconnects and under concurrent writers.

use std::sync::Arc;

use auditlog_tests::ws::WsClient;
use auditlog_tests::{Backend, backend_tests};
use serde_json::json;

use crate::helpers::{app_with_tenant, events, sequence};
use auditlog_tests::queries::SUBSCRIPTION;

/// Reads events of operation `id` until sequence `until`, appending to `seen`.
async fn read_until(ws: &mut WsClient, id: &str, until: i64, seen: &mut Vec<i64>) {
    while seen.last().copied().unwrap_or(0) < until {
        seen.push(sequence(&ws.next_event(id).await));
    }
}

async fn resume_after_disconnect_during_ingestion_loses_and_repeats_nothing(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let app = Arc::new(app);
    const BATCHES: usize = 60;
    const PER_BATCH: usize = 5;
    let writer = {
        let (app, key) = (app.clone(), tenant.admin_key.clone());
        tokio::spawn(async move {
            for _ in 0..BATCHES {
                app.record_ok(&key, events("entry.stream", PER_BATCH)).await;
            }
        })
    };
    let last = 1 + (BATCHES * PER_BATCH) as i64;
    let mut seen = Vec::new();
    // Three connections, each dropped abruptly mid-stream, then one to the end.
    for round in 0..4 {
        let mut ws = WsClient::connect_and_init(&app.ws_url(), &tenant.admin_key).await;
        let after = seen.last().copied().unwrap_or(0);
        ws.subscribe("tail", SUBSCRIPTION, json!({ "after": after }))
            .await;
        let target = if round < 3 { after + 40 } else { last };
        read_until(&mut ws, "tail", target.min(last), &mut seen).await;
        drop(ws);
    }
    writer.await.expect("writer task");
    assert_eq!(
        seen,
        (1..=last).collect::<Vec<i64>>(),
        "every sequence exactly once, in order"
    );
}

async fn eight_concurrent_writers_one_subscriber_sees_every_sequence(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let app = Arc::new(app);
    let mut ws = WsClient::connect_and_init(&app.ws_url(), &tenant.admin_key).await;
    ws.subscribe("all", SUBSCRIPTION, json!({ "after": 1 }))
        .await;
    const WRITERS: usize = 8;
    const BATCHES: usize = 15;
    const PER_BATCH: usize = 4;
    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        let (app, key) = (app.clone(), tenant.admin_key.clone());
        writers.push(tokio::spawn(async move {
            for _ in 0..BATCHES {
                app.record_ok(&key, events("entry.concurrent", PER_BATCH))
                    .await;
            }
        }));
    }
    let last = 1 + (WRITERS * BATCHES * PER_BATCH) as i64;
    let mut seen = Vec::new();
    read_until(&mut ws, "all", last, &mut seen).await;
    for writer in writers {
        writer.await.expect("writer task");
    }
    assert_eq!(
        seen,
        (2..=last).collect::<Vec<i64>>(),
        "1..N without gaps or repeats"
    );
}

backend_tests!(
    resume_after_disconnect_during_ingestion_loses_and_repeats_nothing,
    eight_concurrent_writers_one_subscriber_sees_every_sequence,
);
