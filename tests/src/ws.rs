//! A small GraphQL-over-WebSocket client for tests, speaking `graphql-transport-ws`
//! or the legacy `graphql-ws` subprotocol, that exposes every frame (including
//! close codes) so tests can check the protocol itself.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

pub const TRANSPORT_WS: &str = "graphql-transport-ws";
pub const LEGACY_WS: &str = "graphql-ws";
/// Longest wait for one frame: a guard against hanging, not a performance bound.
const FRAME_WAIT: Duration = Duration::from_secs(30);

/// What the server sent next.
#[derive(Debug)]
pub enum Frame {
    Json(Value),
    Closed { code: u16, reason: String },
}

/// A WebSocket upgrade the server answered with an HTTP error.
#[derive(Debug)]
pub struct RefusedUpgrade {
    pub status: u16,
    pub retry_after: Option<String>,
    /// The JSON error body (`Null` when there was none).
    pub body: Value,
}

impl std::fmt::Display for RefusedUpgrade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    /// Opens a WebSocket to `url` offering `protocol`.
    pub async fn connect(url: &str, protocol: &str) -> Self {
        Self::connect_with_headers(url, protocol, &[]).await
    }

    /// [`Self::connect`] with extra upgrade-request headers (e.g. `Cookie` and
    /// `Origin`, as a browser sends them).
    pub async fn connect_with_headers(
        url: &str,
        protocol: &str,
        headers: &[(&'static str, &str)],
    ) -> Self {
        Self::try_connect_with_headers(url, protocol, headers)
            .await
            .unwrap_or_else(|status| panic!("the WebSocket upgrade to {url} got HTTP {status}"))
    }

    /// [`Self::connect_with_headers`], or the HTTP status and `Retry-After`
    /// header of a refused upgrade.
    pub async fn try_connect_with_headers(
        url: &str,
        protocol: &str,
        headers: &[(&'static str, &str)],
    ) -> Result<Self, RefusedUpgrade> {
        let mut request = url
            .into_client_request()
            .unwrap_or_else(|e| panic!("bad WebSocket URL {url}: {e}"));
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_str(protocol)
                .unwrap_or_else(|e| panic!("bad protocol {protocol}: {e}")),
        );
        for (name, value) in headers {
            request.headers_mut().insert(
                *name,
                HeaderValue::from_str(value)
                    .unwrap_or_else(|e| panic!("bad header value for {name}: {e}")),
            );
        }
        match connect_async(request).await {
            Ok((socket, _)) => Ok(Self { socket }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(RefusedUpgrade {
                status: response.status().as_u16(),
                retry_after: response
                    .headers()
                    .get("retry-after")
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned),
                body: response
                    .body()
                    .as_ref()
                    .and_then(|body| serde_json::from_slice(body).ok())
                    .unwrap_or(Value::Null),
            }),
            Err(e) => panic!("cannot open a WebSocket to {url}: {e}"),
        }
    }

    /// Connects with `graphql-transport-ws` and completes `connection_init` with
    /// `Authorization: Bearer <secret>`.
    pub async fn connect_and_init(url: &str, secret: &str) -> Self {
        let mut client = Self::connect(url, TRANSPORT_WS).await;
        client.send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {secret}") } })).await;
        let ack = client.next_json().await;
        assert_eq!(
            ack["type"], "connection_ack",
            "expected connection_ack, got {ack}"
        );
        client
    }

    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .unwrap_or_else(|e| panic!("cannot send {message}: {e}"));
    }

    /// Sends `text` as it is (it need not be JSON).
    pub async fn send_text(&mut self, text: String) {
        let length = text.len();
        self.socket
            .send(Message::text(text))
            .await
            .unwrap_or_else(|e| panic!("cannot send a {length}-byte message: {e}"));
    }

    /// Sends `text`; false if the server reset the connection meanwhile (it
    /// may close before it has read a message it refuses).
    pub async fn try_send_text(&mut self, text: String) -> bool {
        self.socket.send(Message::text(text)).await.is_ok()
    }

    /// Starts operation `id` (`subscribe` in graphql-transport-ws).
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "type": "subscribe", "id": id, "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// The next frame, skipping WebSocket-level pings and pongs.
    pub async fn next_frame(&mut self) -> Frame {
        loop {
            let message = tokio::time::timeout(FRAME_WAIT, self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("no frame from the server within {FRAME_WAIT:?}"));
            match message {
                Some(Ok(Message::Text(text))) => {
                    return Frame::Json(
                        serde_json::from_str(text.as_str())
                            .unwrap_or_else(|e| panic!("non-JSON frame {text}: {e}")),
                    );
                }
                Some(Ok(Message::Close(frame))) => {
                    return match frame {
                        Some(frame) => Frame::Closed {
                            code: frame.code.into(),
                            reason: frame.reason.to_string(),
                        },
                        None => Frame::Closed {
                            code: 1005,
                            reason: String::new(),
                        },
                    };
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Binary(_))) => panic!("unexpected binary frame"),
                // A reset without a close frame.
                Some(Err(e)) => {
                    return Frame::Closed {
                        code: 1006,
                        reason: e.to_string(),
                    };
                }
                None => {
                    return Frame::Closed {
                        code: 1006,
                        reason: "stream ended".into(),
                    };
                }
            }
        }
    }

    /// The next JSON message; panics on a close.
    pub async fn next_json(&mut self) -> Value {
        match self.next_frame().await {
            Frame::Json(value) => value,
            Frame::Closed { code, reason } => {
                panic!("connection closed ({code} {reason}) while a message was expected")
            }
        }
    }

    /// The close code the server ends the connection with (skipping messages).
    pub async fn close_code(&mut self) -> u16 {
        self.close_frame().await.0
    }

    /// The code and reason of the close frame that ends the connection.
    pub async fn close_frame(&mut self) -> (u16, String) {
        loop {
            if let Frame::Closed { code, reason } = self.next_frame().await {
                return (code, reason);
            }
        }
    }

    /// The `payload.data.auditEventRecorded` of the next `next` message for `id`.
    pub async fn next_event(&mut self, id: &str) -> Value {
        loop {
            let message = self.next_json().await;
            if message["id"] != id {
                continue;
            }
            assert_eq!(
                message["type"], "next",
                "expected `next` for {id}, got {message}"
            );
            assert!(
                message["payload"]["errors"].is_null(),
                "errors in {message}"
            );
            return message["payload"]["data"]["auditEventRecorded"].clone();
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}
