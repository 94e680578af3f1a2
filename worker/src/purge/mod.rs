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
//! The `auditlog` service runs the very same code in-process
//! (`AUDITLOG_IN_PROCESS_PURGE`); it hands in its live-event hub as the
//! [`Published`] sink, the worker binary a sink that only notifies other
//! processes ([`NotifyOtherProcesses`]).

mod metrics;
pub mod pass;
pub mod scheduler;
mod tenant;

pub use pass::{PassReport, PurgeSettings, Purger, unique_holder};
pub use scheduler::PurgeScheduler;

use entity::store::StoreError;
use uuid::Uuid;

/// Told after each commit of a `retention.purge` event, like any writer's
/// events, so live subscribers see it.
#[async_trait::async_trait]
pub trait Published: Send + Sync {
    /// Events of `tenant_id` up to `last_sequence` are committed.
    async fn published(&self, tenant_id: Uuid, last_sequence: i64);
}

/// The sink of a process without live subscribers (`auditlog-worker`): tells
/// the service's processes on PostgreSQL (NOTIFY); nothing to do on SQLite.
pub struct NotifyOtherProcesses(pub sea_orm::DatabaseConnection);

#[async_trait::async_trait]
impl Published for NotifyOtherProcesses {
    async fn published(&self, tenant_id: Uuid, last_sequence: i64) {
        if let Err(error) =
            entity::store::events::notify::committed(&self.0, tenant_id, last_sequence).await
        {
            tracing::warn!(tenant_id = %tenant_id, error = %error, "cannot NOTIFY the service; its periodic resync will deliver");
        }
    }
}

/// Why a purge pass or a tenant's purge failed.
#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A tenant row names a plan this version does not know.
    #[error("stored plan {0:?} is unknown")]
    UnknownPlan(String),
}

impl From<sea_orm::DbErr> for PurgeError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Store(StoreError::Database(error))
    }
}

pub type PurgeResult<T> = Result<T, PurgeError>;
