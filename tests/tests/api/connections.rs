//! Issue 12, finding 8: connection hygiene on the main port. Silent and
//! trickling clients are closed after the header-read timeout, idle
//! keep-alive connections after the keep-alive timeout, and connections over
//! the global or per-IP cap are closed at once; ordinary requests and
//! WebSockets keep working throughout. HTTP handling does not depend on the
//! database, so these run on SQLite only. The waits below are upper bounds
//! for "was closed", never performance assertions.

use std::net::SocketAddr;
use std::time::Duration;

use auditlog_tests::ws::WsClient;
use auditlog_tests::{Backend, TestApp, spawn_app_with};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Longest a test waits for the server to close a connection it should close.
const CLOSE_WITHIN: Duration = Duration::from_secs(10);

fn socket_addr(app: &TestApp) -> SocketAddr {
    app.address
        .trim_start_matches("http://")
        .parse()
        .expect("the app's address")
}

/// A connection from `local` (any 127.x address reaches the loopback server).
async fn connect_from(app: &TestApp, local: [u8; 4]) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from((local, 0)))
        .expect("bind a loopback address");
    socket.connect(socket_addr(app)).await.expect("connect")
}

/// Reads until the server closes the connection; what it sent, or `None` if
/// it was still open after [`CLOSE_WITHIN`].
async fn read_until_closed(stream: &mut TcpStream) -> Option<String> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(CLOSE_WITHIN, async {
        let mut buffer = [0_u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&received).into_owned())
}

/// Whether the server has closed `stream` at once (nothing read, EOF or reset).
async fn is_refused(stream: &mut TcpStream) -> bool {
    read_until_closed(stream)
        .await
        .is_some_and(|received| received.is_empty())
}

async fn healthz_answers(app: &TestApp) {
    // A fresh client each time: no pooled connection hides a refusal.
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let response = client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_trickling_connections_are_closed_after_the_header_read_timeout() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.connections.header_read_timeout_secs = 1;
    })
    .await;
    let mut silent = Vec::new();
    for _ in 0..200 {
        silent.push(connect_from(&app, [127, 0, 0, 1]).await);
    }
    // One client sends a request head a byte at a time, far slower than the
    // timeout allows (the whole head would take about 10 s).
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n",
        "p".repeat(60)
    );
    let trickler = connect_from(&app, [127, 0, 0, 1]).await;
    let (mut reader, mut writer) = trickler.into_split();
    let trickle = tokio::spawn(async move {
        for byte in head.bytes() {
            if writer.write_all(&[byte]).await.is_err() {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        true
    });
    // Meanwhile the service answers ordinary requests.
    healthz_answers(&app).await;

    for stream in &mut silent {
        assert!(is_refused(stream).await, "a silent connection stayed open");
    }
    let mut buffer = [0_u8; 1024];
    let closed = tokio::time::timeout(CLOSE_WITHIN, reader.read(&mut buffer)).await;
    assert!(
        matches!(closed, Ok(Ok(0) | Err(_))),
        "the trickling connection was answered or left open: {closed:?}"
    );
    // Whether its later writes failed depends on the kernel; it was never answered.
    trickle.abort();
    healthz_answers(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_are_closed() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.connections.keep_alive_timeout_secs = 1;
        settings.connections.header_read_timeout_secs = 30;
    })
    .await;
    let mut stream = connect_from(&app, [127, 0, 0, 1]).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // The answer comes, then (nothing more being asked) the close.
    let received = read_until_closed(&mut stream)
        .await
        .expect("an idle keep-alive connection stayed open");
    assert!(received.starts_with("HTTP/1.1 200"), "{received}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_are_closed_at_once() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.connections.max_connections = 5;
        settings.connections.max_connections_per_ip = 0;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(connect_from(&app, [127, 0, 0, 1]).await);
    }
    // The kernel accepts the sixth; the server closes it without a word.
    let mut extra = connect_from(&app, [127, 0, 0, 2]).await;
    assert!(
        is_refused(&mut extra).await,
        "the sixth connection was served"
    );

    // A freed place serves the next client.
    held.pop();
    let mut served = false;
    for _ in 0..50 {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        if let Ok(response) = client.get(app.url("/healthz")).send().await {
            served = response.status().is_success();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served, "a freed place was not given to a new connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_may_hold_only_its_share_of_connections() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.connections.max_connections_per_ip = 3;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect_from(&app, [127, 0, 0, 3]).await);
    }
    let mut fourth = connect_from(&app, [127, 0, 0, 3]).await;
    assert!(
        is_refused(&mut fourth).await,
        "a fourth connection from one address was served"
    );
    // Other addresses are not affected.
    let mut other = connect_from(&app, [127, 0, 0, 4]).await;
    other
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut other).await.unwrap_or_default();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websockets_outlive_the_header_and_keep_alive_timeouts() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.connections.header_read_timeout_secs = 1;
        settings.connections.keep_alive_timeout_secs = 1;
    })
    .await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    let mut ws = WsClient::connect_and_init(&app.ws_url(), &tenant.admin_key).await;
    // Quiet for longer than either timeout: an upgraded connection is not idle HTTP.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.next_json().await["type"], "pong");
    ws.close().await;
}
