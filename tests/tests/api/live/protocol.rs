//! The graphql-transport-ws protocol as PROTOCOL.md of the graphql-ws library
//! specifies it, the legacy graphql-ws subprotocol, and lagging subscribers.

use auditlog_tests::ws::{Frame, LEGACY_WS, TRANSPORT_WS, WsClient};
use auditlog_tests::{Backend, backend_tests, spawn_app_with};
use serde_json::json;

use crate::helpers::{app_with_tenant, events, sequence};
use auditlog_tests::queries::SUBSCRIPTION;

fn init(secret: &str) -> serde_json::Value {
    json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {secret}") } })
}

async fn refuses_missing_bad_and_non_reading_credentials_with_4403(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let publisher = app
        .create_api_key(&tenant.admin_key, "ingest", "PUBLISHER")
        .await;
    let revoked = app
        .create_api_key(&tenant.admin_key, "old", "AUDITOR")
        .await;
    app.revoke_api_key(Some(&tenant.admin_key), &revoked.id)
        .await;
    // Each refusal says which kind it is (docs/live-events.md).
    let missing = "Missing credential";
    let invalid = "Invalid credential";
    let cases = [
        (json!({ "type": "connection_init" }), missing),
        (json!({ "type": "connection_init", "payload": {} }), missing),
        (
            init("alk_acme_AAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"),
            invalid,
        ),
        (init("garbage"), invalid),
        (init(&revoked.secret), invalid),
        (
            init(&publisher.secret),
            "Forbidden: role PUBLISHER may not subscribe",
        ),
        (init(&app.operator_token), "Forbidden: the operator token"),
    ];
    for (payload, reason) in cases {
        let mut ws = WsClient::connect(&app.ws_url(), TRANSPORT_WS).await;
        ws.send(payload.clone()).await;
        let (code, said) = ws.close_frame().await;
        assert_eq!(code, 4403, "{payload}");
        assert!(said.starts_with(reason), "{payload}: {said:?}");
    }
}

async fn subscribe_before_ack_closes_4401(backend: Backend) {
    let (app, _) = app_with_tenant(backend).await;
    let mut ws = WsClient::connect(&app.ws_url(), TRANSPORT_WS).await;
    ws.subscribe("early", SUBSCRIPTION, json!({})).await;
    assert_eq!(ws.close_code().await, 4401);
}

async fn no_connection_init_in_time_closes_4408(backend: Backend) {
    let app = spawn_app_with(backend, |settings| settings.ws_init_timeout_secs = 1).await;
    let mut ws = WsClient::connect(&app.ws_url(), TRANSPORT_WS).await;
    assert_eq!(ws.close_code().await, 4408);
}

async fn duplicate_operation_id_closes_4409(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let mut ws = WsClient::connect_and_init(&app.ws_url(), &tenant.admin_key).await;
    ws.subscribe("same", SUBSCRIPTION, json!({})).await;
    ws.subscribe("same", SUBSCRIPTION, json!({})).await;
    assert_eq!(ws.close_code().await, 4409);
}

async fn second_connection_init_closes_4429(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let mut ws = WsClient::connect_and_init(&app.ws_url(), &tenant.admin_key).await;
    ws.send(init(&tenant.admin_key)).await;
    assert_eq!(ws.close_code().await, 4429);
}

async fn invalid_messages_close_4400(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    for message in [
        json!("not an object"),
        json!({ "type": "nonsense" }),
        json!({ "type": "subscribe", "payload": {} }),
    ] {
        let mut ws = WsClient::connect_and_init(&app.ws_url(), &tenant.admin_key).await;
        ws.send(message.clone()).await;
        assert_eq!(ws.close_code().await, 4400, "{message}");
    }
}

async fn pings_get_pongs_and_complete_stops_an_operation(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let mut ws = WsClient::connect_and_init(&app.ws_url(), &tenant.admin_key).await;
    ws.send(json!({ "type": "ping", "payload": { "n": 1 } }))
        .await;
    let pong = ws.next_json().await;
    assert_eq!(pong, json!({ "type": "pong", "payload": { "n": 1 } }));
    ws.subscribe("stop-me", SUBSCRIPTION, json!({})).await;
    ws.send(json!({ "type": "complete", "id": "stop-me" }))
        .await;
    // The id may be reused once completed. Resuming after the current last
    // sequence makes delivery independent of when the operation joins the feed.
    let last = app
        .all_events(&tenant.admin_key, json!({}))
        .await
        .iter()
        .map(sequence)
        .max()
        .unwrap_or(0);
    ws.subscribe("stop-me", SUBSCRIPTION, json!({ "after": last }))
        .await;
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.next_json().await["type"], "pong");
    app.record_ok(&tenant.admin_key, events("entry.after_reuse", 1))
        .await;
    assert_eq!(
        ws.next_event("stop-me").await["action"],
        "entry.after_reuse"
    );
}

async fn queries_run_over_the_socket_too(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let mut ws = WsClient::connect_and_init(&app.ws_url(), &tenant.admin_key).await;
    ws.subscribe("q", "{ tenant { slug } }", json!({})).await;
    let next = ws.next_json().await;
    assert_eq!(next["type"], "next");
    assert_eq!(next["payload"]["data"]["tenant"]["slug"], "acme");
    assert_eq!(
        ws.next_json().await,
        json!({ "type": "complete", "id": "q" })
    );
}

async fn legacy_graphql_ws_subprotocol_works(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let mut ws = WsClient::connect(&app.ws_url(), LEGACY_WS).await;
    ws.send(init(&tenant.admin_key)).await;
    assert_eq!(ws.next_json().await["type"], "connection_ack");
    ws.send(json!({ "type": "start", "id": "1", "payload": { "query": SUBSCRIPTION, "variables": { "after": 0 } } }))
        .await;
    let data = ws.next_json().await;
    assert_eq!(data["type"], "data", "{data}");
    assert_eq!(data["payload"]["data"]["auditEventRecorded"]["sequence"], 1);
    ws.send(json!({ "type": "stop", "id": "1" })).await;
    assert_eq!(
        ws.next_json().await,
        json!({ "type": "complete", "id": "1" })
    );
    let mut refused = WsClient::connect(&app.ws_url(), LEGACY_WS).await;
    refused.send(init("wrong")).await;
    assert_eq!(refused.next_json().await["type"], "connection_error");
}

/// Offered only an unknown subprotocol, the server accepts the upgrade without
/// one and closes with 4406 (PROTOCOL.md). Spoken over a raw socket, because
/// WebSocket client libraries abort a handshake that selects no subprotocol.
async fn unsupported_subprotocol_closes_4406(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (app, _) = app_with_tenant(backend).await;
    let host = app.address.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&host)
        .await
        .expect("connect");
    let handshake = format!(
        "GET /graphql HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: mqtt\r\n\r\n"
    );
    socket
        .write_all(handshake.as_bytes())
        .await
        .expect("send handshake");
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    // Read the 101 response and the close frame that follows it.
    let close_code = loop {
        let read =
            tokio::time::timeout(std::time::Duration::from_secs(30), socket.read(&mut buffer))
                .await
                .expect("server answers")
                .expect("read");
        assert!(
            read > 0,
            "connection ended before a close frame: {}",
            String::from_utf8_lossy(&received)
        );
        received.extend_from_slice(&buffer[..read]);
        let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&received[..end]).to_lowercase();
        assert!(head.starts_with("http/1.1 101"), "{head}");
        assert!(
            !head.contains("sec-websocket-protocol"),
            "no subprotocol may be selected: {head}"
        );
        let frame = &received[end + 4..];
        if frame.len() >= 4 {
            assert_eq!(frame[0], 0x88, "a close frame");
            break u16::from_be_bytes([frame[2], frame[3]]);
        }
    };
    assert_eq!(close_code, 4406);
}

/// A subscriber that reads nothing while many events arrive is ended with an
/// error naming the `afterSequence` to resume from; resuming from there yields
/// the rest without a gap. Ingestion is never blocked by it.
async fn a_subscriber_too_far_behind_is_ended_with_a_resumable_error(backend: Backend) {
    let app = spawn_app_with(backend, |settings| settings.subscriber_buffer = 4).await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    let mut slow = WsClient::connect_and_init(&app.ws_url(), &tenant.admin_key).await;
    slow.subscribe("slow", SUBSCRIPTION, json!({})).await;
    slow.send(json!({ "type": "ping" })).await;
    assert_eq!(slow.next_json().await["type"], "pong");
    // 200 events in small batches: far more than the 4-event buffer.
    for _ in 0..40 {
        app.record_ok(&tenant.admin_key, events("entry.flood", 5))
            .await;
    }
    let mut delivered = Vec::new();
    // The lag error ends the operation: as an `error` message if nothing was
    // delivered yet, else as a `next` carrying the error followed by `complete`.
    let error = loop {
        match slow.next_frame().await {
            Frame::Json(message)
                if message["type"] == "next" && message["payload"]["errors"].is_null() =>
            {
                delivered.push(sequence(&message["payload"]["data"]["auditEventRecorded"]));
            }
            Frame::Json(message) if message["type"] == "next" => {
                assert_eq!(
                    slow.next_json().await,
                    json!({ "type": "complete", "id": "slow" })
                );
                break message["payload"]["errors"][0].clone();
            }
            Frame::Json(message) if message["type"] == "error" => {
                break message["payload"][0].clone();
            }
            other => panic!("expected events then a lag error, got {other:?}"),
        }
    };
    assert_eq!(error["extensions"]["code"], "SUBSCRIBER_LAGGED", "{error}");
    let resume_after = delivered.last().copied().unwrap_or(1);
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("afterSequence: {resume_after}")),
        "{error}"
    );
    let mut resumed = WsClient::connect_and_init(&app.ws_url(), &tenant.admin_key).await;
    resumed
        .subscribe("again", SUBSCRIPTION, json!({ "after": resume_after }))
        .await;
    let mut rest = Vec::new();
    while rest.last().copied().unwrap_or(resume_after) < 201 {
        rest.push(sequence(&resumed.next_event("again").await));
    }
    delivered.extend(rest);
    assert_eq!(delivered, (2..=201).collect::<Vec<i64>>());
}

backend_tests!(
    refuses_missing_bad_and_non_reading_credentials_with_4403,
    subscribe_before_ack_closes_4401,
    no_connection_init_in_time_closes_4408,
    duplicate_operation_id_closes_4409,
    second_connection_init_closes_4429,
    invalid_messages_close_4400,
    pings_get_pongs_and_complete_stops_an_operation,
    queries_run_over_the_socket_too,
    legacy_graphql_ws_subprotocol_works,
    unsupported_subprotocol_closes_4406,
    a_subscriber_too_far_behind_is_ended_with_a_resumable_error,
);
