//! WebSocket caps: operations per connection, connections per credential,
//! the `Origin` check, and the credential's rate on `subscribe`.

use auditlog_api::limits::Rate;
use auditlog_tests::ws::{TRANSPORT_WS, WsClient};
use auditlog_tests::{Backend, backend_tests, spawn_app_with};
use serde_json::{Value, json};

use super::metrics;
use crate::helpers::events;
use auditlog_tests::queries::SUBSCRIPTION;

fn init(secret: &str) -> Value {
    json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {secret}") } })
}

/// Subscribes `1`, `2` and `3`; the `error` message the third gets.
async fn third_subscription_refused(client: &mut WsClient) -> Value {
    for id in ["1", "2", "3"] {
        client.subscribe(id, SUBSCRIPTION, json!({})).await;
    }
    let refused = next_for(client, "3").await;
    assert_eq!(refused["type"], "error", "{refused}");
    refused
}

/// The next message for operation `id`.
async fn next_for(client: &mut WsClient, id: &str) -> Value {
    loop {
        let message = client.next_json().await;
        if message["id"] == id {
            return message;
        }
    }
}

/// Past the cap a `subscribe` gets an `error` for its id; the connection and
/// its other operations go on, and completing one frees a place.
async fn subscriptions_per_connection_are_capped(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.limits.ws_max_subscriptions = 2;
    })
    .await;
    let acme = app.create_tenant("acme", "TEAM").await;
    app.record_ok(&acme.admin_key, events("ws.cap", 1)).await;

    let mut client = WsClient::connect_and_init(&app.ws_url(), &acme.admin_key).await;
    let refused = third_subscription_refused(&mut client).await;
    assert_eq!(
        refused["payload"][0]["extensions"]["code"], "TOO_MANY_SUBSCRIPTIONS",
        "{refused}"
    );

    client.send(json!({ "type": "complete", "id": "1" })).await;
    client
        .subscribe(
            "4",
            SUBSCRIPTION,
            json!({ "after": 0, "filter": { "actions": ["ws.cap"] } }),
        )
        .await;
    // Replay from sequence 0 proves the fourth operation runs.
    assert_eq!(client.next_event("4").await["action"], "ws.cap");
    assert!(
        metrics(&app)
            .await
            .contains("auditlog_rate_limit_rejections_total{scope=\"ws_subscriptions\"}")
    );
    client.close().await;
}

/// A credential holding the maximum of connections gets its next one closed
/// with 4429 after `connection_init`; another credential is not affected.
async fn connections_per_credential_are_capped(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.limits.ws_max_connections_per_credential = 1;
    })
    .await;
    let acme = app.create_tenant("acme", "TEAM").await;
    let globex = app.create_tenant("globex", "TEAM").await;

    let first = WsClient::connect_and_init(&app.ws_url(), &acme.admin_key).await;
    let mut second = WsClient::connect(&app.ws_url(), TRANSPORT_WS).await;
    second.send(init(&acme.admin_key)).await;
    assert_eq!(second.close_code().await, 4429);

    let other = WsClient::connect_and_init(&app.ws_url(), &globex.admin_key).await;
    other.close().await;
    first.close().await;
}

/// An upgrade from a foreign `Origin` is refused with 403; a configured origin
/// and a client without `Origin` (not a browser) are served.
async fn upgrades_from_foreign_origins_are_refused(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.origins.allowed_origins = vec!["https://console.example.com".into()];
    })
    .await;
    let acme = app.create_tenant("acme", "TEAM").await;

    let foreign = WsClient::try_connect_with_headers(
        &app.ws_url(),
        TRANSPORT_WS,
        &[("origin", "https://evil.example")],
    )
    .await;
    let refused = foreign.err().expect("a foreign origin must be refused");
    assert_eq!(refused.status, 403, "{refused}");
    assert_eq!(refused.body["errors"][0]["extensions"]["code"], "FORBIDDEN");

    for headers in [&[("origin", "https://console.example.com")][..], &[][..]] {
        let mut client = WsClient::connect_with_headers(&app.ws_url(), TRANSPORT_WS, headers).await;
        client.send(init(&acme.admin_key)).await;
        assert_eq!(client.next_json().await["type"], "connection_ack");
        client.close().await;
    }
}

/// `connection_init` and `subscribe` count against the credential's request
/// rate: over it, a `subscribe` gets an `error` with `RATE_LIMITED` and
/// `retryAfterSeconds` (the connection stays), a new connection closes 4429.
async fn subscribe_messages_count_against_the_credential_rate(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.limits.rate_limit_per_credential = Rate::per_minute(1);
        // connection_init, then subscriptions 1 and 2.
        settings.limits.rate_limit_per_credential_burst = 3;
    })
    .await;
    let acme = app.create_tenant("acme", "TEAM").await;

    let mut client = WsClient::connect_and_init(&app.ws_url(), &acme.admin_key).await;
    let refused = third_subscription_refused(&mut client).await;
    let extensions = &refused["payload"][0]["extensions"];
    assert_eq!(extensions["code"], "RATE_LIMITED", "{refused}");
    assert!(
        extensions["retryAfterSeconds"].as_u64() >= Some(1),
        "{refused}"
    );

    client.send(json!({ "type": "ping" })).await;
    assert_eq!(client.next_json().await["type"], "pong");

    let mut another = WsClient::connect(&app.ws_url(), TRANSPORT_WS).await;
    another.send(init(&acme.admin_key)).await;
    assert_eq!(another.close_code().await, 4429);
    client.close().await;
}

backend_tests!(
    subscriptions_per_connection_are_capped,
    connections_per_credential_are_capped,
    upgrades_from_foreign_origins_are_refused,
    subscribe_messages_count_against_the_credential_rate,
);
