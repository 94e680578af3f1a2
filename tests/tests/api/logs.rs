//! Production logs of the real binary: JSON lines on stderr that carry the
//! request id, and never a secret (API key, operator token) or an event's
//! payload, even at `debug` level.

use std::process::Stdio;
use std::time::Duration;

use auditlog_tests::{Backend, Client, queries};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::process::Command;

const SERVER: &str = env!("CARGO_BIN_EXE_auditlog-server-for-tests");

/// `POST /graphql` with a request id; the JSON body.
async fn post(
    client: &Client,
    bearer: &str,
    request_id: &str,
    query: &str,
    variables: Value,
) -> Value {
    let response = client
        .graphql_with_headers(
            query,
            variables,
            Some(bearer),
            &[("x-request-id", request_id)],
        )
        .await;
    assert!(!response.body.is_null(), "not JSON: {}", response.text);
    response.body
}

#[tokio::test]
async fn production_logs_are_json_with_request_ids_and_no_secrets_or_payloads() {
    let database = Backend::Sqlite.create_database().await;
    let operator_token = format!("operator-{}", uuid::Uuid::new_v4().simple());
    let mut child = Command::new(SERVER)
        .env("DATABASE_URL", &database.url)
        .env("AUDITLOG_LISTEN", "127.0.0.1:0")
        .env("AUDITLOG_METRICS_LISTEN", "127.0.0.1:0")
        .env("AUDITLOG_OPERATOR_TOKEN", &operator_token)
        .env("AUDITLOG_IN_PROCESS_PURGE", "false")
        .env("RUST_LOG", "debug")
        .env_remove("AUDITLOG_ENV")
        .env_remove("AUDITLOG_LOG_FORMAT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let collected = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let address = auditlog_tests::process::await_stdout_line(
        child.stdout.take().unwrap(),
        "auditlog listening on ",
    )
    .await;
    let client = Client::new(address, operator_token.clone());

    let created = post(
        &client,
        &operator_token,
        "req-create-tenant",
        queries::CREATE_TENANT,
        json!({ "slug": "logco", "name": "Log Co", "plan": "TEAM" }),
    )
    .await;
    let admin_key = created["data"]["createTenant"]["adminKey"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("createTenant failed: {created}"))
        .to_owned();
    let marker = format!("payload-marker-{}", uuid::Uuid::new_v4().simple());
    let recorded = post(
        &client,
        &admin_key,
        "req-log-check",
        queries::RECORD_EVENTS,
        json!({ "events": [{
            "action": "document.share",
            "actor": { "type": "USER", "id": "u-1", "email": "ann@example.com" },
            "payload": { "secret": marker },
        }] }),
    )
    .await;
    assert!(recorded["errors"].is_null(), "{recorded}");
    // A failed sign-in must not log the presented credential either.
    let wrong_key = format!("{admin_key}x");
    let refused = post(
        &client,
        &wrong_key,
        "req-refused",
        queries::TENANT,
        Value::Null,
    )
    .await;
    assert!(!refused["errors"].is_null(), "{refused}");

    auditlog_tests::process::send_signal(&child, "TERM").await;
    let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
    let logs = collected.await.unwrap();

    assert!(!logs.trim().is_empty(), "no log lines at all");
    for line in logs.lines().filter(|line| !line.trim().is_empty()) {
        assert!(
            serde_json::from_str::<Value>(line).is_ok(),
            "not a JSON log line: {line}"
        );
    }
    assert!(
        logs.contains("req-log-check"),
        "the request id is not in the logs:\n{logs}"
    );
    for (what, secret) in [
        ("the ADMIN key", admin_key.as_str()),
        ("the operator token", operator_token.as_str()),
        ("the event payload", marker.as_str()),
        ("the actor's email", "ann@example.com"),
    ] {
        assert!(
            !logs.contains(secret),
            "{what} leaked into the logs:\n{logs}"
        );
    }
    // The refused key's secret part (after the public prefix) must not appear.
    let secret_part = wrong_key.rsplit('_').next().unwrap_or_default();
    assert!(
        !logs.contains(secret_part),
        "a refused key leaked into the logs"
    );
}
