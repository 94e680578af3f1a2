//! Retention purge throughput on PostgreSQL, and its effect on ingestion latency.
//!
//! `cargo run --release -p auditlog-tests --bin bench-purge -- [expired] [total] [batch] [writers] [seconds]`
//! (defaults: 1000000 3000000 1000 4 10).
//!
//! 1. Starts the real server in-process on a fresh database of the harness's
//!    throwaway PostgreSQL cluster (or `AUDITLOG_TEST_DATABASE_URL`), creates a
//!    TEAM tenant (7 days) and fills it with `total` events through SQL
//!    (`INSERT … SELECT … FROM generate_series`): `expired` of them occurred 30
//!    days ago, the rest within the last hour. Then `VACUUM ANALYZE`.
//! 2. Baseline: `writers` concurrent clients call `recordAuditEvents` (10 events
//!    per call, 10 ms pause between calls) for `seconds`; latency per call.
//! 3. The same writers run while one purge pass (`Purger::run_pass`, the code of
//!    `auditlog-worker`, batches of `batch`) deletes the expired events; prints
//!    the purge rate (rows/s) and the latency during the purge.
//! 4. Re-plants `expired` events and purges them with no writers: the unloaded rate.
//!
//! Load generator, server, purger and PostgreSQL share the machine: read the
//! figures as what this machine does, not as a bound of the design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// mimalloc instead of the system allocator: GraphQL responses are built from
/// many small allocations, and glibc's malloc showed up as a third of the
/// service's CPU time in profiles of the page benchmark.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use auditlog_tests::database::{self, purge_settings, purger, tenant_uuid};
use auditlog_tests::{Backend, TestApp, spawn_app};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;
use uuid::Uuid;

/// Rows per INSERT … SELECT statement while filling.
const FILL_CHUNK: u64 = 250_000;

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|arg| arg.parse().expect("numeric arguments"))
        .collect();
    let expired = args.first().copied().unwrap_or(1_000_000);
    let total = args.get(1).copied().unwrap_or(3_000_000).max(expired);
    let batch = args.get(2).copied().unwrap_or(1000);
    let writers = args.get(3).copied().unwrap_or(4) as usize;
    let seconds = args.get(4).copied().unwrap_or(10);

    let app = Arc::new(spawn_app(Backend::Postgres).await);
    let tenant = app.create_tenant("bench", "TEAM").await;
    let tenant_id = tenant_uuid(&tenant.id);
    // Raw fills and VACUUM need to see every tenant: a superuser's connection.
    let db = database::connect(app.superuser_database_url()).await;

    let started = Instant::now();
    fill(&db, tenant_id, 1, expired, "30 days").await;
    fill(&db, tenant_id, 1 + expired, total - expired, "1 hour").await;
    db.execute_unprepared("VACUUM ANALYZE audit_events")
        .await
        .unwrap();
    println!(
        "filled {total} events ({expired} expired) in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let baseline = write_load(&app, &tenant.admin_key, writers, move || {
        tokio::time::sleep(Duration::from_secs(seconds))
    })
    .await;
    report("recordAuditEvents without purge", &baseline);

    let pass = purger(&db, purge_settings(batch));
    let purge_started = Instant::now();
    let (during, result) = {
        let result = Arc::new(tokio::sync::Mutex::new(None));
        let slot = result.clone();
        let latencies = write_load(&app, &tenant.admin_key, writers, move || async move {
            let report = pass.run_pass().await.unwrap();
            *slot.lock().await = Some(report);
        })
        .await;
        let report = result.lock().await.take().unwrap();
        (latencies, report)
    };
    let purge_seconds = purge_started.elapsed().as_secs_f64();
    println!(
        "purge with {writers} concurrent writers: {} rows in {:.1} s = {:.0} rows/s (batch {batch})",
        result.events_deleted,
        result.duration.as_secs_f64(),
        result.events_deleted as f64 / result.duration.as_secs_f64()
    );
    report("recordAuditEvents during purge", &during);
    println!(
        "p99 ratio during/without: {:.2}; p50 ratio: {:.2} (purge phase lasted {purge_seconds:.1} s)",
        percentile(&during, 0.99) / percentile(&baseline, 0.99),
        percentile(&during, 0.50) / percentile(&baseline, 0.50)
    );

    let counter = entity::store::events::committed_sequence(&db, tenant_id)
        .await
        .unwrap();
    let next = u64::try_from(counter).unwrap();
    fill(&db, tenant_id, next, expired, "30 days").await;
    db.execute_unprepared("VACUUM ANALYZE audit_events")
        .await
        .unwrap();
    let alone = purger(&db, purge_settings(batch)).run_pass().await.unwrap();
    println!(
        "purge alone: {} rows in {:.1} s = {:.0} rows/s (batch {batch})",
        alone.events_deleted,
        alone.duration.as_secs_f64(),
        alone.events_deleted as f64 / alone.duration.as_secs_f64()
    );
}

/// Inserts `count` events with sequences `first + 1 ..= first + count`, that occurred within the
/// `age` before now (spread one millisecond apart, going back from `now - age`).
async fn fill(db: &DatabaseConnection, tenant: Uuid, first: u64, count: u64, age: &str) {
    let mut done = 0;
    while done < count {
        let rows = FILL_CHUNK.min(count - done);
        let offset = first + done;
        db.execute_unprepared(&format!(
            "INSERT INTO audit_events (tenant_id, id, sequence, action, actor_type, actor_id, \
             actor_name, target_type, target_id, outcome, payload, occurred_at, received_at) \
             SELECT '{tenant}'::uuid, gen_random_uuid(), {offset} + g, 'entry.update', 'user', \
             'user-' || (g % 1000), 'User ' || (g % 1000), 'article', 'a-' || (g % 5000), 'success', \
             jsonb_build_object('n', g, 'title', 'benchmark row'), \
             now() - interval '{age}' - ({offset} + g) * interval '1 millisecond', now() \
             FROM generate_series(1, {rows}) AS g"
        ))
        .await
        .unwrap();
        done += rows;
    }
    database::store_tree_frontier(db, tenant, first + count).await;
    db.execute_unprepared(&format!(
        "UPDATE tenants SET event_counter = GREATEST(event_counter, {}) WHERE id = '{tenant}'",
        first + count
    ))
    .await
    .unwrap();
}

/// Runs `writers` clients recording batches of 10 events until `until()` resolves;
/// returns the latency of every call, in milliseconds.
async fn write_load<F, Fut>(app: &Arc<TestApp>, key: &str, writers: usize, until: F) -> Vec<f64>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for writer in 0..writers {
        let (app, key, stop) = (app.clone(), key.to_owned(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let events: Vec<_> = (0..10)
                .map(|i| {
                    json!({ "action": "entry.create",
                                 "actor": { "type": "USER", "id": format!("writer-{writer}") },
                                 "payload": { "i": i } })
                })
                .collect();
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let sent = Instant::now();
                app.record_ok(&key, json!(events)).await;
                latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            latencies
        }));
    }
    until().await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all.sort_by(f64::total_cmp);
    all
}

/// The `q` quantile of sorted `values` (nearest rank).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn report(label: &str, latencies: &[f64]) {
    println!(
        "{label}: {} calls, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        percentile(latencies, 0.50),
        percentile(latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
}
