//! Real `auditlog` processes: several replicas on one PostgreSQL share live
//! events through LISTEN/NOTIFY; SIGTERM completes open subscriptions cleanly.

use auditlog_tests::process::ServerProcess;
use auditlog_tests::ws::{Frame, WsClient};
use auditlog_tests::{Backend, Client, backend_tests, spawn_app};
use serde_json::{Value, json};

use crate::helpers::{events, sequence};
use auditlog_tests::queries::SUBSCRIPTION;

const SERVER: &str = env!("CARGO_BIN_EXE_auditlog-server-for-tests");

/// Records through one server (a replica process or the in-process app).
async fn record_via(client: &Client, key: &str, events: Value) -> Vec<i64> {
    client
        .record_ok(key, events)
        .await
        .iter()
        .map(sequence)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_on_one_replica_receives_events_recorded_through_another() {
    // The in-process app migrates the database and creates the tenant.
    let setup = spawn_app(Backend::Postgres).await;
    let tenant = setup.create_tenant("acme", "ENTERPRISE").await;
    let replica_a = ServerProcess::start(SERVER, setup.database_url(), &[]).await;
    let replica_b = ServerProcess::start(SERVER, setup.database_url(), &[]).await;

    let mut ws = WsClient::connect_and_init(&replica_a.ws_url(), &tenant.admin_key).await;
    ws.subscribe("a", SUBSCRIPTION, json!({ "after": 1 })).await;
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.next_json().await["type"], "pong");

    let (client_a, client_b) = (replica_a.client(""), replica_b.client(""));
    let mut recorded = Vec::new();
    for round in 0..10 {
        // Alternate replicas, and the in-process one too.
        let client = match round % 3 {
            0 => &client_b,
            1 => &setup,
            _ => &client_a,
        };
        recorded.extend(record_via(client, &tenant.admin_key, events("entry.replicated", 7)).await);
    }
    let mut received = Vec::new();
    while received.len() < recorded.len() {
        received.push(sequence(&ws.next_event("a").await));
    }
    assert_eq!(received, (2..=71).collect::<Vec<i64>>());
    assert_eq!(received, recorded);
}

/// Kills the replica's LISTEN connection from the database side while events
/// are recorded elsewhere: the replica reconnects, resyncs, and its subscriber
/// still receives every event, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_listener_reconnects_and_loses_nothing() {
    use sea_orm::{ConnectionTrait, Database};

    let setup = spawn_app(Backend::Postgres).await;
    let tenant = setup.create_tenant("acme", "ENTERPRISE").await;
    let replica = ServerProcess::start(SERVER, setup.database_url(), &[]).await;
    let mut ws = WsClient::connect_and_init(&replica.ws_url(), &tenant.admin_key).await;
    ws.subscribe("a", SUBSCRIPTION, json!({ "after": 1 })).await;
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.next_json().await["type"], "pong");

    let admin = Database::connect(setup.database_url())
        .await
        .expect("connect to the test database");
    let mut recorded = Vec::new();
    for round in 0..5 {
        // Every listener of this database (the in-process app's and the replica's).
        let killed = admin
            .execute_unprepared(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
            )
            .await
            .expect("terminate listeners");
        if round == 0 {
            assert!(
                killed.rows_affected() >= 1,
                "found no LISTEN connection to kill"
            );
        }
        recorded
            .extend(record_via(&setup, &tenant.admin_key, events("entry.during_outage", 5)).await);
    }
    let mut received = Vec::new();
    while received.len() < recorded.len() {
        received.push(sequence(&ws.next_event("a").await));
    }
    assert_eq!(received, recorded);
    assert_eq!(received, (2..=26).collect::<Vec<i64>>());
}

async fn sigterm_completes_open_subscriptions_and_exits_zero(backend: Backend) {
    let setup = spawn_app(backend).await;
    let tenant = setup.create_tenant("acme", "TEAM").await;
    let mut server = ServerProcess::start(SERVER, setup.database_url(), &[]).await;
    let mut ws = WsClient::connect_and_init(&server.ws_url(), &tenant.admin_key).await;
    ws.subscribe("live", SUBSCRIPTION, json!({ "after": 0 }))
        .await;
    assert_eq!(ws.next_event("live").await["action"], "tenant.create");

    server.terminate().await;
    // The client sees `complete` for its operation, then a normal close.
    let mut completed = false;
    let code = loop {
        match ws.next_frame().await {
            Frame::Json(message) if message == json!({ "type": "complete", "id": "live" }) => {
                completed = true
            }
            Frame::Json(message) => panic!("unexpected message during shutdown: {message}"),
            Frame::Closed { code, .. } => break code,
        }
    };
    assert!(completed, "no `complete` before the close");
    assert!(
        matches!(code, 1000 | 1001),
        "close code {code} is not a normal close"
    );
    assert_eq!(server.wait().await, Some(0), "exit status after SIGTERM");
}

backend_tests!(sigterm_completes_open_subscriptions_and_exits_zero);
