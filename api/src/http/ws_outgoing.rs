//! The sending half of a GraphQL WebSocket connection (see `websocket`):
//! the writer task, one task per operation turning its results into
//! messages, and the helpers that queue protocol messages.
//!
//! Every result message waits for room in the connection's budget
//! (`limits::ConnectionBuffer`) before it is queued, and gives it back once
//! the writer has handed it to the socket; while it waits, its operation's
//! stream (and so its replay query) is not polled. That is the whole
//! backpressure path from the socket to the database. Protocol messages
//! (ack, pong, complete, errors) are small and are not charged.

use std::time::Duration;

use async_graphql::Value;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures::stream::SplitSink;
use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio::sync::mpsc;

use crate::error::code;
use crate::limits::{Charge, ConnectionBuffer};

/// A message for the writer task, with the budget it holds until written.
pub(super) struct Outgoing {
    pub(super) message: Message,
    /// `None` for small protocol messages (ack, pong, complete, errors).
    pub(super) _charge: Option<Charge>,
}

impl Outgoing {
    pub(super) fn uncharged(message: Message) -> Self {
        Self {
            message,
            _charge: None,
        }
    }
}

/// The connection's writer task: sends queued messages in order, each
/// message's budget given back once the socket took it. A write that stalls
/// `stall` (a client that does not read) closes the connection with 1008.
pub(super) async fn write_all(
    mut sink: SplitSink<WebSocket, Message>,
    mut outgoing: mpsc::Receiver<Outgoing>,
    stall: Option<Duration>,
) {
    while let Some(Outgoing { message, _charge }) = outgoing.recv().await {
        let closing = matches!(message, Message::Close(_));
        match bounded(stall, sink.send(message)).await {
            Some(Ok(())) if !closing => {}
            Some(_) => break,
            None => {
                // The client has not read for `stall`: give its memory back.
                tracing::info!("closing a WebSocket whose client stopped reading");
                let close = close_message(1008, "client not reading");
                let _ = bounded(Some(Duration::from_secs(1)), sink.send(close)).await;
                return;
            }
        }
        // The charge drops here: the socket has taken the message.
    }
    let _ = bounded(Some(Duration::from_secs(1)), sink.close()).await;
}

/// Runs one operation and streams its results as `next`/`data` messages. An
/// operation refused before execution (validation, auth) gets one `error`
/// message; one that ran gets `complete` at its end.
pub(super) async fn run_operation(
    schema: crate::graphql::AuditLogSchema,
    request: async_graphql::Request,
    id: String,
    next_kind: &'static str,
    out: mpsc::Sender<Outgoing>,
    buffer: ConnectionBuffer,
    max_response_bytes: usize,
) {
    let mut responses = schema.execute_stream(request);
    let mut first = true;
    while let Some(response) = responses.next().await {
        if first && response.data == Value::Null && !response.errors.is_empty() {
            let errors = serde_json::to_value(&response.errors).unwrap_or_default();
            send_json(
                &out,
                json!({ "type": "error", "id": id, "payload": errors }),
            )
            .await;
            return;
        }
        first = false;
        // Each message within AUDITLOG_MAX_RESPONSE_BYTES, like an HTTP response.
        let payload = super::response_cap::to_vec_capped(&response, max_response_bytes)
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .unwrap_or_else(|| {
                json!({ "data": null, "errors": [super::response_cap::too_large_error(max_response_bytes)] })
            });
        drop(response);
        let text = json!({ "type": next_kind, "id": id, "payload": payload }).to_string();
        drop(payload);
        // Wait for room: the stream (and its replay) is not polled meanwhile.
        let Some(charge) = bounded(buffer.stall(), buffer.charge(text.len())).await else {
            send_error(&out, &id, stalled_error()).await;
            return;
        };
        let message = Outgoing {
            message: Message::text(text),
            _charge: charge,
        };
        if out.send(message).await.is_err() {
            return;
        }
    }
    send_json(&out, json!({ "type": "complete", "id": id })).await;
}

/// The error ending a subscription whose client stopped reading.
fn stalled_error() -> serde_json::Value {
    json!({
        "message": "this subscription's client stopped reading and it was ended; \
                    subscribe again with afterSequence set to the last sequence received",
        "extensions": { "code": code::SUBSCRIBER_LAGGED },
    })
}

/// `future`'s output, or `None` if `limit` passed first (`None`: no limit).
pub(super) async fn bounded<F: std::future::Future>(
    limit: Option<Duration>,
    future: F,
) -> Option<F::Output> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, future).await.ok(),
        None => Some(future.await),
    }
}

/// An `error` message for operation `id` refused before it started.
pub(super) async fn send_error(out: &mpsc::Sender<Outgoing>, id: &str, error: serde_json::Value) {
    send_json(
        out,
        json!({ "type": "error", "id": id, "payload": [error] }),
    )
    .await;
}

/// Queues a message; false once the connection is gone.
pub(super) async fn send_json(out: &mpsc::Sender<Outgoing>, value: serde_json::Value) -> bool {
    out.send(Outgoing::uncharged(Message::text(value.to_string())))
        .await
        .is_ok()
}

pub(super) fn close_message(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from(reason),
    }))
}
