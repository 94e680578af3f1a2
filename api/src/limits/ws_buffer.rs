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
//! Fairness: the connections of one tenant together may hold at most
//! [`TENANT_SHARE`] of each process budget, so clients that never read, all
//! of one tenant (one credential may open many connections), cannot take the
//! whole budget and make every other tenant's subscriptions wait.
//!
//! A wait is bounded by `AUDITLOG_WS_STALL_SECS` (the transport then ends the
//! subscription with `SUBSCRIBER_LAGGED`), so a client that never reads can
//! hold its share only that long. Nothing here knows of HTTP or GraphQL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

/// The part of each process budget one tenant's connections may hold together.
pub(super) const TENANT_SHARE: f64 = 0.25;

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
    /// Capacities of a tenant's share (units of messages, replay slots).
    tenant_outgoing_units: u32,
    tenant_replay_slots: usize,
    /// The shares of the tenants with open connections (dropped with the
    /// last connection of a tenant, swept when a new share is made).
    tenants: Arc<Mutex<HashMap<Uuid, Weak<TenantShare>>>>,
    stall: Option<Duration>,
}

/// One tenant's part of the process budgets, shared by its connections.
struct TenantShare {
    outgoing: Arc<Semaphore>,
    replays: Arc<Semaphore>,
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
        let share = |whole: f64| (whole * TENANT_SHARE).max(1.0);
        Self {
            per_connection_units: units(per_connection).max(1),
            outgoing_units,
            outgoing: Arc::new(Semaphore::new(outgoing_units as usize)),
            replays: Arc::new(Semaphore::new(replay_slots)),
            // Float to integer casts saturate; the values are at least 1.
            tenant_outgoing_units: share(f64::from(outgoing_units)) as u32,
            tenant_replay_slots: share(replay_slots as f64) as usize,
            tenants: Arc::default(),
            stall,
        }
    }

    /// The budget of one new connection, before it is authenticated (its
    /// operations cannot run yet; see [`Self::connection_of`]).
    pub fn connection(&self) -> ConnectionBuffer {
        self.buffer(None)
    }

    /// The budget of a connection of `tenant_id`, inside the tenant's share.
    pub fn connection_of(&self, tenant_id: Uuid) -> ConnectionBuffer {
        self.buffer(Some(self.tenant_share(tenant_id)))
    }

    fn buffer(&self, tenant: Option<Arc<TenantShare>>) -> ConnectionBuffer {
        ConnectionBuffer {
            outgoing: Arc::new(Semaphore::new(self.per_connection_units as usize)),
            replay: Arc::new(Semaphore::new(1)),
            tenant,
            process: self.clone(),
        }
    }

    fn tenant_share(&self, tenant_id: Uuid) -> Arc<TenantShare> {
        let mut tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(share) = tenants.get(&tenant_id).and_then(Weak::upgrade) {
            return share;
        }
        tenants.retain(|_, share| share.strong_count() > 0);
        let share = Arc::new(TenantShare {
            outgoing: Arc::new(Semaphore::new(self.tenant_outgoing_units as usize)),
            replays: Arc::new(Semaphore::new(self.tenant_replay_slots)),
        });
        tenants.insert(tenant_id, Arc::downgrade(&share));
        share
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
    /// The tenant's share; `None` before authentication.
    tenant: Option<Arc<TenantShare>>,
    process: WsBuffers,
}

/// Room for one queued message; given back when dropped (after the socket took it).
#[derive(Debug)]
pub struct Charge {
    _connection: OwnedSemaphorePermit,
    _tenant: Option<OwnedSemaphorePermit>,
    _process: OwnedSemaphorePermit,
}

/// The right to hold one replay batch; given back when dropped.
#[derive(Debug)]
pub struct ReplaySlot {
    _connection: OwnedSemaphorePermit,
    _tenant: Option<OwnedSemaphorePermit>,
    _process: OwnedSemaphorePermit,
}

impl ConnectionBuffer {
    /// Waits for room for a message of `bytes`. A message larger than a whole
    /// budget takes all of it (it is then the only one queued), so it still
    /// goes out. Connection first, then tenant, then process: every caller
    /// takes them in this order, so two never wait on each other. `None` only if a budget
    /// was closed, which never happens.
    pub async fn charge(&self, bytes: usize) -> Option<Charge> {
        let wanted = units(u64::try_from(bytes).unwrap_or(u64::MAX)).max(1);
        let connection = self
            .outgoing
            .clone()
            .acquire_many_owned(wanted.min(self.process.per_connection_units))
            .await
            .ok()?;
        let tenant = match &self.tenant {
            Some(share) => Some(
                share
                    .outgoing
                    .clone()
                    .acquire_many_owned(wanted.min(self.process.tenant_outgoing_units))
                    .await
                    .ok()?,
            ),
            None => None,
        };
        let process = self
            .process
            .outgoing
            .clone()
            .acquire_many_owned(wanted.min(self.process.outgoing_units))
            .await
            .ok()?;
        Some(Charge {
            _connection: connection,
            _tenant: tenant,
            _process: process,
        })
    }

    /// Waits until this connection and the process may hold one more replay
    /// batch (`None`: as for [`Self::charge`]).
    pub async fn replay_slot(&self) -> Option<ReplaySlot> {
        let connection = self.replay.clone().acquire_owned().await.ok()?;
        let tenant = match &self.tenant {
            Some(share) => Some(share.replays.clone().acquire_owned().await.ok()?),
            None => None,
        };
        let process = self.process.replays.clone().acquire_owned().await.ok()?;
        Some(ReplaySlot {
            _connection: connection,
            _tenant: tenant,
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
    use uuid::Uuid;

    #[tokio::test]
    async fn one_tenant_cannot_take_the_whole_process_budget() {
        // 8 MiB in all: 4 MiB for messages, of which a tenant may hold 1 MiB.
        let buffers = WsBuffers::new(1024 * 1024, 8 * 1024 * 1024, None);
        let (greedy, other) = (Uuid::now_v7(), Uuid::now_v7());
        let first = buffers.connection_of(greedy);
        let held = first.charge(1024 * 1024).await;
        assert!(held.is_some());
        let second = buffers.connection_of(greedy);
        let waiting = tokio::time::timeout(Duration::from_millis(50), second.charge(64 * 1024));
        assert!(waiting.await.is_err(), "the tenant's share is used up");
        let elsewhere = buffers.connection_of(other);
        let served = tokio::time::timeout(Duration::from_secs(5), elsewhere.charge(1024 * 1024));
        assert!(served.await.is_ok_and(|charge| charge.is_some()));
    }

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
