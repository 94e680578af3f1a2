//! `export`: `GET /export.ndjson` and `GET /export.csv` of one tenant of
//! `export_events` events (planted with `INSERT … SELECT`, as the purge
//! scenario does), against `COPY (SELECT row_to_json(…) …) TO STDOUT` of the
//! same columns and rows over a raw connection, in the same runs (issue 17).
//!
//! Also measured: the growth of this process's `VmRSS` while an export is read
//! at full speed and while one is read at 1 MiB/s (the service runs in this
//! process, so the figure is an upper bound of the service's own growth: the
//! client discards what it reads), and the p99 of 4 single-event writers into
//! another tenant without and during an export.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use auditlog_tests::{Backend, spawn_app};
use futures::StreamExt;
use sea_orm::sqlx::{self, PgPool, postgres::PgPoolOptions};
use uuid::Uuid;

use super::purge::{fill, push_writers, write_load, writers_goal};
use super::report::{Goal, Row, push_versus};
use super::stats::{Run, Summary};
use super::{Scale, Tenant, create_tenants};

/// The slow reader's pace (issue 17: "a client reading at 1 MiB/s").
const SLOW_BYTES_PER_SECOND: usize = 1 << 20;
/// The bound of issue 17 on the service's memory growth.
const GROWTH_BOUND_MIB: f64 = 64.0;
/// The columns an export reads, in the order of the table.
const COLUMNS: &str = "id, sequence, action, actor_type, actor_id, actor_name, actor_email, \
     target_type, target_id, target_name, outcome, ip_address, user_agent, request_id, payload, \
     occurred_at, received_at";

pub(crate) async fn export(scale: &Scale, rows: &mut Vec<Row>, goals: &mut Vec<Goal>) {
    let app = Arc::new(spawn_app(Backend::Postgres).await);
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(app.superuser_database_url())
        .await
        .expect("raw pool");
    let tenant = create_tenants(&app, "export", 1, "ENTERPRISE")
        .await
        .remove(0);
    let writers = create_tenants(&app, "export-writers", 1, "ENTERPRISE")
        .await
        .remove(0);
    fill(&pool, tenant.id, scale.export_events, "1 hour").await;
    sqlx::query("VACUUM ANALYZE audit_events")
        .execute(&pool)
        .await
        .expect("VACUUM");
    // No per-request timeout: a 2,000,000-event export read at 1 MiB/s takes
    // longer than any sensible one; the slow run stops on its own clock.
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("HTTP client");
    let download = Download {
        http: &http,
        base: &app.address,
        tenant: &tenant,
    };

    let (mut raw, mut ndjson, mut csv, mut growth) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..scale.runs {
        raw.push(copy_json(&pool, tenant.id).await);
        let (run, grew) = download.full("/export.ndjson").await;
        ndjson.push(run);
        growth.push(grew);
        csv.push(download.full("/export.csv").await.0);
    }
    let slow_growth = download.slow(scale.export_slow_seconds).await;
    // The writers alone for as long as one export takes, then during one;
    // alternated, one pair per run, so both see the same machine.
    let export_seconds = scale.export_events as f64 / Summary::of(&ndjson).rate;
    let (mut without, mut during) = (Vec::new(), Vec::new());
    for _ in 0..scale.runs {
        without.push(
            write_load(&app, &writers, || {
                tokio::time::sleep(Duration::from_secs_f64(export_seconds))
            })
            .await,
        );
        during.push(
            write_load(&app, &writers, || async {
                download.full("/export.ndjson").await;
            })
            .await,
        );
    }
    let (raw, ndjson, csv) = (Summary::of(&raw), Summary::of(&ndjson), Summary::of(&csv));
    let (without, during) = (Summary::of(&without), Summary::of(&during));
    let events = scale.export_events;
    push_versus(
        rows,
        "export",
        "events/s",
        (
            &format!("GET /export.ndjson, {events} events"),
            &ndjson,
            "COPY",
        ),
        ("raw COPY (SELECT row_to_json …) TO STDOUT", &raw),
    );
    rows.push(Row {
        scenario: "export",
        system: format!("GET /export.csv, {events} events"),
        unit: "events/s",
        ratio: format!("{:.2}× NDJSON", csv.rate / ndjson.rate),
        summary: csv.clone(),
    });
    push_writers(
        rows,
        "export",
        ("no export", &without),
        ("an NDJSON export", &during),
    );
    goals.push(Goal::share_of(
        "export",
        "NDJSON ≥ 50 % of COPY … row_to_json",
        &ndjson,
        &raw,
        0.5,
    ));
    goals.push(Goal::check(
        "export",
        "NDJSON ≥ 100,000 events/s",
        ndjson.rate,
        100_000.0,
        true,
        format!("{:.0} events/s", ndjson.rate),
    ));
    goals.push(Goal::check(
        "export",
        "CSV within 20 % of NDJSON",
        csv.rate / ndjson.rate,
        0.8,
        true,
        format!("{:.2}× NDJSON", csv.rate / ndjson.rate),
    ));
    let fast_growth = growth.iter().copied().fold(0.0, f64::max);
    goals.push(Goal::check(
        "export",
        "RSS growth < 64 MiB during the export (full-speed reader, largest of the runs)",
        fast_growth,
        GROWTH_BOUND_MIB,
        false,
        format!("+{fast_growth:.1} MiB"),
    ));
    goals.push(Goal::check(
        "export",
        "RSS growth < 64 MiB with a reader at 1 MiB/s",
        slow_growth,
        GROWTH_BOUND_MIB,
        false,
        format!("+{slow_growth:.1} MiB over {} s", scale.export_slow_seconds),
    ));
    goals.push(writers_goal("export", "an export", 1.5, &without, &during));
}

/// The baseline: the same columns of the same rows, in sequence order, as JSON
/// lines straight out of PostgreSQL.
async fn copy_json(pool: &PgPool, tenant: Uuid) -> Run {
    let mut conn = pool.acquire().await.expect("a pooled connection");
    let started = Instant::now();
    // A Uuid formats as hex and dashes only: safe in the statement text
    // (COPY takes no bind parameters).
    let mut stream = conn
        .copy_out_raw(&format!(
            "COPY (SELECT row_to_json(e) FROM (SELECT {COLUMNS} FROM audit_events \
             WHERE tenant_id = '{tenant}' ORDER BY sequence) e) TO STDOUT"
        ))
        .await
        .expect("COPY start");
    let mut lines = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("COPY data");
        lines += chunk.iter().filter(|byte| **byte == b'\n').count() as u64;
    }
    Run {
        seconds: started.elapsed().as_secs_f64(),
        items: lines as f64,
        latencies_ms: Vec::new(),
    }
}

struct Download<'a> {
    http: &'a reqwest::Client,
    base: &'a str,
    tenant: &'a Tenant,
}

impl Download<'_> {
    async fn start(&self, path: &str) -> reqwest::Response {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.tenant.key)
            .send()
            .await
            .expect("export request");
        assert!(
            response.status().is_success(),
            "export refused: {}",
            response.status()
        );
        response
    }

    /// One export read as fast as the client can: its rate in events (lines
    /// before the manifest) per second, and this process's RSS growth in MiB.
    async fn full(&self, path: &str) -> (Run, f64) {
        let peak = RssPeak::watch();
        let started = Instant::now();
        let mut response = self.start(path).await;
        let mut lines = 0u64;
        while let Some(chunk) = response.chunk().await.expect("export body") {
            lines += chunk.iter().filter(|byte| **byte == b'\n').count() as u64;
        }
        let seconds = started.elapsed().as_secs_f64();
        // NDJSON: events, then the manifest line; CSV: the header, events,
        // then the `#manifest` record (no generated cell holds a newline).
        let events = if path.ends_with(".csv") {
            lines.saturating_sub(2)
        } else {
            lines.saturating_sub(1)
        };
        let run = Run {
            seconds,
            items: events as f64,
            latencies_ms: Vec::new(),
        };
        (run, peak.stop().await)
    }

    /// An NDJSON export read at [`SLOW_BYTES_PER_SECOND`] for `seconds`, then
    /// dropped: this process's RSS growth in MiB.
    async fn slow(&self, seconds: u64) -> f64 {
        let peak = RssPeak::watch();
        let mut response = self.start("/export.ndjson").await;
        let started = Instant::now();
        let mut read = 0usize;
        while started.elapsed() < Duration::from_secs(seconds) {
            let Some(chunk) = response.chunk().await.expect("export body") else {
                break;
            };
            read += chunk.len();
            let due = Duration::from_secs_f64(read as f64 / SLOW_BYTES_PER_SECOND as f64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                tokio::time::sleep(wait).await;
            }
        }
        drop(response);
        peak.stop().await
    }
}

/// Samples this process's `VmRSS` every 20 ms until stopped.
struct RssPeak {
    before: u64,
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl RssPeak {
    fn watch() -> RssPeak {
        let before = rss_kib();
        let (peak, stop) = (
            Arc::new(AtomicU64::new(before)),
            Arc::new(AtomicBool::new(false)),
        );
        let task = tokio::spawn({
            let (peak, stop) = (peak.clone(), stop.clone());
            async move {
                while !stop.load(Ordering::Relaxed) {
                    peak.fetch_max(rss_kib(), Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        });
        RssPeak {
            before,
            peak,
            stop,
            task,
        }
    }

    /// The growth over the starting RSS, in MiB.
    async fn stop(self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("the RSS sampler");
        let peak = self.peak.load(Ordering::Relaxed).max(rss_kib());
        peak.saturating_sub(self.before) as f64 / 1024.0
    }
}

/// This process's `VmRSS` in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse().ok())
        })
        .expect("VmRSS in /proc/self/status")
}
