//! A 200,000-event export read slowly keeps the service's memory flat: the
//! service runs as a child process (the in-process server would share the
//! test's memory) and its `VmRSS` is read from `/proc/<pid>/status` before
//! and while the body is read; the growth must stay under 64 MiB (issue 17).
//!
//! PostgreSQL only: seeding 200,000 events through GraphQL takes minutes on
//! SQLite in a debug build, and the streaming code is the same for both
//! (the round-trip and snapshot tests run it on SQLite).

use std::time::Duration;

use auditlog_tests::process::ServerProcess;
use auditlog_tests::{Backend, Client};
use serde_json::json;

use super::{NDJSON, UNTIL, header_sequence, ndjson, request};
use crate::helpers::events;

const SERVER: &str = env!("CARGO_BIN_EXE_auditlog-server-for-tests");
const OPERATOR: &str = "export-memory-operator-token-of-at-least-32-chars";
const EVENTS: usize = 200_000;
/// The bound of issue 17.
const GROWTH_BOUND_MIB: u64 = 64;

/// `VmRSS` of `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("cannot read /proc/{pid}/status: {e}"));
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status"))
}

async fn admin_key(client: &Client) -> String {
    let created = client
        .graphql(
            auditlog_tests::queries::CREATE_TENANT,
            json!({ "slug": "acme", "name": "Acme", "plan": "ENTERPRISE" }),
            Some(OPERATOR),
        )
        .await;
    created.field("createTenant")["adminKey"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("no admin key: {}", created.text))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowly_read_export_of_200_000_events_keeps_rss_bounded() {
    let database = Backend::Postgres.create_database().await;
    let server = ServerProcess::start(
        SERVER,
        &database.url,
        &[("AUDITLOG_OPERATOR_TOKEN", OPERATOR)],
    )
    .await;
    let pid = server.child.id().expect("the server's pid");
    let client = server.client(OPERATOR);
    let key = admin_key(&client).await;
    for _ in 0..EVENTS / 1000 {
        client.record_ok(&key, events("bulk.event", 1000)).await;
    }

    let before = rss_kib(pid);
    let mut response = request(&client, NDJSON, &[], Some(&key), &[]).await;
    let until = header_sequence(response.headers(), UNTIL);
    let mut peak = before;
    let (mut received, mut tail) = (0usize, Vec::new());
    let mut chunks = 0u64;
    while let Some(chunk) = response.chunk().await.expect("a chunk") {
        received += chunk.len();
        chunks += 1;
        // Keep only the last line or two: the manifest is checked below.
        tail.extend_from_slice(&chunk);
        if tail.len() > 64 * 1024 {
            tail.drain(..tail.len() - 4096);
        }
        // A slow reader: about 1 ms per 16 KiB, so the server's writes wait.
        tokio::time::sleep(Duration::from_millis(1 + (chunk.len() / 16_384) as u64)).await;
        if chunks.is_multiple_of(64) {
            peak = peak.max(rss_kib(pid));
        }
    }
    peak = peak.max(rss_kib(pid));
    let manifest_line = tail
        .split(|byte| *byte == b'\n')
        .rfind(|line| !line.is_empty())
        .unwrap_or_default();
    let (_, manifest) = ndjson(manifest_line);
    let manifest = manifest.expect("the export completed");
    assert_eq!(manifest["untilSequence"], until);
    assert!(
        manifest["count"].as_u64() >= Some(EVENTS as u64),
        "{manifest}"
    );
    let growth_mib = peak.saturating_sub(before) / 1024;
    eprintln!(
        "export of {until} events, {} MiB: service VmRSS {} MiB before, peak {} MiB (+{growth_mib} MiB)",
        received / (1024 * 1024),
        before / 1024,
        peak / 1024
    );
    assert!(
        growth_mib < GROWTH_BOUND_MIB,
        "the service grew by {growth_mib} MiB during the export (bound {GROWTH_BOUND_MIB} MiB)"
    );
    drop(server);
    drop(database);
}
