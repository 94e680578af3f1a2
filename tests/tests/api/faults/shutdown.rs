//! SIGTERM: the listener closes, requests already in flight (and the batches
//! they write) finish, the process exits 0; a request still unfinished when
//! `AUDITLOG_SHUTDOWN_GRACE_SECS` runs out no longer holds the process.

use std::time::Duration;

use auditlog_tests::process::ServerProcess;
use auditlog_tests::queries::RECORD_EVENTS;
use auditlog_tests::{Backend, backend_tests, spawn_app};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::SERVER;
use crate::helpers::events;

/// A `POST /graphql` whose headers and first half of the body are sent on a
/// connection the server has already accepted (it answered a `GET /healthz`
/// on it first), so the request is in flight; the rest follows in [`Self::finish`].
struct HalfSentRequest {
    stream: TcpStream,
    rest: Vec<u8>,
}

impl HalfSentRequest {
    async fn open(address: &str, bearer: &str, body: &Value) -> HalfSentRequest {
        let host = address.trim_start_matches("http://");
        let body = serde_json::to_vec(body).expect("JSON");
        let mut stream = TcpStream::connect(host).await.expect("connect");
        // First a complete request on the same (kept-alive) connection: once it
        // is answered, the server has accepted the connection and serves it.
        stream
            .write_all(format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
            .await
            .expect("send GET /healthz");
        let mut answered = Vec::new();
        while !answered.ends_with(b"\r\n\r\nok") {
            let mut buffer = [0u8; 512];
            let read = stream.read(&mut buffer).await.expect("read /healthz");
            assert!(read > 0, "the connection closed before /healthz answered");
            answered.extend_from_slice(&buffer[..read]);
        }
        let head = format!(
            "POST /graphql HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Authorization: Bearer {bearer}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.expect("send head");
        let half = body.len() / 2;
        stream.write_all(&body[..half]).await.expect("send half");
        stream.flush().await.expect("flush");
        HalfSentRequest {
            stream,
            rest: body[half..].to_vec(),
        }
    }

    /// Sends the rest; the status code and JSON body of the response.
    async fn finish(mut self) -> (u16, Value) {
        self.stream.write_all(&self.rest).await.expect("send rest");
        let mut response = Vec::new();
        tokio::time::timeout(
            Duration::from_secs(60),
            self.stream.read_to_end(&mut response),
        )
        .await
        .expect("a response within 60 s")
        .expect("read the response");
        let text = String::from_utf8_lossy(&response);
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let body = text.split_once("\r\n\r\n").map_or("", |(_, body)| body);
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }
}

fn batch(action: &str, count: usize) -> Value {
    json!({ "query": RECORD_EVENTS, "variables": { "events": events(action, count) } })
}

async fn sigterm_finishes_in_flight_batches_and_exits_zero(backend: Backend) {
    let setup = spawn_app(backend).await;
    let tenant = setup.create_tenant("draining", "ENTERPRISE").await;
    let mut server = ServerProcess::start(SERVER, setup.database_url(), &[]).await;
    let mut in_flight = Vec::new();
    for _ in 0..3 {
        in_flight.push(
            HalfSentRequest::open(
                &server.address,
                &tenant.admin_key,
                &batch("entry.drained", 400),
            )
            .await,
        );
    }
    // Let the server read the request heads before the signal.
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.terminate().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for request in in_flight {
        let (status, body) = request.finish().await;
        assert_eq!(status, 200, "{body}");
        assert!(body["errors"].is_null(), "{body}");
        assert_eq!(
            body["data"]["recordAuditEvents"]["events"]
                .as_array()
                .map(Vec::len),
            Some(400)
        );
    }
    assert_eq!(server.wait().await, Some(0), "exit status after SIGTERM");

    // A new connection is refused once the server has stopped; after a restart
    // every event of the drained batches is there.
    let restarted = ServerProcess::start(SERVER, setup.database_url(), &[]).await;
    let read = restarted
        .client("")
        .graphql(
            "{ auditEventFacets(filter: { actions: [\"entry.drained\"] }) { actions { value count } } }",
            Value::Null,
            Some(&tenant.admin_key),
        )
        .await
        .body;
    let db = auditlog_tests::database::connect(setup.database_url()).await;
    let tenant_id = auditlog_tests::database::tenant_uuid(&tenant.id);
    assert_eq!(
        auditlog_tests::database::stored_count_with_action(&db, tenant_id, "entry.drained").await,
        1200,
        "{read}"
    );
}

async fn a_request_past_the_grace_period_does_not_hold_the_process(backend: Backend) {
    let setup = spawn_app(backend).await;
    let tenant = setup.create_tenant("stuck", "TEAM").await;
    let mut server = ServerProcess::start(
        SERVER,
        setup.database_url(),
        &[("AUDITLOG_SHUTDOWN_GRACE_SECS", "1")],
    )
    .await;
    // Never finished: the server waits for the rest of its body.
    let _stuck = HalfSentRequest::open(
        &server.address,
        &tenant.admin_key,
        &batch("entry.stuck", 10),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.terminate().await;
    // Exits with an error naming the grace period (ServerProcess::wait bounds it).
    assert_eq!(server.wait().await, Some(1));
}

backend_tests!(
    sigterm_finishes_in_flight_batches_and_exits_zero,
    a_request_past_the_grace_period_does_not_hold_the_process
);
