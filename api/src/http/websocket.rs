//! GraphQL over WebSocket on `/graphql`.
//!
//! Speaks `graphql-transport-ws` (the graphql-ws library's protocol, PROTOCOL.md)
//! and, for older Apollo clients, the legacy `graphql-ws` subprotocol
//! (subscriptions-transport-ws). async-graphql's own WebSocket driver deviates
//! from PROTOCOL.md in its close codes and duplicate-id handling, so the
//! connection state machine is ours; execution is still `Schema::execute_stream`.
//!
//! Close codes (graphql-transport-ws): 4400 invalid message, 4401 subscribe before
//! `connection_ack`, 4403 a credential that may not subscribe (the reason
//! says which: see [`refusal_reason`]),
//! 4406 unsupported subprotocol, 4408 no `connection_init` in time, 4409 duplicate
//! operation id, 4429 repeated `connection_init`, 1001 server shutting down,
//! 1008 client not reading, 1009 message too big, 1013 database unavailable at
//! `connection_init`, 4500 internal error.
//! An open connection closes with 4403 when its credential ends (see
//! `ws_credential`; re-checked every `AUDITLOG_AUTH_RECHECK_SECS`, and at once
//! when this process revokes the key): `credential revoked` for an API key,
//! `token expired`, `token revoked` or `session ended` for a person. A changed
//! retention window reaches the connection's subscriptions the same ways.
//!
//! Message sizes: before `connection_init` a message may have
//! `AUDITLOG_WS_MAX_INIT_MESSAGE_BYTES` (64 KiB), checked on its length before
//! it is parsed; after it `AUDITLOG_WS_MAX_MESSAGE_BYTES` (1 MiB), which is
//! also the socket's own message and frame limit, so nothing larger is ever
//! read whole. Either closes with 1009.
//!
//! This module reads and dispatches client messages; `ws_outgoing` sends
//! (writer task, operation tasks); `ws_credential` re-checks the credential.
//!
//! Memory for slow readers (`limits::WsBuffers`): every outgoing result waits
//! for room in its connection's and the process's budget and gives it back
//! once written to the socket; a replay holds one batch at a time per
//! connection. A result that cannot get room within `AUDITLOG_WS_STALL_SECS`
//! ends its subscription with `SUBSCRIBER_LAGGED`; a socket write that stalls
//! that long closes the connection with 1008.
//!
//! Caps (`limits`): `connection_init` counts as one request of its credential
//! (over the rate: close 4429 `Too many requests`); a credential holding
//! `AUDITLOG_WS_MAX_CONNECTIONS_PER_CREDENTIAL` connections gets its next one
//! closed with 4429 `Too many connections` right after `connection_init`; a `subscribe` beyond `AUDITLOG_WS_MAX_SUBSCRIPTIONS`
//! running operations, or over the credential's request rate, gets an `error`
//! message for its id (`TOO_MANY_SUBSCRIPTIONS`, `RATE_LIMITED` with
//! `retryAfterSeconds`) and the connection stays open.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::HeaderValue;
use axum::response::Response;
use futures::StreamExt;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use super::state::AppState;
use super::ws_credential::{Checked, CredentialWatch, KEY_REVOKED, Presented};
use super::ws_outgoing::{
    Outgoing, bounded, close_message, run_operation, send_error, send_json, write_all,
};
use crate::auth::Principal;
use crate::domain::{RetentionWindow, Role};
use crate::error::code;
use crate::limits::{ConnectionBuffer, CredentialKey, Scope, WsConnectionGuard};
use crate::live::Change;
use crate::live::stream::{LiveRetention, Registered};

/// Longest wait for a new subscription to join its tenant feed before the
/// connection reads on anyway.
const REGISTRATION_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

const TRANSPORT_WS: &str = "graphql-transport-ws";
const LEGACY_WS: &str = "graphql-ws";
/// Outgoing messages queued per connection before operations wait for the socket.
const OUTGOING_BUFFER: usize = 64;
/// Read and write buffer of each WebSocket (larger messages still work; the
/// buffer grows as needed).
const WS_BUFFER_BYTES: usize = 8 * 1024;
/// How long a shutting-down connection waits for its operations to complete.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    TransportWs,
    Legacy,
}

/// Upgrades `GET /graphql` to a WebSocket speaking the client's subprotocol.
pub(super) fn upgrade(
    mut ws: WebSocketUpgrade,
    state: AppState,
    header_authorization: Option<String>,
    session_cookie: Option<String>,
) -> Response {
    let offered: Vec<String> = ws
        .requested_protocols()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| {
            value
                .split(',')
                .map(|p| p.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let protocol = if offered.is_empty() || offered.iter().any(|p| p == TRANSPORT_WS) {
        Some(Protocol::TransportWs)
    } else if offered.iter().any(|p| p == LEGACY_WS) {
        Some(Protocol::Legacy)
    } else {
        None
    };
    if let Some(protocol) = protocol.filter(|_| !offered.is_empty()) {
        let name = if protocol == Protocol::TransportWs {
            TRANSPORT_WS
        } else {
            LEGACY_WS
        };
        ws.set_selected_protocol(HeaderValue::from_static(name));
    }
    let tracker = state.websockets.clone();
    // tungstenite's default 128 KiB read and write buffers per socket made
    // 10,000 idle subscribers cost ~1.5 GiB; GraphQL messages here are small.
    // The socket's own limits are the hard ceiling: a larger message or frame
    // fails on its length, before it is buffered whole (closed with 1009 below).
    let max_message = state.limits.ws_max_message_bytes;
    ws = ws
        .read_buffer_size(WS_BUFFER_BYTES)
        .write_buffer_size(WS_BUFFER_BYTES)
        .max_message_size(max_message)
        .max_frame_size(max_message);
    ws.on_upgrade(move |socket| {
        tracker.track_future(async move {
            match protocol {
                Some(protocol) => {
                    Connection::new(protocol, state, header_authorization, session_cookie)
                        .run(socket)
                        .await
                }
                None => close_only(socket, 4406, "Subprotocol not acceptable").await,
            }
        })
    })
}

async fn close_only(mut socket: WebSocket, code: u16, reason: &'static str) {
    let _ = socket.send(close_message(code, reason)).await;
}

/// Whether a read failed because a message or frame exceeded the socket's limits.
fn is_too_big(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(tungstenite::Error::Capacity(_)) = current.downcast_ref::<tungstenite::Error>()
        {
            return true;
        }
        source = current.source();
    }
    false
}

/// What the connection loop does after handling one client message.
enum Flow {
    Continue,
    Close(u16, String),
}

struct Connection {
    protocol: Protocol,
    state: AppState,
    header_authorization: Option<String>,
    /// The browser-session cookie of the upgrade request (allowed origins only);
    /// used when `connection_init` brings no token.
    session_cookie: Option<String>,
    /// Set by a successful `connection_init`.
    principal: Option<Principal>,
    /// Closes the connection when its key, token or session ends.
    credential_watch: CredentialWatch,
    /// Revocations and retention changes announced in this process.
    changes: broadcast::Receiver<Change>,
    /// The tenant's retention window, as its subscriptions see it.
    retention: Option<watch::Sender<RetentionWindow>>,
    /// This connection's share of the WebSocket memory budgets.
    buffer: ConnectionBuffer,
    init_received: bool,
    operations: HashMap<String, JoinHandle<()>>,
    /// This connection's place among its credential's open connections.
    _connection_slot: Option<WsConnectionGuard>,
}

impl Connection {
    fn new(
        protocol: Protocol,
        state: AppState,
        header_authorization: Option<String>,
        session_cookie: Option<String>,
    ) -> Self {
        let changes = state.live.changes().listen();
        let buffer = state.limits.ws_buffers.connection();
        Self {
            protocol,
            state,
            header_authorization,
            session_cookie,
            principal: None,
            credential_watch: CredentialWatch::none(),
            changes,
            retention: None,
            buffer,
            init_received: false,
            operations: HashMap::new(),
            _connection_slot: None,
        }
    }

    async fn run(mut self, socket: WebSocket) {
        let (sink, mut incoming) = socket.split();
        let (out, outgoing) = mpsc::channel::<Outgoing>(OUTGOING_BUFFER);
        let stall = self.buffer.stall();
        let writer = tokio::spawn(write_all(sink, outgoing, stall));
        let shutdown = self.state.live.shutdown_token();
        let init_deadline = tokio::time::sleep(self.state.ws_init_timeout);
        tokio::pin!(init_deadline);

        let close = loop {
            // Computed per turn so the select borrows nothing of `self`.
            let credential_deadline = self.credential_watch.deadline();
            tokio::select! {
                message = incoming.next() => match message {
                    // Checked on the raw length: an unauthenticated client cannot make us parse much.
                    Some(Ok(Message::Text(text))) if self.principal.is_none()
                        && text.len() > self.state.limits.ws_max_init_message_bytes => {
                        break Some((1009, "Message too big".into()));
                    }
                    Some(Ok(Message::Text(text))) => match self.handle(text.as_str(), &out).await {
                        Flow::Continue => {}
                        Flow::Close(code, reason) => break Some((code, reason)),
                    },
                    Some(Ok(Message::Binary(_))) => break Some((4400, "Binary messages are not supported".into())),
                    Some(Err(error)) if is_too_big(&error) => break Some((1009, "Message too big".into())),
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break None,
                    Some(Ok(_)) => {} // WebSocket-level ping/pong: answered by the library.
                },
                // The writer gave up on a client that does not read.
                () = out.closed() => break None,
                change = self.changes.recv(), if self.principal.is_some() => {
                    if let Some(reason) = self.on_change(change).await {
                        break Some((4403, reason.into()));
                    }
                }
                () = &mut init_deadline, if self.principal.is_none() => {
                    break Some((4408, "Connection initialisation timeout".into()));
                }
                () = sleep_until_or_never(credential_deadline), if credential_deadline.is_some() => {
                    if let Some(reason) = self.recheck().await {
                        break Some((4403, reason.into()));
                    }
                }
                () = shutdown.cancelled() => {
                    // Live streams end on the same signal; let operations send `complete`.
                    let running: Vec<JoinHandle<()>> = self.operations.drain().map(|(_, task)| task).collect();
                    let _ = tokio::time::timeout(SHUTDOWN_GRACE, futures::future::join_all(running)).await;
                    break Some((1001, "Server shutting down".into()));
                }
            }
        };
        for (_, task) in self.operations.drain() {
            task.abort();
        }
        if let Some((code, reason)) = close {
            // The queue may be full of results for a client that does not
            // read; the close then waits at most as long as the writer does.
            let close = Outgoing::uncharged(close_message(code, &reason));
            let _ = bounded(stall, out.send(close)).await;
        }
        drop(out);
        let _ = writer.await;
    }

    async fn handle(&mut self, text: &str, out: &mpsc::Sender<Outgoing>) -> Flow {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(text) else {
            return Flow::Close(4400, "Invalid message received: not JSON".into());
        };
        let kind = message
            .get("type")
            .and_then(|kind| kind.as_str())
            .unwrap_or_default();
        match (self.protocol, kind) {
            (_, "connection_init") => self.connection_init(message.get("payload"), out).await,
            (Protocol::TransportWs, "ping") => {
                let mut pong = json!({ "type": "pong" });
                if let Some(payload) = message.get("payload") {
                    pong["payload"] = payload.clone();
                }
                send_json(out, pong).await;
                Flow::Continue
            }
            (Protocol::TransportWs, "pong") => Flow::Continue,
            (Protocol::TransportWs, "subscribe") | (Protocol::Legacy, "start") => {
                self.subscribe(message, out).await
            }
            (Protocol::TransportWs, "complete") | (Protocol::Legacy, "stop") => {
                if let Some(id) = message.get("id").and_then(|id| id.as_str())
                    && let Some(task) = self.operations.remove(id)
                {
                    task.abort();
                    if self.protocol == Protocol::Legacy {
                        send_json(out, json!({ "type": "complete", "id": id })).await;
                    }
                }
                Flow::Continue
            }
            (Protocol::Legacy, "connection_terminate") => {
                Flow::Close(1000, "Normal closure".into())
            }
            _ => Flow::Close(
                4400,
                format!("Invalid message received: unexpected type {kind:?}"),
            ),
        }
    }

    async fn connection_init(
        &mut self,
        payload: Option<&serde_json::Value>,
        out: &mpsc::Sender<Outgoing>,
    ) -> Flow {
        if self.init_received {
            return Flow::Close(4429, "Too many initialisation requests".into());
        }
        self.init_received = true;
        let authorization = payload
            .and_then(|payload| payload_value(payload, "authorization"))
            .or_else(|| self.header_authorization.clone());
        let named_tenant = payload.and_then(|payload| payload_value(payload, TENANT_KEY));
        let presented = match (authorization, self.session_cookie.clone()) {
            (Some(authorization), _) => Some(Presented::Bearer(authorization, named_tenant)),
            (None, Some(cookie)) => Some(Presented::Session(cookie, named_tenant)),
            (None, None) => None,
        };
        let authenticated = match &presented {
            Some(presented) => presented.authenticate(&self.state.authenticator).await,
            None => self.state.authenticator.authenticate(None, None).await,
        };
        let principal = match authenticated {
            Ok(principal) => principal,
            // 1013 Try Again Later: graphql-ws clients reconnect on it.
            Err(error) if error.is_database_unavailable() => {
                tracing::warn!(error = %error, "WebSocket authentication failed: database unavailable");
                return Flow::Close(1013, "database unavailable; try again later".into());
            }
            Err(error) => {
                tracing::error!(error = ?error, "WebSocket authentication failed on a database error");
                return Flow::Close(4500, "Internal server error".into());
            }
        };
        if let Some(reason) = refusal_reason(&principal) {
            if self.protocol == Protocol::Legacy {
                send_json(
                    out,
                    json!({ "type": "connection_error", "payload": { "message": reason } }),
                )
                .await;
            }
            return Flow::Close(4403, reason);
        }
        // A connection counts as a request of its credential (reconnect storms).
        if self.state.limits.check_credential(&principal).is_err() {
            return Flow::Close(4429, "Too many requests".into());
        }
        if let Some(key) = CredentialKey::of(&principal) {
            match self.state.limits.ws_connections.open(key) {
                Some(slot) => self._connection_slot = Some(slot),
                None => return Flow::Close(4429, "Too many connections".into()),
            }
        }
        if let Some(presented) = presented {
            self.credential_watch =
                CredentialWatch::start(&principal, presented, self.state.ws_auth_recheck);
        }
        if let Principal::Tenant(caller) = &principal {
            self.retention = Some(watch::channel(caller.retention).0);
            self.buffer = self.state.limits.ws_buffers.connection_of(caller.tenant_id);
        }
        self.principal = Some(principal);
        send_json(out, json!({ "type": "connection_ack" })).await;
        Flow::Continue
    }

    /// Authenticates the connection's credential again: the close reason if
    /// it ended; otherwise its tenant's retention window now applies.
    async fn recheck(&mut self) -> Option<&'static str> {
        match self.credential_watch.check(&self.state.authenticator).await {
            Checked::Ended(reason) => Some(reason),
            Checked::Valid(principal) => {
                if let Principal::Tenant(caller) = principal.as_ref() {
                    self.apply_retention(caller.retention);
                }
                None
            }
            Checked::Unknown => None,
        }
    }

    /// Acts on a change announced in this process: the close reason if it
    /// ends this connection.
    async fn on_change(
        &mut self,
        change: Result<Change, broadcast::error::RecvError>,
    ) -> Option<&'static str> {
        let tenant_id = match &self.principal {
            Some(Principal::Tenant(caller)) => caller.tenant_id,
            _ => return None,
        };
        match change {
            Ok(Change::KeyRevoked {
                tenant_id: tenant,
                key_id,
            }) if tenant == tenant_id && self.credential_watch.key_id() == Some(key_id) => {
                Some(KEY_REVOKED)
            }
            Ok(Change::RetentionChanged {
                tenant_id: tenant,
                window,
            }) if tenant == tenant_id => {
                self.apply_retention(window);
                None
            }
            Ok(_) => None,
            // Some changes were missed: one of them may concern us.
            Err(broadcast::error::RecvError::Lagged(_)) => self.recheck().await,
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }

    fn apply_retention(&self, window: RetentionWindow) {
        if let Some(retention) = &self.retention {
            retention.send_if_modified(|current| {
                let changed = *current != window;
                *current = window;
                changed
            });
        }
    }

    async fn subscribe(
        &mut self,
        message: serde_json::Value,
        out: &mpsc::Sender<Outgoing>,
    ) -> Flow {
        if self.principal.is_none() {
            return Flow::Close(4401, "Unauthorized".into());
        }
        // A change announced before this message (the select may not have
        // picked it yet) applies before the operation starts: a revoked key
        // starts nothing, a shortened window holds from the first replay row.
        loop {
            let change = match self.changes.try_recv() {
                Ok(change) => Ok(change),
                Err(broadcast::error::TryRecvError::Lagged(missed)) => {
                    Err(broadcast::error::RecvError::Lagged(missed))
                }
                Err(_) => break,
            };
            if let Some(reason) = self.on_change(change).await {
                return Flow::Close(4403, reason.into());
            }
        }
        let Some(principal) = self.principal.clone() else {
            return Flow::Close(4401, "Unauthorized".into());
        };
        let Some(id) = message
            .get("id")
            .and_then(|id| id.as_str())
            .map(str::to_owned)
        else {
            return Flow::Close(
                4400,
                "Invalid message received: subscribe without id".into(),
            );
        };
        let request = match message
            .get("payload")
            .cloned()
            .map(serde_json::from_value::<async_graphql::Request>)
        {
            Some(Ok(request)) => request,
            _ => {
                return Flow::Close(
                    4400,
                    "Invalid message received: subscribe payload is not a GraphQL request".into(),
                );
            }
        };
        self.operations.retain(|_, task| !task.is_finished());
        if self.operations.contains_key(&id) {
            return Flow::Close(4409, format!("Subscriber for {id} already exists"));
        }
        let max = self.state.limits.ws_max_subscriptions;
        if max > 0 && self.operations.len() >= max {
            Scope::WsSubscriptions.count_rejection();
            let message =
                format!("this connection already runs {max} operations; complete one first");
            send_error(out, &id, json!({ "message": message, "extensions": { "code": code::TOO_MANY_SUBSCRIPTIONS } })).await;
            return Flow::Continue;
        }
        if let Err(rejection) = self.state.limits.check_credential(&principal) {
            let seconds = rejection.retry_after_secs;
            let message =
                format!("too many requests with this credential; retry after {seconds} s");
            send_error(out, &id, json!({ "message": message, "extensions": { "code": code::RATE_LIMITED, "retryAfterSeconds": seconds } })).await;
            return Flow::Continue;
        }
        let (registered, is_live) = Registered::new();
        let mut request = request
            .data(principal)
            .data(registered)
            .data(self.buffer.clone());
        if let Some(retention) = &self.retention {
            request = request.data(LiveRetention(retention.subscribe()));
        }
        let task = tokio::spawn(run_operation(
            self.state.schema.clone(),
            request,
            id.clone(),
            if self.protocol == Protocol::TransportWs {
                "next"
            } else {
                "data"
            },
            out.clone(),
            self.buffer.clone(),
            self.state.max_response_bytes,
        ));
        self.operations.insert(id, task);
        // Read the next message only once a live subscription follows its feed
        // (or the operation is over), so an answered `ping` after `subscribe`
        // proves the subscription is live. Bounded, so a stuck database cannot
        // stall the connection for long.
        let _ = tokio::time::timeout(REGISTRATION_WAIT, is_live).await;
        Flow::Continue
    }
}

/// Sleeps until `deadline` (the select guard skips `None`).
async fn sleep_until_or_never(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// `{"Authorization": "Bearer ..."}` (any key case), also inside `headers`.
/// The `connection_init` payload key naming a platform key's tenant (the
/// WebSocket counterpart of the `Auditlog-Tenant` header).
const TENANT_KEY: &str = "auditlog-tenant";

/// The string at `name` (any case) in a `connection_init` payload, or in its
/// `headers` object, as clients that mimic HTTP headers send it.
fn payload_value(payload: &serde_json::Value, name: &str) -> Option<String> {
    let object = payload.as_object()?;
    let direct = object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .and_then(|(_, value)| value.as_str())
        .map(str::to_owned);
    direct.or_else(|| {
        object
            .get("headers")
            .and_then(|headers| payload_value(headers, name))
    })
}

/// Why a `connection_init` credential may not subscribe (closed 4403 with
/// this reason), or `None` for a tenant ADMIN or AUDITOR. The reasons are
/// part of the contract (docs/live-events.md): a client tells a missing
/// credential from a bad one from a role that may not read.
fn refusal_reason(principal: &Principal) -> Option<String> {
    let reason = match principal {
        Principal::Tenant(caller) if matches!(caller.role, Role::Admin | Role::Auditor) => {
            return None;
        }
        Principal::Tenant(caller) => format!(
            "Forbidden: role {} may not subscribe (ADMIN or AUDITOR)",
            caller.role.as_db().to_uppercase()
        ),
        Principal::Anonymous => {
            "Missing credential: send `Authorization` in the connection_init payload \
            or the upgrade request"
                .to_owned()
        }
        Principal::Invalid => {
            "Invalid credential: unknown, malformed, expired or revoked".to_owned()
        }
        Principal::Operator => "Forbidden: the operator token reads no tenant's events".to_owned(),
        Principal::Platform(_) => {
            "Tenant required: send `Auditlog-Tenant` in the connection_init payload".to_owned()
        }
        Principal::UnknownTenant(named) => format!("Tenant not found: {named:?}"),
        Principal::Refused(why) => format!("Forbidden: {why}"),
    };
    Some(close_reason(reason))
}

/// A close frame's reason holds at most 123 bytes: longer ones are cut at a
/// character boundary.
fn close_reason(mut reason: String) -> String {
    const MAX: usize = 123;
    if reason.len() > MAX {
        let mut end = MAX;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::{TENANT_KEY, close_reason, payload_value};
    use serde_json::json;

    #[test]
    fn close_reasons_fit_a_close_frame_and_keep_whole_characters() {
        assert_eq!(close_reason("short".into()), "short");
        let long = close_reason(format!("Forbidden: {}", "é".repeat(100)));
        assert!(
            long.len() <= 123 && long.starts_with("Forbidden: é"),
            "{long}"
        );
    }

    #[test]
    fn finds_authorization_in_common_payload_shapes() {
        for payload in [
            json!({"Authorization": "Bearer k"}),
            json!({"authorization": "Bearer k"}),
            json!({"headers": {"Authorization": "Bearer k"}}),
        ] {
            assert_eq!(
                payload_value(&payload, "authorization").as_deref(),
                Some("Bearer k")
            );
        }
        assert_eq!(payload_value(&json!({"token": "k"}), "authorization"), None);
        assert_eq!(payload_value(&json!(null), "authorization"), None);
        let named = json!({"Auditlog-Tenant": "acme", "headers": {"x": "y"}});
        assert_eq!(payload_value(&named, TENANT_KEY).as_deref(), Some("acme"));
    }
}
