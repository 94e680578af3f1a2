//! While PostgreSQL is down, requests fail fast with `UNAVAILABLE` (HTTP 503,
//! `Retry-After`), `/readyz` is 503 naming the database, `/healthz` stays 200;
//! when the database is back the same process serves again, no restart.

use std::time::Duration;

use auditlog_tests::queries::{CREATE_TENANT, LIST_EVENTS, RECORD_EVENTS};
use auditlog_tests::ws::WsClient;
use serde_json::json;

use super::{OPERATOR, Service, create_tenant, error_code, get};

/// A hang guard, not a performance assertion: the pool gives up after
/// `AUDITLOG_DB_ACQUIRE_TIMEOUT_MS` (2 s by default).
const FAIL_FAST_LIMIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_requests_fail_fast_with_unavailable_and_recover_without_restart() {
    let cluster = super::dedicated_cluster().await;
    let service = Service::start(&cluster.url()).await;
    let client = service.client().await;
    let (_, key) = create_tenant(&client, "outage").await;
    let one_event = json!({ "events": [{ "action": "entry.create", "actor": { "type": "USER", "id": "u" }, "idempotencyKey": "k-1" }] });
    let body = client
        .try_graphql(RECORD_EVENTS, one_event.clone(), Some(&key))
        .await
        .expect("record");
    let (status, body) = (body.status.as_u16(), body.body);
    assert_eq!((status, error_code(&body)), (200, None), "{body}");
    assert_eq!(get(&client, "/readyz").await.0, 200);

    let stopped = cluster.clone();
    tokio::task::spawn_blocking(move || stopped.stop_immediate())
        .await
        .expect("pg_ctl stop");

    let requests = [
        (key.as_str(), RECORD_EVENTS, one_event.clone()),
        (key.as_str(), LIST_EVENTS, json!({ "first": 5 })),
        // The operator token needs no database to authenticate, so this one
        // fails in the resolver rather than in authentication.
        (
            OPERATOR,
            CREATE_TENANT,
            json!({ "slug": "later", "name": "later", "plan": "TEAM" }),
        ),
    ];
    for (bearer, query, variables) in &requests {
        let response = tokio::time::timeout(FAIL_FAST_LIMIT, async {
            client
                .try_graphql(query, variables.clone(), Some(bearer))
                .await
                .expect("the service answers while the database is down")
        })
        .await
        .unwrap_or_else(|_| panic!("{query}: no answer within {FAIL_FAST_LIMIT:?}"));
        assert_eq!(response.status.as_u16(), 503, "{query}");
        assert!(response.headers.contains_key("retry-after"), "{query}");
        assert!(
            !response.body.is_null(),
            "{query}: not JSON: {}",
            response.text
        );
        let body = response.body;
        assert_eq!(error_code(&body), Some("UNAVAILABLE"), "{query}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            !message.contains("sqlx")
                && !message.contains("127.0.0.1")
                && !message.contains("pool"),
            "internals leaked: {message}"
        );
    }
    // A WebSocket cannot authenticate either: 1013 Try Again Later.
    let mut ws = WsClient::connect(&service.process.ws_url(), "graphql-transport-ws").await;
    ws.send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {key}") } }))
        .await;
    let code = tokio::time::timeout(FAIL_FAST_LIMIT, ws.close_code())
        .await
        .expect("the WebSocket closes while the database is down");
    assert_eq!(code, 1013);
    let (status, ready) = tokio::time::timeout(FAIL_FAST_LIMIT, get(&client, "/readyz"))
        .await
        .expect("/readyz answers while the database is down");
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["failing"], "database", "{ready}");
    assert_eq!(get(&client, "/healthz").await.0, 200);

    let restarted = cluster.clone();
    tokio::task::spawn_blocking(move || restarted.start_server())
        .await
        .expect("pg_ctl start");
    // The same process recovers by itself; retrying the keyed batch returns the
    // event acknowledged before the outage.
    let mut recovered = None;
    for _ in 0..100 {
        let response = client
            .try_graphql(RECORD_EVENTS, one_event.clone(), Some(&key))
            .await
            .expect("record after recovery");
        let (status, body) = (response.status.as_u16(), response.body);
        if status == 200 && body["errors"].is_null() {
            recovered = Some(body);
            break;
        }
        assert_eq!(error_code(&body), Some("UNAVAILABLE"), "{body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let body = recovered.expect("the service did not recover within 20 s");
    assert_eq!(
        body["data"]["recordAuditEvents"]["events"][0]["sequence"],
        2
    );
    let (status, ready) = get(&client, "/readyz").await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["checks"]["migrations"], "ok", "{ready}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_service_started_during_an_outage_comes_up_with_the_database() {
    let cluster = super::dedicated_cluster().await;
    let stopped = cluster.clone();
    tokio::task::spawn_blocking(move || stopped.stop_immediate())
        .await
        .expect("pg_ctl stop");
    let url = cluster.url();
    // Waits (up to 60 s) for the "listening" line, which comes only after the
    // service has connected, checked durability and migrated.
    let starting = tokio::spawn(async move { Service::start(&url).await });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !starting.is_finished(),
        "the service cannot be up before its database"
    );
    let restarted = cluster.clone();
    tokio::task::spawn_blocking(move || restarted.start_server())
        .await
        .expect("pg_ctl start");
    let service = starting
        .await
        .expect("the service starts once the database is up");
    let (status, ready) = get(&service.client().await, "/readyz").await;
    assert_eq!(status, 200, "{ready}");
}
