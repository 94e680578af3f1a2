//! What changes while a WebSocket stays open reaches it (issue 12, finding 5):
//! a revoked API key's socket closes with 4403 `credential revoked` (at once
//! in the process that revoked, within `AUDITLOG_AUTH_RECHECK_SECS` in
//! another), and a shortened retention window holds for subscriptions on an
//! open socket.

use auditlog_tests::process::ServerProcess;
use auditlog_tests::ws::{Frame, WsClient};
use auditlog_tests::{Backend, backend_tests, spawn_app, spawn_app_with};
use serde_json::json;

use crate::helpers::{base_time, event, events, rfc3339};
use auditlog_tests::queries::SUBSCRIPTION;

const SERVER: &str = env!("CARGO_BIN_EXE_auditlog-server-for-tests");

/// The close frame the server ends with, skipping messages before it.
async fn close_of(ws: &mut WsClient) -> (u16, String) {
    loop {
        if let Frame::Closed { code, reason } = ws.next_frame().await {
            return (code, reason);
        }
    }
}

/// Proves the socket is open and its loop is reading.
async fn assert_open(ws: &mut WsClient) {
    ws.send(json!({ "type": "ping" })).await;
    loop {
        let message = ws.next_json().await;
        if message["type"] == "pong" {
            return;
        }
    }
}

/// The re-check period is an hour here, so only the in-process signal can
/// close the socket while the test runs.
async fn a_revoked_keys_socket_closes_at_once(backend: Backend) {
    let app = spawn_app_with(backend, |settings| settings.oidc.auth_recheck_secs = 3600).await;
    let acme = app.create_tenant("acme", "TEAM").await;
    let reader = app
        .create_api_key(&acme.admin_key, "reader", "AUDITOR")
        .await;
    let mut revoked = WsClient::connect_and_init(&app.ws_url(), &reader.secret).await;
    revoked.subscribe("live", SUBSCRIPTION, json!({})).await;
    assert_open(&mut revoked).await;
    let mut other = WsClient::connect_and_init(&app.ws_url(), &acme.admin_key).await;

    app.revoke_api_key(Some(&acme.admin_key), &reader.id)
        .await
        .ok();
    assert_eq!(
        close_of(&mut revoked).await,
        (4403, "credential revoked".to_owned())
    );
    // Another key of the same tenant keeps its socket.
    assert_open(&mut other).await;
    other.close().await;
}

/// A key revoked through one process closes a socket held by another
/// within the (here one-second) re-check period.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_in_another_process_closes_its_socket_at_the_next_recheck() {
    let setup = spawn_app(Backend::Postgres).await;
    let acme = setup.create_tenant("acme", "TEAM").await;
    let reader = setup
        .create_api_key(&acme.admin_key, "reader", "AUDITOR")
        .await;
    let replica = ServerProcess::start(
        SERVER,
        setup.database_url(),
        &[("AUDITLOG_AUTH_RECHECK_SECS", "1")],
    )
    .await;
    let mut ws = WsClient::connect_and_init(&replica.ws_url(), &reader.secret).await;
    ws.subscribe("live", SUBSCRIPTION, json!({ "after": 0 }))
        .await;
    assert_open(&mut ws).await;

    setup
        .revoke_api_key(Some(&acme.admin_key), &reader.id)
        .await
        .ok();
    assert_eq!(
        close_of(&mut ws).await,
        (4403, "credential revoked".to_owned())
    );
}

/// An event two days old is replayed under the 90-day default; once the
/// window is one day, a subscription on the same open socket (authenticated
/// under the old window) replays and delivers nothing older.
async fn a_shortened_retention_applies_to_open_subscriptions(backend: Backend) {
    let app = spawn_app(backend).await;
    let corp = app.create_tenant("corp", "ENTERPRISE").await;
    let mut old = event("old.event");
    old["occurredAt"] = json!(rfc3339(base_time(0)));
    app.record_ok(&corp.admin_key, json!([old])).await;

    let mut ws = WsClient::connect_and_init(&app.ws_url(), &corp.admin_key).await;
    ws.subscribe(
        "before",
        SUBSCRIPTION,
        json!({ "after": 0, "filter": { "actions": ["old.event"] } }),
    )
    .await;
    assert_eq!(ws.next_event("before").await["action"], "old.event");

    app.set_retention(Some(&corp.admin_key), 1).await.ok();
    ws.subscribe("after", SUBSCRIPTION, json!({ "after": 0 }))
        .await;
    app.record_ok(&corp.admin_key, events("new.event", 1)).await;
    loop {
        let delivered = ws.next_event("after").await;
        assert_ne!(delivered["action"], "old.event", "{delivered}");
        if delivered["action"] == "new.event" {
            break;
        }
    }
    ws.close().await;
}

/// A replay already running when the window shrinks sends no further expired
/// event: only those already handed to the socket arrive (a few, held by the
/// kernel's buffers; the connection's own queue is 64 KiB here), then the
/// replay goes on with what is still retained.
async fn a_shortened_retention_applies_to_a_running_replay(backend: Backend) {
    const OLD: usize = 400;
    let app = spawn_app_with(backend, |settings| {
        settings.limits.ws_max_buffered_bytes = 64 * 1024;
    })
    .await;
    let corp = app.create_tenant("corp", "ENTERPRISE").await;
    let blob = "x".repeat(60_000);
    for _ in 0..OLD / 40 {
        let batch: Vec<_> = (0..40)
            .map(|_| {
                let mut old = event("old.event");
                old["occurredAt"] = json!(rfc3339(base_time(0)));
                old["payload"] = json!({ "blob": blob });
                old
            })
            .collect();
        app.record_ok(&corp.admin_key, json!(batch)).await;
    }

    let mut ws = WsClient::connect_and_init(&app.ws_url(), &corp.admin_key).await;
    ws.subscribe("replay", SUBSCRIPTION, json!({ "after": 0 }))
        .await;
    assert_eq!(ws.next_event("replay").await["action"], "tenant.create");
    assert_eq!(ws.next_event("replay").await["action"], "old.event");
    app.set_retention(Some(&corp.admin_key), 1).await.ok();
    app.record_ok(&corp.admin_key, events("new.event", 1)).await;

    let mut old_received = 1;
    loop {
        let delivered = ws.next_event("replay").await;
        match delivered["action"].as_str() {
            Some("old.event") => old_received += 1,
            Some("new.event") => break,
            _ => {}
        }
    }
    assert!(
        old_received < OLD,
        "all {OLD} expired events were replayed after the window shrank"
    );
    ws.close().await;
}

backend_tests!(
    a_revoked_keys_socket_closes_at_once,
    a_shortened_retention_applies_to_open_subscriptions,
    a_shortened_retention_applies_to_a_running_replay,
);
