//! `live at scale`: many idle subscribers on one server process, and that
//! process's resident memory. The server is a child process (this same binary
//! started with `--serve-for-rss DATABASE_URL`, see [`serve`]) so that its RSS
//! (`/proc/<pid>/status`) holds nothing of the load generator; the subscribers
//! connect from the benchmark process, 100 at a time, each with one
//! `auditEventRecorded` subscription, and stay idle.

use std::process::Stdio;
use std::time::Duration;

use auditlog_api::config::Settings;
use auditlog_api::startup::Application;
use auditlog_tests::Client;
use auditlog_tests::ws::WsClient;
use futures::future::join_all;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::Bench;
use super::report::{Goal, Row};
use super::stats::Summary;

/// The flag that turns this binary into the measured server.
pub(crate) const SERVE_FLAG: &str = "--serve-for-rss";
const LISTENING: &str = "bench server listening on ";
const CONNECT_CHUNK: usize = 100;

/// Runs the service on `database_url` until killed (the child process).
pub(crate) async fn serve(database_url: &str) {
    let mut settings = Settings::for_database(database_url.to_owned());
    settings.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    settings.in_process_purge = false;
    // The throwaway cluster runs with fsync off for speed.
    settings.allow_unsafe_durability = true;
    // 10,000 connections from one address with one key: the per-IP rate and
    // connections-per-credential caps are not what this scenario measures.
    settings.limits = auditlog_api::config::LimitsConfig::unlimited();
    settings.connections.max_connections = 0;
    settings.connections.max_connections_per_ip = 0;
    settings.metrics.metrics_listen = auditlog_api::config::MetricsListen::Off;
    let application = Application::build(settings)
        .await
        .expect("the server starts");
    println!("{LISTENING}{}", application.local_addr());
    application
        .run_until_stopped()
        .await
        .expect("the server runs");
}

/// Resident set size of `pid` in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|kib| kib.parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

pub(crate) async fn idle(bench: &Bench, rows: &mut Vec<Row>, goals: &mut Vec<Goal>) {
    let count = bench.scale.idle_subscribers;
    let tenants = bench.tenants("idle", 10, "ENTERPRISE").await;
    let mut child = Command::new(std::env::current_exe().expect("this binary"))
        .args([SERVE_FLAG, bench.app.database_url()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start the measured server");
    let pid = child.id().expect("child pid");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let address = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(address) = line.strip_prefix(LISTENING) {
                return address.to_owned();
            }
        }
        panic!("the measured server exited before listening");
    })
    .await
    .expect("the measured server listens within 60 s");
    let url = Client::new(format!("http://{address}"), "").ws_url();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_mib(pid);
    let started = std::time::Instant::now();
    let mut clients = Vec::with_capacity(count);
    for chunk in (0..count).collect::<Vec<_>>().chunks(CONNECT_CHUNK) {
        let connecting = chunk.iter().map(|&n| {
            let (url, key) = (url.clone(), tenants[n % tenants.len()].key.clone());
            async move {
                let mut ws = WsClient::connect_and_init(&url, &key).await;
                ws.subscribe(
                    "idle",
                    "subscription { auditEventRecorded { sequence } }",
                    json!({}),
                )
                .await;
                ws
            }
        });
        clients.extend(join_all(connecting).await);
    }
    // One round trip on the last socket: every subscription before it is registered.
    if let Some(last) = clients.last_mut() {
        last.send(json!({ "type": "ping" })).await;
        assert_eq!(last.next_json().await["type"], "pong");
    }
    let connect_seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_mib(pid);
    let per_subscriber_kib = (after - before) * 1024.0 / count as f64;
    rows.push(Row {
        scenario: "live at scale",
        system: format!("auditlog process with {count} idle subscribers"),
        unit: "MiB RSS",
        summary: Summary {
            rate: after,
            p50_ms: f64::NAN,
            p99_ms: f64::NAN,
            runs: 1,
        },
        ratio: format!(
            "{per_subscriber_kib:.1} KiB per subscriber (idle process {before:.0} MiB; connected in {connect_seconds:.1} s)"
        ),
    });
    goals.push(Goal::check(
        "live at scale",
        format!("{count} idle subscribers: RSS < 1 GiB"),
        after,
        1024.0,
        false,
        format!("{after:.0} MiB"),
    ));
    drop(clients);
    let _ = child.kill().await;
}
