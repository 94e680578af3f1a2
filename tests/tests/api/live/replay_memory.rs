//! Live replays cannot exhaust memory (issue 12, finding 4): many
//! `afterSequence: 0` replays on one socket that never reads keep the
//! server's memory bounded and are ended, and a client that reads still gets
//! every replayed event in order.
//!
//! The bound is on a spawned server process's `VmRSS` (`/proc/<pid>/status`),
//! not on this test process: [`RSS_BOUND_MIB`]. Unbounded, the attack below
//! needs several GiB (each replay used to hold 500 rows of 60 KB at once).

use std::time::Duration;

use auditlog_tests::process::ServerProcess;
use auditlog_tests::ws::{Frame, WsClient};
use auditlog_tests::{Backend, backend_tests, spawn_app};
use serde_json::{Value, json};

use crate::helpers::{event, events, sequence};
use auditlog_tests::queries::SUBSCRIPTION;

const SERVER: &str = env!("CARGO_BIN_EXE_auditlog-server-for-tests");
/// Events in the attacked tenant's log, and the payload size of each.
const LOG_EVENTS: usize = 600;
const PAYLOAD_BYTES: usize = 60_000;
/// Replays started on the one socket that does not read.
const REPLAYS: usize = 100;
/// The documented bound for this attack: the idle server (~60 MiB) plus one
/// connection's budgets (4 MiB queued, one 64-row replay batch, one message
/// per operation) and the socket buffers, with room to spare.
const RSS_BOUND_MIB: u64 = 256;

/// `VmRSS` of process `pid`, in MiB.
fn rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("cannot read /proc/{pid}/status: {e}"));
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status"));
    kib / 1024
}

/// `count` events of `bytes`-character payloads each.
fn large_events(count: usize, bytes: usize) -> Value {
    let blob = "x".repeat(bytes);
    Value::Array(
        (0..count)
            .map(|_| {
                let mut input = event("replay.large");
                input["payload"] = json!({ "blob": blob });
                input
            })
            .collect(),
    )
}

async fn a_socket_that_does_not_read_cannot_exhaust_memory(backend: Backend) {
    let setup = spawn_app(backend).await;
    let acme = setup.create_tenant("acme", "ENTERPRISE").await;
    // 40 events of 60 KB per request stay well inside the 4 MiB body limit.
    for _ in 0..LOG_EVENTS / 40 {
        setup
            .record_ok(&acme.admin_key, large_events(40, PAYLOAD_BYTES))
            .await;
    }
    let server = ServerProcess::start(
        SERVER,
        setup.database_url(),
        &[("AUDITLOG_WS_STALL_SECS", "5")],
    )
    .await;
    let pid = server
        .child
        .id()
        .unwrap_or_else(|| panic!("no pid of the server"));
    let idle = rss_mib(pid);

    let mut attacker = WsClient::connect_and_init(&server.ws_url(), &acme.admin_key).await;
    for id in 0..REPLAYS {
        attacker
            .subscribe(&id.to_string(), SUBSCRIPTION, json!({ "after": 0 }))
            .await;
    }
    // The attacker reads nothing for a while; the server's memory must stay
    // bounded all along (sampled), not only at the end.
    let mut peak = idle;
    for _ in 0..16 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        peak = peak.max(rss_mib(pid));
    }
    eprintln!("replay attack: server RSS idle {idle} MiB, peak {peak} MiB");
    assert!(
        peak < RSS_BOUND_MIB,
        "server RSS reached {peak} MiB (idle {idle} MiB, bound {RSS_BOUND_MIB} MiB)"
    );

    // Past `AUDITLOG_WS_STALL_SECS` the server has given up on the reader: its
    // subscriptions end with SUBSCRIBER_LAGGED or the connection closes.
    let ended = loop {
        match attacker.next_frame().await {
            Frame::Json(message) if message["type"] == "error" => {
                break message["payload"][0]["extensions"]["code"] == "SUBSCRIBER_LAGGED";
            }
            Frame::Json(_) => {}
            Frame::Closed { .. } => break true,
        }
    };
    assert!(ended, "the non-reading subscriber was not ended");
    drop(attacker);

    // The server still serves, and its memory stays within the bound after close.
    let mut reader = WsClient::connect_and_init(&server.ws_url(), &acme.admin_key).await;
    reader
        .subscribe(
            "check",
            SUBSCRIPTION,
            json!({ "after": 0, "filter": { "actions": ["tenant.create"] } }),
        )
        .await;
    assert_eq!(reader.next_event("check").await["action"], "tenant.create");
    reader.close().await;
    let after = rss_mib(pid);
    eprintln!("replay attack: server RSS {after} MiB after close");
    assert!(
        after < RSS_BOUND_MIB,
        "server RSS {after} MiB after close (bound {RSS_BOUND_MIB} MiB)"
    );
}

/// Several replays over more than a few batches on one socket, read as they
/// come: each gets every stored event once, in sequence order.
async fn a_reading_client_gets_every_replay_complete_and_in_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = app.create_tenant("acme", "TEAM").await;
    for _ in 0..3 {
        app.record_ok(&acme.admin_key, events("replay.order", 100))
            .await;
    }
    let mut ws = WsClient::connect_and_init(&app.ws_url(), &acme.admin_key).await;
    let ids = ["a", "b", "c", "d"];
    for id in ids {
        ws.subscribe(
            id,
            SUBSCRIPTION,
            json!({ "after": 0, "filter": { "actions": ["replay.order"] } }),
        )
        .await;
    }
    let mut received: std::collections::HashMap<String, Vec<i64>> = Default::default();
    while received.values().map(Vec::len).sum::<usize>() < ids.len() * 300 {
        let message = ws.next_json().await;
        assert_eq!(message["type"], "next", "{message}");
        let id = message["id"].as_str().unwrap_or_default().to_owned();
        let event = &message["payload"]["data"]["auditEventRecorded"];
        received.entry(id).or_default().push(sequence(event));
    }
    let first = received["a"][0];
    for id in ids {
        assert_eq!(
            received[id],
            (first..first + 300).collect::<Vec<i64>>(),
            "replay {id}"
        );
    }
    ws.close().await;
}

backend_tests!(
    a_socket_that_does_not_read_cannot_exhaust_memory,
    a_reading_client_gets_every_replay_complete_and_in_order,
);
