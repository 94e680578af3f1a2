//! `purge`: the retention purge (`Purger::run_pass`, the code of
//! `auditlog-worker`, batches of 1,000) against a plain batched `DELETE` of
//! 1,000 rows per statement, on a database of its own: a TEAM tenant (7 days)
//! whose expired events the purge deletes, a tenant on legal hold (so the purge
//! skips it) whose expired events the raw DELETE removes, and 4 writers
//! recording single events (10 ms apart) into a third tenant during both, and
//! alone for the "without" latency. Every run re-plants `purge_expired` expired
//! events (30 days old) in each tenant beside `purge_total - purge_expired`
//! recent ones, with `INSERT … SELECT` as `bench-purge` does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use auditlog_tests::database::{purge_settings, purger};
use auditlog_tests::{Backend, TestApp, spawn_app};
use sea_orm::sqlx::{self, PgPool, postgres::PgPoolOptions};
use uuid::Uuid;

use super::ingest::record_bodies;
use super::report::{Goal, Row, push_versus};
use super::stats::{Run, Summary};
use super::{Scale, Tenant, create_tenants, service_graphql};

const FILL_CHUNK: usize = 250_000;
const DELETE_BATCH: i64 = 1000;
const WRITERS: usize = 4;

pub(crate) async fn purge(scale: &Scale, rows: &mut Vec<Row>, goals: &mut Vec<Goal>) {
    let app = Arc::new(spawn_app(Backend::Postgres).await);
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(app.superuser_database_url())
        .await
        .expect("raw pool");
    let team = create_tenants(&app, "purge-svc", 1, "TEAM").await.remove(0);
    let held = create_tenants(&app, "purge-raw", 1, "TEAM").await.remove(0);
    let writers = create_tenants(&app, "purge-writers", 1, "ENTERPRISE")
        .await
        .remove(0);
    // TEAM tenants are put on hold by the operator only.
    app.operator_legal_hold(&held.id.to_string(), true, Some("benchmark baseline"))
        .await
        .ok();
    let recent = scale.purge_total.saturating_sub(scale.purge_expired);
    for tenant in [&team, &held] {
        fill(&pool, tenant.id, recent, "1 hour").await;
    }
    let (mut service, mut raw, mut without, mut during) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..scale.runs {
        for tenant in [&team, &held] {
            fill(&pool, tenant.id, scale.purge_expired, "30 days").await;
        }
        sqlx::query("VACUUM ANALYZE audit_events")
            .execute(&pool)
            .await
            .expect("VACUUM");
        without.push(
            write_load(&app, &writers, || {
                tokio::time::sleep(Duration::from_secs(2))
            })
            .await,
        );
        let pass = purger(
            &auditlog_tests::database::connect(app.database_url()).await,
            purge_settings(1000),
        );
        let slot = Arc::new(std::sync::Mutex::new(None));
        let report = slot.clone();
        during.push(
            write_load(&app, &writers, move || async move {
                let result = pass.run_pass().await.expect("purge pass");
                *report.lock().expect("slot") = Some(result);
            })
            .await,
        );
        let result = slot.lock().expect("slot").take().expect("a pass report");
        service.push(Run {
            seconds: result.duration.as_secs_f64(),
            items: result.events_deleted as f64,
            latencies_ms: Vec::new(),
        });
        let (pool2, tenant) = (pool.clone(), held.id);
        let deleted = Arc::new(std::sync::Mutex::new((0u64, 0.0f64, Vec::new())));
        let out = deleted.clone();
        write_load(&app, &writers, move || async move {
            *out.lock().expect("slot") = raw_delete(&pool2, tenant).await;
        })
        .await;
        let (rows_deleted, seconds, latencies) = deleted.lock().expect("slot").clone();
        raw.push(Run {
            seconds,
            items: rows_deleted as f64,
            latencies_ms: latencies,
        });
    }
    let (service, raw) = (Summary::of(&service), Summary::of(&raw));
    let (without, during) = (Summary::of(&without), Summary::of(&during));
    push_versus(
        rows,
        "purge",
        "rows/s",
        (
            "auditlog purge pass (batches of 1,000), writers running",
            &service,
            "raw DELETE",
        ),
        ("raw batched DELETE 1,000/stmt, writers running", &raw),
    );
    push_writers(
        rows,
        "purge",
        ("no purge", &without),
        ("the purge", &during),
    );
    goals.push(Goal::share_of(
        "purge",
        "≥ 50 % of raw batched DELETE throughput",
        &service,
        &raw,
        0.5,
    ));
    goals.push(writers_goal("purge", "the purge", 2.0, &without, &during));
}

/// The rows of the writers' load without and during `activity`, the second
/// with its p99 against the first: `(what "no …" names, summary)`, `(what
/// "during …" names, summary)`.
pub(crate) fn push_writers(
    rows: &mut Vec<Row>,
    scenario: &'static str,
    (alone, without): (&str, &Summary),
    (activity, during): (&str, &Summary),
) {
    rows.push(Row {
        scenario,
        system: format!("{WRITERS} single-event writers, {alone}"),
        unit: "events/s",
        ratio: "baseline".into(),
        summary: without.clone(),
    });
    rows.push(Row {
        scenario,
        system: format!("{WRITERS} single-event writers during {activity}"),
        unit: "events/s",
        ratio: format!("p99 {:.2}× without", during.p99_ms / without.p99_ms),
        summary: during.clone(),
    });
}

/// The goal "ingest p99 during `activity` ≤ `bound`× without".
pub(crate) fn writers_goal(
    scenario: &'static str,
    activity: &str,
    bound: f64,
    without: &Summary,
    during: &Summary,
) -> Goal {
    let ratio = during.p99_ms / without.p99_ms;
    Goal::check(
        scenario,
        format!("ingest p99 during {activity} ≤ {bound}× without"),
        ratio,
        bound,
        false,
        format!("{ratio:.2}×"),
    )
}

/// Deletes the tenant's events older than 7 days, 1,000 per statement, until none
/// is left; returns (rows, seconds, per-statement latencies in ms).
async fn raw_delete(pool: &PgPool, tenant: Uuid) -> (u64, f64, Vec<f64>) {
    let started = Instant::now();
    let (mut total, mut latencies) = (0, Vec::new());
    loop {
        let sent = Instant::now();
        let done = sqlx::query(
            "DELETE FROM audit_events WHERE tenant_id = $1 AND id IN (SELECT id FROM audit_events \
             WHERE tenant_id = $1 AND occurred_at < now() - interval '7 days' \
             ORDER BY occurred_at, id LIMIT $2)",
        )
        .bind(tenant)
        .bind(DELETE_BATCH)
        .execute(pool)
        .await
        .expect("raw DELETE")
        .rows_affected();
        latencies.push(sent.elapsed().as_secs_f64() * 1e3);
        total += done;
        if done == 0 {
            return (total, started.elapsed().as_secs_f64(), latencies);
        }
    }
}

/// Inserts `count` events of the tenant that occurred within `age` before now,
/// after its current counter, and advances the counter.
pub(crate) async fn fill(pool: &PgPool, tenant: Uuid, count: usize, age: &str) {
    let first: i64 = sqlx::query_scalar("SELECT event_counter FROM tenants WHERE id = $1")
        .bind(tenant)
        .fetch_one(pool)
        .await
        .expect("counter");
    let mut done = 0;
    while done < count {
        let rows = FILL_CHUNK.min(count - done);
        let offset = first + done as i64;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO audit_events (tenant_id, id, sequence, action, actor_type, actor_id, \
             actor_name, target_type, target_id, outcome, payload, occurred_at, received_at) \
             SELECT $1, gen_random_uuid(), $2 + g, 'entry.update', 'user', \
             'user-' || (g % 1000), 'User ' || (g % 1000), 'article', 'a-' || (g % 5000), 'success', \
             jsonb_build_object('n', g, 'title', 'benchmark row'), \
             now() - interval '{age}' - ($2 + g) * interval '1 millisecond', now() \
             FROM generate_series(1, $3) AS g"
        )))
        .bind(tenant)
        .bind(offset)
        .bind(rows as i64)
        .execute(pool)
        .await
        .expect("fill");
        done += rows;
    }
    super::set_counter(pool, tenant, first + count as i64).await;
}

/// Runs the writers until `until()` resolves; one run of their latencies.
pub(crate) async fn write_load<F, Fut>(app: &Arc<TestApp>, tenant: &Tenant, until: F) -> Run
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let stop = Arc::new(AtomicBool::new(false));
    let bodies = Arc::new(record_bodies(64, 1, 5_000_000));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let (app, key, stop, bodies) = (
            app.clone(),
            tenant.key.clone(),
            stop.clone(),
            bodies.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = writer;
            while !stop.load(Ordering::Relaxed) {
                let sent = Instant::now();
                service_graphql(&app, &key, bodies[n % bodies.len()].clone()).await;
                latencies.push(sent.elapsed().as_secs_f64() * 1e3);
                n += WRITERS;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            latencies
        }));
    }
    until().await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies_ms = Vec::new();
    for task in tasks {
        latencies_ms.extend(task.await.expect("a writer"));
    }
    Run {
        seconds: started.elapsed().as_secs_f64(),
        items: latencies_ms.len() as f64,
        latencies_ms,
    }
}
