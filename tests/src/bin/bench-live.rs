//! Live-event delivery latency: record acknowledged → event received.
//!
//! `cargo run --release -p auditlog-tests --bin bench-live -- [postgres|sqlite] [subscribers] [events/s] [seconds]`
//! (defaults: postgres 100 1000 10). Starts the real server in-process on a fresh
//! database (the harness's throwaway PostgreSQL cluster), opens the subscribers over
//! WebSocket, records events at a steady rate in batches of 10 over HTTP, and prints
//! p50/p99/max of the delay between a batch's HTTP acknowledgement and each
//! subscriber receiving each of its events (an event that arrives before its
//! acknowledgement counts as 0), and the same from the moment the request was
//! sent. Load generator, server and subscribers share the
//! machine, so read the figures as an upper bound.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// mimalloc instead of the system allocator: GraphQL responses are built from
/// many small allocations, and glibc's malloc showed up as a third of the
/// service's CPU time in profiles of the page benchmark.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use auditlog_tests::ws::WsClient;
use auditlog_tests::{Backend, spawn_app};
use serde_json::json;

const BATCH: usize = 10;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let backend = match args.first().map(String::as_str) {
        Some("sqlite") => Backend::Sqlite,
        _ => Backend::Postgres,
    };
    let subscribers: usize = args.get(1).and_then(|v| v.parse().ok()).unwrap_or(100);
    let rate: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(1000);
    let seconds: u64 = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(10);

    let app = Arc::new(spawn_app(backend).await);
    let tenant = app.create_tenant("bench", "ENTERPRISE").await;
    let total = rate * seconds as usize / BATCH * BATCH;

    let mut receivers = Vec::new();
    for index in 0..subscribers {
        let mut ws = WsClient::connect_and_init(&app.ws_url(), &tenant.admin_key).await;
        ws.subscribe(
            "bench",
            "subscription { auditEventRecorded { sequence } }",
            json!({}),
        )
        .await;
        ws.send(json!({ "type": "ping" })).await;
        assert_eq!(ws.next_json().await["type"], "pong", "subscriber {index}");
        receivers.push(tokio::spawn(async move {
            let mut arrivals = Vec::with_capacity(total);
            while arrivals.len() < total {
                let event = ws.next_event("bench").await;
                arrivals.push((event["sequence"].as_i64().unwrap(), Instant::now()));
            }
            arrivals
        }));
    }

    let mut acknowledged: HashMap<i64, (Instant, Instant)> = HashMap::with_capacity(total);
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(BATCH as f64 / rate as f64));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut in_flight = tokio::task::JoinSet::new();
    for _ in 0..total / BATCH {
        ticks.tick().await;
        let (app, key) = (app.clone(), tenant.admin_key.clone());
        in_flight.spawn(async move {
            let batch = json!((0..BATCH).map(|_| json!({"action": "bench.event", "actor": {"type": "USER", "id": "u"}, "payload": {"n": 1}})).collect::<Vec<_>>());
            let sent = Instant::now();
            let events = app.record_ok(&key, batch).await;
            let at = Instant::now();
            events.iter().map(|e| (e["sequence"].as_i64().unwrap(), (sent, at))).collect::<Vec<_>>()
        });
    }
    while let Some(batch) = in_flight.join_next().await {
        acknowledged.extend(batch.unwrap());
    }
    let ingest_seconds = started.elapsed().as_secs_f64();

    let mut latencies = Vec::with_capacity(total * subscribers);
    let mut from_send = Vec::with_capacity(total * subscribers);
    for receiver in receivers {
        for (sequence, arrived) in receiver.await.unwrap() {
            let (sent, ack) = acknowledged[&sequence];
            latencies.push(arrived.saturating_duration_since(ack));
            from_send.push(arrived.saturating_duration_since(sent));
        }
    }
    latencies.sort();
    from_send.sort();
    let pick = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    let pick_send = |q: f64| from_send[((from_send.len() - 1) as f64 * q) as usize];
    println!(
        "backend={backend} subscribers={subscribers} target={rate}/s achieved={:.0}/s events={total} deliveries={}",
        total as f64 / ingest_seconds,
        latencies.len()
    );
    println!(
        "ack->received latency: p50={:.2} ms p99={:.2} ms max={:.2} ms",
        pick(0.5).as_secs_f64() * 1e3,
        pick(0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    println!(
        "request sent->received latency: p50={:.2} ms p99={:.2} ms",
        pick_send(0.5).as_secs_f64() * 1e3,
        pick_send(0.99).as_secs_f64() * 1e3
    );
}
