//! One live subscription: replay from the database, then follow the tenant feed.
//!
//! Memory: a replay holds at most one batch of [`REPLAY_BATCH`] rows, and
//! over WebSocket only while its connection holds a replay slot
//! ([`crate::limits::ConnectionBuffer`]); the next batch is read only after
//! the previous one was handed on, which waits for room in the socket's
//! queue. Live events are shared (`Arc`) with the tenant feed.
//!
//! Retention: with a [`LiveRetention`] the window is re-read before every
//! replay query and every delivery, so a shortened window applies at once to
//! an open subscription; an event older than the window is never sent.

use std::sync::Arc;

use async_stream::stream;
use chrono::{DateTime, Utc};
use entity::audit_events;
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;
use uuid::Uuid;

use super::Hub;
use crate::domain::{RetentionWindow, clock};
use crate::error::ApiError;
use crate::limits::ConnectionBuffer;
use crate::store::{self, events::EventFilter};

/// Rows per replay query: small, because a batch is held whole in memory and
/// its rows may carry 64 KiB payloads each (see `REPLAY_BATCH_MAX_BYTES`).
pub const REPLAY_BATCH: u64 = 64;

/// The caller's retention window as it changes while the subscription runs
/// (kept current by the WebSocket connection; see `http::ws_credential`).
#[derive(Clone)]
pub struct LiveRetention(pub watch::Receiver<RetentionWindow>);

impl LiveRetention {
    /// Events that occurred before the returned instant are expired now.
    fn cutoff(&self) -> Option<DateTime<Utc>> {
        self.0.borrow().cutoff(clock::now())
    }
}

pub struct LiveRequest {
    pub tenant_id: Uuid,
    pub filter: EventFilter,
    /// Replay stored events after this sequence first; `None`: only new events.
    pub after_sequence: Option<i64>,
    /// Told once the subscription follows the tenant feed (see [`Registered`]).
    pub registered: Option<Registered>,
    /// The current retention window; `None`: the filter's `retained_since` stays.
    pub retention: Option<LiveRetention>,
    /// The connection's budget; replay batches are held only with its slot.
    pub buffer: Option<ConnectionBuffer>,
}

impl LiveRequest {
    /// Moves the filter's cutoff to the window in force now.
    fn refresh_cutoff(&mut self) {
        if let Some(retention) = &self.retention {
            self.filter.retained_since = retention.cutoff();
        }
    }

    /// Whether `event` is still inside the retention window.
    fn retained(&self, event: &audit_events::Model) -> bool {
        self.filter
            .retained_since
            .is_none_or(|since| event.occurred_at >= since)
    }
}

/// Fired once a subscription is registered with its tenant's feed: from then on
/// every event committed is delivered. The WebSocket transport waits for it
/// before reading the client's next message, so a client that gets an answer
/// to any later message (a `ping`) knows its subscription is live. Dropping it
/// unfired (an operation that failed or was not a subscription) also releases
/// the waiter.
#[derive(Clone, Default)]
pub struct Registered(Arc<std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>>);

impl Registered {
    /// The signal and the receiver that resolves when it fires or is dropped.
    pub fn new() -> (Self, tokio::sync::oneshot::Receiver<()>) {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        (
            Self(Arc::new(std::sync::Mutex::new(Some(sender)))),
            receiver,
        )
    }

    fn fire(&self) {
        let sender = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(sender) = sender {
            let _ = sender.send(());
        }
    }
}

/// Why a live subscription ended early.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(
        "this subscription fell more than {buffer} events behind and was ended; \
         subscribe again with afterSequence: {resume_after} to continue without a gap"
    )]
    Lagged { buffer: usize, resume_after: i64 },
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

impl From<LiveError> for ApiError {
    fn from(error: LiveError) -> Self {
        match error {
            LiveError::Lagged { .. } => ApiError::SubscriberLagged(error.to_string()),
            LiveError::Store(store) => store.into(),
        }
    }
}

/// Events of the request's tenant matching its filter, in sequence order, each
/// exactly once: stored ones after `after_sequence`, then live ones. Ends after
/// an error, or when the hub shuts down.
pub fn subscribe(
    hub: Hub,
    mut request: LiveRequest,
) -> impl Stream<Item = Result<Arc<audit_events::Model>, LiveError>> {
    stream! {
        let registration = match hub.register(request.tenant_id).await {
            Ok(registration) => registration,
            Err(error) => {
                yield Err(error.into());
                return;
            }
        };
        if let Some(registered) = &request.registered {
            registered.fire();
        }
        let mut receiver = registration.receiver;
        let shutdown = hub.shutdown_token();
        let mut last_delivered = request.after_sequence.unwrap_or(registration.committed_at_registration);

        // Replay what is stored after the starting point. Everything committed after
        // registration also reaches `receiver`; duplicates are dropped below.
        loop {
            // Held until every row of the batch was handed on (each then
            // waits for room in the socket's queue), so a connection never
            // holds more than one batch and the next query waits for the socket.
            let slot = match &request.buffer {
                Some(buffer) => buffer.replay_slot().await,
                None => None,
            };
            request.refresh_cutoff();
            let rows = match replay_batch(hub.db(), &request, last_delivered).await {
                Ok(rows) => rows,
                Err(error) => {
                    yield Err(error.into());
                    return;
                }
            };
            let complete = (rows.len() as u64) < REPLAY_BATCH;
            for row in rows {
                last_delivered = row.sequence;
                // The window may have shrunk while earlier rows were sent.
                request.refresh_cutoff();
                if !request.retained(&row) {
                    continue;
                }
                yield Ok(Arc::new(row));
            }
            drop(slot);
            if complete {
                break;
            }
        }

        loop {
            let received = tokio::select! {
                received = receiver.recv() => received,
                () = shutdown.cancelled() => return,
            };
            match received {
                Ok(event) => {
                    request.refresh_cutoff();
                    if event.sequence <= last_delivered || !request.filter.matches(&event) {
                        continue;
                    }
                    last_delivered = event.sequence;
                    yield Ok(event);
                }
                Err(RecvError::Lagged(_)) => {
                    yield Err(LiveError::Lagged { buffer: hub.buffer_size(), resume_after: last_delivered });
                    return;
                }
                Err(RecvError::Closed) => return,
            }
        }
    }
}

/// Stored events after `after` that match the request, in a transaction scoped
/// to its tenant.
async fn replay_batch(
    db: &sea_orm::DatabaseConnection,
    request: &LiveRequest,
    after: i64,
) -> Result<Vec<audit_events::Model>, store::StoreError> {
    let txn = store::read_scope::begin_read(db, request.tenant_id).await?;
    let rows = store::events::after_sequence(
        &txn,
        request.tenant_id,
        after,
        None,
        Some(&request.filter),
        REPLAY_BATCH,
    )
    .await?;
    txn.commit().await?;
    Ok(rows)
}
