//! WebSocket subscriptions opened by people: with an IdP token in
//! `connection_init`, or with the browser-session cookie. Such a connection is
//! closed with 4403 when its token expires or its session ends.

use std::time::{Duration, Instant};

use auditlog_tests::Backend;
use auditlog_tests::oidc::{JWT_RESOURCE, SHORT_RESOURCE, SHORT_TTL_SECS};
use auditlog_tests::ws::{Frame, TRANSPORT_WS, WsClient};
use serde_json::{Value, json};

use super::browser_signed_in;
use super::fixture;
use crate::helpers::event;

const SUBSCRIPTION: &str = "subscription { auditEventRecorded { sequence action actor { id } } }";

/// The close frame that ends the connection, skipping messages; with the time it took.
async fn close_of(client: &mut WsClient) -> (u16, String, Duration) {
    let started = Instant::now();
    loop {
        if let Frame::Closed { code, reason } = client.next_frame().await {
            return (code, reason, started.elapsed());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_accepts_a_jwt_in_connection_init() {
    let f = fixture(Backend::Sqlite).await;
    let token = f.provider.access_token("bob", JWT_RESOURCE).await;
    let mut client = WsClient::connect_and_init(&f.app.ws_url(), &token).await;
    client.subscribe("1", SUBSCRIPTION, Value::Null).await;
    // Let the subscription register before recording.
    tokio::time::sleep(Duration::from_millis(300)).await;
    f.app
        .record_ok(&f.acme.admin_key, json!([event("entry.create")]))
        .await;
    let received = client.next_event("1").await;
    assert_eq!(received["action"], "entry.create");

    // Another tenant's person sees nothing of acme and is closed for nothing.
    let carol = f.provider.access_token("carol", JWT_RESOURCE).await;
    WsClient::connect_and_init(&f.app.ws_url(), &carol)
        .await
        .close()
        .await;
    // A person without a role may not subscribe.
    let erin = f.provider.access_token("erin", JWT_RESOURCE).await;
    let mut refused = WsClient::connect(&f.app.ws_url(), TRANSPORT_WS).await;
    refused
        .send(json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {erin}")}}))
        .await;
    assert_eq!(refused.close_code().await, 4403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_ends_when_its_token_expires() {
    let f = fixture(Backend::Sqlite).await;
    let token = f.provider.access_token("alice", SHORT_RESOURCE).await;
    let mut client = WsClient::connect_and_init(&f.app.ws_url(), &token).await;
    client.subscribe("1", SUBSCRIPTION, Value::Null).await;
    let (code, reason, after) = close_of(&mut client).await;
    assert_eq!((code, reason.as_str()), (4403, "token expired"));
    assert!(
        after <= Duration::from_secs(SHORT_TTL_SECS + 3),
        "closed only after {after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_with_a_session_ends_at_logout() {
    let f = fixture(Backend::Sqlite).await;
    let (browser, cookie) = browser_signed_in(&f.app, "alice").await;
    let origin = f.app.address.clone();

    // From a foreign page there is no WebSocket at all (403 before the upgrade).
    let foreign = WsClient::try_connect_with_headers(
        &f.app.ws_url(),
        TRANSPORT_WS,
        &[("cookie", &cookie), ("origin", "http://evil.example")],
    )
    .await;
    assert_eq!(foreign.err().map(|refused| refused.status), Some(403));

    let mut client = WsClient::connect_with_headers(
        &f.app.ws_url(),
        TRANSPORT_WS,
        &[("cookie", &cookie), ("origin", &origin)],
    )
    .await;
    client
        .send(json!({"type": "connection_init", "payload": {}}))
        .await;
    assert_eq!(client.next_json().await["type"], "connection_ack");
    client.subscribe("1", SUBSCRIPTION, Value::Null).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    f.app
        .record_ok(&f.acme.admin_key, json!([event("entry.create")]))
        .await;
    assert_eq!(client.next_event("1").await["action"], "entry.create");

    let response = browser
        .client
        .post(f.app.url("/auth/logout"))
        .header("origin", &origin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let (code, reason, after) = close_of(&mut client).await;
    assert_eq!((code, reason.as_str()), (4403, "session ended"));
    assert!(
        after <= Duration::from_secs(3),
        "closed only after {after:?}"
    );
}
