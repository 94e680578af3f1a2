//! Scenario `streams` (issue 20): log-stream delivery, by a stream worker in
//! a child process of its own (this binary with [`WORKER_FLAG`]: the same
//! `StreamRunner` the service and `auditlog-worker` run, default settings),
//! to a receiver in this process that answers 204 at once.
//!
//! - One stream: a backlog of `streams_backlog` events, then a stream from
//!   sequence 0 with batches of 100 while writers record 1,000 events/s;
//!   measured: the rate at which the backlog is delivered, then each live
//!   event's delivery lag (arrival at the receiver − `receivedAt`). The
//!   baseline is the receiver itself: the same batches POSTed to it
//!   back to back from here.
//! - Many streams: `streams_tenants` tenants with `streams_per_tenant`
//!   streams each (100 × 10 at the default scale), each tenant recording
//!   one event per second for `streams_seconds`; measured: the worker's CPU
//!   (user + system time of its process over the wall time) and every
//!   stream's lag p99.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auditlog_worker::config::StreamConfig;
use auditlog_worker::purge::{NotifyOtherProcesses, unique_holder};
use auditlog_worker::streams::StreamRunner;
use auditlog_worker::tree_heads::TreeHeadSigner;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use chrono::{DateTime, Utc};
use entity::domain::RetentionRules;
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::ingest::record_bodies;
use super::report::{Goal, Row, push_versus};
use super::stats::{Run, Summary, drive, percentile};
use super::{Bench, body, create_tenants, service_graphql};

/// Runs a stream worker on the database URL that follows it (the child).
pub(crate) const WORKER_FLAG: &str = "--stream-worker";
const READY: &str = "bench stream worker ready";

const CREATE: &str = "mutation($input: LogStreamInput!, $after: Int) { \
     createLogStream(input: $input, startAfterSequence: $after) { logStream { id } } }";

/// The child: delivers every stream of the database until killed.
pub(crate) async fn serve_worker(database_url: &str) {
    let db =
        entity::store::connection::connect_with(database_url, 16, Duration::from_secs(10), None)
            .await
            .expect("the worker connects");
    let config = StreamConfig {
        stream_allow_private_targets: true,
        ..StreamConfig::default()
    };
    let deliverer = config
        .deliverer(
            db.clone(),
            TreeHeadSigner::new(db.clone(), None),
            Arc::new(NotifyOtherProcesses(db.clone())),
            unique_holder("bench"),
            RetentionRules::default(),
        )
        .await
        .expect("a deliverer");
    let _runner = StreamRunner::start(
        deliverer,
        Duration::from_millis(config.stream_poll_ms),
        config.stream_concurrency as usize,
    );
    println!("{READY}");
    std::future::pending::<()>().await;
}

/// What the receiver saw.
#[derive(Default)]
struct Intake {
    events: AtomicU64,
    max_sequence: AtomicI64,
    /// Lags are kept for events from this sequence on (per path).
    record_from: AtomicI64,
    lags_ms: Mutex<HashMap<String, Vec<f64>>>,
}

#[derive(Deserialize)]
struct Batch {
    events: Vec<BatchEvent>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchEvent {
    sequence: i64,
    received_at: DateTime<Utc>,
}

async fn receive(State(intake): State<Arc<Intake>>, uri: Uri, body: Bytes) -> StatusCode {
    let now = Utc::now();
    let Ok(batch) = serde_json::from_slice::<Batch>(&body) else {
        return StatusCode::NO_CONTENT;
    };
    let from = intake.record_from.load(Ordering::Relaxed);
    let mut lags = Vec::new();
    for event in &batch.events {
        intake
            .max_sequence
            .fetch_max(event.sequence, Ordering::Relaxed);
        if event.sequence >= from {
            lags.push((now - event.received_at).as_seconds_f64() * 1e3);
        }
    }
    intake
        .events
        .fetch_add(batch.events.len() as u64, Ordering::Relaxed);
    if !lags.is_empty() {
        let mut all = intake.lags_ms.lock().expect("lags");
        all.entry(uri.path().to_owned()).or_default().extend(lags);
    }
    StatusCode::NO_CONTENT
}

/// Starts the receiver; its base URL and what it saw.
async fn receiver() -> (String, Arc<Intake>) {
    let intake = Arc::new(Intake {
        record_from: AtomicI64::new(i64::MAX),
        ..Intake::default()
    });
    let app = axum::Router::new()
        .fallback(receive)
        .with_state(intake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        axum::serve(listener, app)
            .await
            .expect("the receiver serves")
    });
    (format!("http://{address}"), intake)
}

/// The worker child and its pid.
async fn start_worker(bench: &Bench) -> (tokio::process::Child, u32) {
    let mut child = tokio::process::Command::new(std::env::current_exe().expect("this binary"))
        .args([WORKER_FLAG, bench.app.database_url()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start the stream worker");
    let pid = child.id().expect("a pid");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line == READY {
                return;
            }
        }
        panic!("the stream worker exited before it was ready");
    })
    .await
    .expect("the stream worker starts within 60 s");
    (child, pid)
}

/// User + system CPU seconds of `pid` so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) in parentheses.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    (ticks(11) + ticks(12)) / 100.0
}

async fn create_stream(bench: &Bench, key: &str, url: String, after: Option<i64>) {
    let input = json!({ "name": "bench", "kind": "WEBHOOK", "url": url, "batchSize": 100 });
    service_graphql(
        &bench.app,
        key,
        body(CREATE, json!({ "input": input, "after": after })),
    )
    .await;
}

pub(crate) async fn streams(bench: &Bench, rows: &mut Vec<Row>, goals: &mut Vec<Goal>) {
    let (base, intake) = receiver().await;
    let (_worker, pid) = start_worker(bench).await;
    one_stream(bench, &base, &intake, rows, goals).await;
    many_streams(bench, &base, &intake, pid, rows, goals).await;
}

async fn one_stream(
    bench: &Bench,
    base: &str,
    intake: &Arc<Intake>,
    rows: &mut Vec<Row>,
    goals: &mut Vec<Goal>,
) {
    let scale = &bench.scale;
    let tenant = create_tenants(&bench.app, "streams-one", 1, "ENTERPRISE")
        .await
        .remove(0);
    let batches = (scale.streams_backlog / 500).max(1);
    let bodies = Arc::new(record_bodies(batches, 500, 7_000_000));
    let (app, key) = (bench.app.clone(), tenant.key.clone());
    drive(4, batches, 500, move |n| {
        let (app, key, body) = (app.clone(), key.clone(), bodies[n].clone());
        async move {
            service_graphql(&app, &key, body).await;
        }
    })
    .await;
    let backlog_end = (batches * 500 + 1) as i64;
    // Live writers: 10 events every 10 ms, until told to stop.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let last_written = Arc::new(AtomicI64::new(0));
    let writer = {
        let (app, key, stop) = (bench.app.clone(), tenant.key.clone(), stop.clone());
        let last_written = last_written.clone();
        let bodies = record_bodies(1, 10, 9_000_000);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(10));
            let mut written = 0_u64;
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let data = service_graphql(&app, &key, bodies[0].clone()).await;
                let last = data["recordAuditEvents"]["events"][9]["sequence"]
                    .as_i64()
                    .unwrap_or(0);
                last_written.fetch_max(last, Ordering::Relaxed);
                written += 10;
            }
            written
        })
    };
    let started = Instant::now();
    create_stream(bench, &tenant.key, format!("{base}/one"), Some(0)).await;
    while intake.max_sequence.load(Ordering::Relaxed) < backlog_end {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drained = started.elapsed().as_secs_f64();
    let delivered = intake.events.load(Ordering::Relaxed) as f64;
    // Steady state: once the stream has caught up with the live writers
    // too, the lag of every live event from then on.
    let caught_up = last_written.load(Ordering::Relaxed);
    while intake.max_sequence.load(Ordering::Relaxed) < caught_up {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    intake.record_from.store(caught_up + 1, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(scale.streams_seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let written = writer.await.expect("the writer");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let lags = intake
        .lags_ms
        .lock()
        .expect("lags")
        .remove("/one")
        .unwrap_or_default();
    intake.record_from.store(i64::MAX, Ordering::Relaxed);
    let delivery = Summary::of(&[Run {
        seconds: drained,
        items: delivered,
        latencies_ms: lags.clone(),
    }]);
    let baseline = receiver_capacity(base, &tenant.key).await;
    push_versus(
        rows,
        "streams",
        "events/s",
        (
            "one stream, backlog (batches of 100; p50/p99: live lag)",
            &delivery,
            "receiver",
        ),
        ("the receiver alone (same batches, back to back)", &baseline),
    );
    goals.push(Goal::check(
        "streams",
        "one stream delivers ≥ 10,000 events/s (batches of 100) while ingest runs at 1,000 events/s",
        delivery.rate,
        10_000.0,
        true,
        format!("{:.0} events/s ({written} live events written)", delivery.rate),
    ));
    goals.push(Goal::check(
        "streams",
        "delivery lag p99 ≤ 2 s (one stream, ingest at 1,000 events/s)",
        percentile(&lags, 0.99),
        2_000.0,
        false,
        format!(
            "p50 {:.0} ms, p99 {:.0} ms over {} events",
            percentile(&lags, 0.5),
            percentile(&lags, 0.99),
            lags.len()
        ),
    ));
}

/// What the receiver takes when batches of 100 events are POSTed back to back.
async fn receiver_capacity(base: &str, _key: &str) -> Summary {
    let events: Vec<serde_json::Value> = (0..100)
        .map(|n| {
            json!({ "sequence": -1 - n, "receivedAt": Utc::now(), "action": "bench.event",
                         "actor": { "type": "USER", "id": "u" }, "payload": { "n": n } })
        })
        .collect();
    let batch = Bytes::from(json!({ "type": "audit_events.batch", "events": events }).to_string());
    let client = reqwest::Client::new();
    let url = format!("{base}/capacity");
    let run = drive(1, 2_000, 100, move |_| {
        let (client, url, batch) = (client.clone(), url.clone(), batch.clone());
        async move {
            client
                .post(url)
                .body(batch)
                .send()
                .await
                .expect("the receiver answers");
        }
    })
    .await;
    Summary::of(&[run])
}

async fn many_streams(
    bench: &Bench,
    base: &str,
    intake: &Arc<Intake>,
    pid: u32,
    rows: &mut Vec<Row>,
    goals: &mut Vec<Goal>,
) {
    let scale = &bench.scale;
    let tenants = create_tenants(
        &bench.app,
        "streams-many",
        scale.streams_tenants,
        "ENTERPRISE",
    )
    .await;
    let streams = scale.streams_tenants * scale.streams_per_tenant;
    for (t, tenant) in tenants.iter().enumerate() {
        for s in 0..scale.streams_per_tenant {
            create_stream(bench, &tenant.key, format!("{base}/many/{t}/{s}"), None).await;
        }
    }
    // Let the streams deliver their own creation events first.
    tokio::time::sleep(Duration::from_secs(3)).await;
    intake.record_from.store(0, Ordering::Relaxed);
    intake.lags_ms.lock().expect("lags").clear();
    let cpu_before = cpu_seconds(pid);
    let started = Instant::now();
    let bodies = Arc::new(record_bodies(1, 1, 11_000_000));
    let mut writers = Vec::new();
    for tenant in &tenants {
        let (app, key, bodies) = (bench.app.clone(), tenant.key.clone(), bodies.clone());
        let seconds = scale.streams_seconds;
        writers.push(tokio::spawn(async move {
            // Spread the tenants over the second.
            tokio::time::sleep(Duration::from_millis(rand::random::<u64>() % 1000)).await;
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            for _ in 0..seconds {
                tick.tick().await;
                service_graphql(&app, &key, bodies[0].clone()).await;
            }
        }));
    }
    for writer in writers {
        writer.await.expect("a writer");
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let wall = started.elapsed().as_secs_f64();
    let cores = (cpu_seconds(pid) - cpu_before) / wall;
    let lags = std::mem::take(&mut *intake.lags_ms.lock().expect("lags"));
    intake.record_from.store(i64::MAX, Ordering::Relaxed);
    let per_stream: Vec<f64> = lags
        .iter()
        .filter(|(path, _)| path.starts_with("/many/"))
        .map(|(_, lags)| percentile(lags, 0.99))
        .collect();
    let all: Vec<f64> = lags
        .iter()
        .filter(|(path, _)| path.starts_with("/many/"))
        .flat_map(|(_, lags)| lags.iter().copied())
        .collect();
    let worst = per_stream.iter().copied().fold(f64::NAN, f64::max);
    let delivered = all.len() as f64;
    rows.push(Row {
        scenario: "streams",
        system: format!(
            "{streams} streams over {} tenants, 1 event/s per tenant (p50/p99: lag)",
            tenants.len()
        ),
        unit: "events/s",
        summary: Summary::of(&[Run {
            seconds: wall,
            items: delivered,
            latencies_ms: all,
        }]),
        ratio: format!("worker CPU {cores:.2} cores"),
    });
    goals.push(Goal::check(
        "streams",
        format!(
            "{streams} streams over {} tenants at 1 event/s per tenant: worker CPU < 1 core",
            tenants.len()
        ),
        cores,
        1.0,
        false,
        format!("{cores:.2} cores"),
    ));
    goals.push(Goal::check(
        "streams",
        "every stream's lag p99 ≤ 5 s",
        worst,
        5_000.0,
        false,
        format!(
            "worst stream p99 {worst:.0} ms; median stream p99 {:.0} ms; {} of {streams} streams delivered",
            percentile(&per_stream, 0.5),
            per_stream.len()
        ),
    ));
}
