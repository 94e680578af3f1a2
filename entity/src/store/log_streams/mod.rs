//! Log streams: a tenant's configured streams ([`settings`]: create, list,
//! change, pause, replay, rotate, delete), the worker's delivery protocol
//! ([`delivery`]) and the record of attempts ([`deliveries`]).
//!
//! Delivery protocol (the worker's `streams` drives it):
//! - a worker finds due streams with [`delivery::due`] (ids only: on
//!   PostgreSQL through the owner's `auditlog_due_log_streams`), then takes
//!   each one's lease with [`delivery::claim`] in the stream's tenant scope:
//!   one conditional update (free, expired, or its own);
//! - every later write is fenced by the lease (`lease_holder = holder`): a
//!   worker whose lease was taken over writes nothing;
//! - before the first send of a batch the worker stores it as pending
//!   ([`delivery::set_pending`]: a delivery id and the batch's last
//!   sequence) and commits, so a retry, or another worker after a crash,
//!   sends the same batch under the same id: at-least-once, deduplicable;
//! - the acknowledgement ([`delivery::acknowledge`]) moves the cursor to the
//!   batch's last sequence and records the attempt in one transaction.

pub mod deliveries;
pub mod delivery;
pub mod settings;

pub use deliveries::{DeliveryPage, NewDelivery};
pub use delivery::Claimed;
pub use settings::{NewStream, StreamSettings};
