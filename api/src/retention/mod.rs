//! The retention purge: deleting what has expired, safely and visibly.
//!
//! - [`pass`]: one purge pass over every tenant ([`Purger::run_pass`]);
//! - `tenant`: purging one tenant under its lease (batches, report);
//! - `metrics`: the purge's Prometheus series;
//! - [`scheduler`]: runs passes on a cron schedule (tokio-cron-scheduler), in
//!   `auditlog-worker` and, when enabled, inside the `auditlog` service.
//!
//! Invariants (ARCHITECTURE.md has the full list):
//! - a tenant on legal hold is never purged; a policy change (period, hold)
//!   takes effect from the next batch on, because every batch re-reads it;
//! - one tenant is purged by at most one worker at a time (a lease per tenant,
//!   see `store::retention_leases`), in bounded batches that are each their own
//!   short transaction, so readers and writers never wait for more than a batch;
//! - every deleted event is reported in exactly one `retention.purge` event in
//!   the tenant's own log, even when a pass is interrupted or killed.
//!
//! The purge lives in this library (not in the `worker` crate) so the service
//! can run the very same code in-process; `worker/` is the binary around it.

mod metrics;
pub mod pass;
pub mod scheduler;
mod tenant;

pub use pass::{PassReport, PurgeSettings, Purger};
pub use scheduler::PurgeScheduler;
