//! [`WsBuffers`]: how much memory WebSocket connections may hold for clients
//! that read slowly, per connection and for the whole process.
//!
//! Two kinds of memory grow with a client that does not read: outgoing
//! messages queued for its socket, and replay batches (stored events read for
//! an `afterSequence` replay, not yet turned into messages). Both are taken
//! from budgets here before they are allocated, and given back when the
//! socket has taken the message or the batch is fully queued, so a
//! subscription that cannot get budget waits, and the next replay query runs
//! only once the socket has made room: backpressure from the socket to the
//! database.
//!
//! - queued messages: `AUDITLOG_WS_MAX_BUFFERED_BYTES` per connection and half
//!   of `AUDITLOG_WS_MAX_BUFFERED_BYTES_TOTAL` for the process, counted as the
//!   messages' JSON text;
//! - replay batches: one per connection at a time, and as many per process as
//!   fit the other half of the total at their largest ([`REPLAY_BATCH_MAX_BYTES`]).
//!
//! A wait is bounded by `AUDITLOG_WS_STALL_SECS` (the transport then ends the
//! subscription with `SUBSCRIBER_LAGGED`), so a client that never reads can
//! hold its share only that long. Nothing here knows of HTTP or GraphQL.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Budgets count whole KiB, so a process budget of many GiB fits a `u32` permit count.
const UNIT: u64 = 1024;

/// The largest replay batch, counted as JSON text: its rows
/// ([`crate::live::stream::REPLAY_BATCH`]) at the largest stored event each (the
/// 64 KiB payload cap plus the short fields).
pub const REPLAY_BATCH_MAX_BYTES: u64 = crate::live::stream::REPLAY_BATCH * 72 * 1024;

/// The process's budgets; one per service.
#[derive(Clone)]
pub struct WsBuffers {
    per_connection_units: u32,
    /// Capacity of `outgoing`, in units.
    outgoing_units: u32,
    outgoing: Arc<Semaphore>,
    replays: Arc<Semaphore>,
    stall: Option<Duration>,
}

impl WsBuffers {
    /// `per_connection` bytes of queued messages per connection, `total`
    /// bytes for the process (half for messages, half for replay batches).
    pub fn new(per_connection: u64, total: u64, stall: Option<Duration>) -> Self {
        let half = total / 2;
        let replay_slots = usize::try_from(half / REPLAY_BATCH_MAX_BYTES)
            .unwrap_or(usize::MAX)
            .clamp(1, Semaphore::MAX_PERMITS);
        let outgoing_units = units(half).max(1);
        Self {
            per_connection_units: units(per_connection).max(1),
            outgoing_units,
            outgoing: Arc::new(Semaphore::new(outgoing_units as usize)),
            replays: Arc::new(Semaphore::new(replay_slots)),
            stall,
        }
    }

    /// The budget of one new connection.
    pub fn connection(&self) -> ConnectionBuffer {
        ConnectionBuffer {
            outgoing: Arc::new(Semaphore::new(self.per_connection_units as usize)),
            replay: Arc::new(Semaphore::new(1)),
            process: self.clone(),
        }
    }

    /// How long one message may wait for room (`None`: unbounded).
    pub fn stall(&self) -> Option<Duration> {
        self.stall
    }
}

/// One connection's share, handed to its operations (and their replays).
#[derive(Clone)]
pub struct ConnectionBuffer {
    outgoing: Arc<Semaphore>,
    replay: Arc<Semaphore>,
    process: WsBuffers,
}

/// Room for one queued message; given back when dropped (after the socket took it).
#[derive(Debug)]
pub struct Charge {
    _connection: OwnedSemaphorePermit,
    _process: OwnedSemaphorePermit,
}

/// The right to hold one replay batch; given back when dropped.
#[derive(Debug)]
pub struct ReplaySlot {
    _connection: OwnedSemaphorePermit,
    _process: OwnedSemaphorePermit,
}

impl ConnectionBuffer {
    /// Waits for room for a message of `bytes`. A message larger than a whole
    /// budget takes all of it (it is then the only one queued), so it still
    /// goes out. Connection first, then process: every caller takes them in
    /// this order, so two never wait on each other. `None` only if a budget
    /// was closed, which never happens.
    pub async fn charge(&self, bytes: usize) -> Option<Charge> {
        let wanted = units(u64::try_from(bytes).unwrap_or(u64::MAX)).max(1);
        let connection = self
            .outgoing
            .clone()
            .acquire_many_owned(wanted.min(self.process.per_connection_units))
            .await
            .ok()?;
        let process = self
            .process
            .outgoing
            .clone()
            .acquire_many_owned(wanted.min(self.process.outgoing_units))
            .await
            .ok()?;
        Some(Charge {
            _connection: connection,
            _process: process,
        })
    }

    /// Waits until this connection and the process may hold one more replay
    /// batch (`None`: as for [`Self::charge`]).
    pub async fn replay_slot(&self) -> Option<ReplaySlot> {
        let connection = self.replay.clone().acquire_owned().await.ok()?;
        let process = self.process.replays.clone().acquire_owned().await.ok()?;
        Some(ReplaySlot {
            _connection: connection,
            _process: process,
        })
    }

    /// How long one message may wait for room (`None`: unbounded).
    pub fn stall(&self) -> Option<Duration> {
        self.process.stall
    }
}

/// `bytes` in whole KiB, rounded up, saturating at `u32::MAX`.
fn units(bytes: u64) -> u32 {
    u32::try_from(bytes.div_ceil(UNIT)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::WsBuffers;
    use std::time::Duration;

    #[tokio::test]
    async fn a_full_connection_budget_waits_until_a_charge_is_dropped() {
        let buffers = WsBuffers::new(64 * 1024, 1024 * 1024 * 1024, None);
        let connection = buffers.connection();
        let first = connection.charge(40 * 1024).await;
        assert!(first.is_some());
        let waiting = tokio::time::timeout(Duration::from_millis(50), connection.charge(40 * 1024));
        assert!(waiting.await.is_err(), "the second charge must wait");
        drop(first);
        let after = tokio::time::timeout(Duration::from_secs(5), connection.charge(40 * 1024));
        assert!(after.await.is_ok_and(|charge| charge.is_some()));
    }

    #[tokio::test]
    async fn a_message_larger_than_the_budget_takes_all_of_it() {
        let buffers = WsBuffers::new(64 * 1024, 1024 * 1024 * 1024, None);
        let connection = buffers.connection();
        let huge = tokio::time::timeout(Duration::from_secs(5), connection.charge(10 << 20));
        assert!(huge.await.is_ok_and(|charge| charge.is_some()));
    }

    #[tokio::test]
    async fn one_replay_batch_per_connection_at_a_time() {
        let buffers = WsBuffers::new(64 * 1024, 1024 * 1024 * 1024, None);
        let connection = buffers.connection();
        let held = connection.replay_slot().await;
        let second = tokio::time::timeout(Duration::from_millis(50), connection.replay_slot());
        assert!(second.await.is_err());
        let other_connection = buffers.connection();
        let other = tokio::time::timeout(Duration::from_secs(5), other_connection.replay_slot());
        assert!(other.await.is_ok_and(|slot| slot.is_some()));
        drop(held);
    }
}
