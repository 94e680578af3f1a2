//! Live events: in-process fan-out of newly committed events to subscribers.
//!
//! Flow: a committed batch produces a *notification* `(tenant, up to sequence)`.
//! Notifications arrive in-process (the writer calls [`Hub::notify`] after commit)
//! and, on PostgreSQL, from every replica through one `LISTEN` connection per
//! process ([`pg_listener`]). For each notification the [`Hub`] fetches the new
//! rows of that tenant **once**, by sequence range, and broadcasts them to the
//! tenant's subscribers. A subscriber ([`stream`]) replays stored events after its
//! `afterSequence`, then follows the broadcast, dropping what it already sent.
//!
//! [`Changes`] tells open sockets of this process about revoked keys and new
//! retention windows (see `http::ws_credential`).
//!
//! Invariants:
//! - a feed delivers a tenant's events in sequence order without gaps: it fetches
//!   `(last_fetched, up_to]`, and sequences are committed in order;
//! - a notification only ever names a tenant and a sequence, never event data, so
//!   NOTIFY's payload limit never matters and a lost notification is repaired by
//!   the next one or by the resync after a listener reconnect;
//! - a slow subscriber never blocks anyone: broadcast buffers are bounded, and a
//!   subscriber that falls behind is ended with a resumable error.

mod changes;
mod hub;
pub mod pg_listener;
pub mod stream;

pub use changes::{Change, Changes};
pub use hub::{Hub, HubSettings};
