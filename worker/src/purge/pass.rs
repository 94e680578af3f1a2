//! [`Purger`]: one purge pass over every tenant, and the settings it runs with.
//!
//! A pass walks the tenants in id order. For each tenant not on legal hold that
//! has expired events (or deletions left unreported by an interrupted pass) it
//! takes the tenant's lease, purges in batches and reports (see [`super::tenant`]
//! for the per-tenant protocol). A failure on one tenant is logged and counted;
//! the pass goes on with the next one. Stopping ([`Purger::stop`]) ends the pass
//! after the batch in flight, still reporting what was deleted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

use super::tenant::{TenantOutcome, purge_tenant};
use super::{Published, PurgeResult};
use crate::config::{PurgeConfig, RetentionConfig};
use crate::domain::RetentionRules;
use crate::domain::clock;
use crate::domain::secret::random_alphanumeric;
use crate::store;

/// Tenants read per query while walking them all.
const TENANT_PAGE: u64 = 500;

/// What a pass needs to know besides the database.
#[derive(Clone, Debug)]
pub struct PurgeSettings {
    pub rules: RetentionRules,
    /// Events deleted per batch (one transaction each).
    pub batch_size: u64,
    /// How long a lease lasts without renewal; renewed every batch.
    pub lease: Duration,
    /// Unique id of this purger in the lease table (one per process).
    pub holder: String,
}

impl PurgeSettings {
    /// Settings from configuration; `role` names the process kind in the
    /// holder id (`auditlog`, `auditlog-worker`), which also gets the process id
    /// and a random part so that two processes never share one.
    pub fn from_config(
        retention: &RetentionConfig,
        purge: &PurgeConfig,
        role: &str,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            rules: retention.rules()?,
            batch_size: purge.purge_batch_size.max(1),
            lease: Duration::from_secs(purge.purge_lease_secs.max(1)),
            holder: unique_holder(role),
        })
    }
}

/// `<role>-<pid>-<random>`: unique per process, readable in the lease table.
pub fn unique_holder(role: &str) -> String {
    format!("{role}-{}-{}", std::process::id(), random_alphanumeric(8))
}

/// What one pass did (also logged).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Tenants looked at.
    pub tenants: u64,
    /// Tenants from which this pass deleted at least one event.
    pub tenants_purged: u64,
    /// Tenants skipped because they are on legal hold.
    pub tenants_on_hold: u64,
    /// Tenants skipped because another worker holds their lease.
    pub tenants_leased_elsewhere: u64,
    /// Tenants whose purge failed (logged; retried by the next pass).
    pub tenants_failed: u64,
    /// Events deleted by this pass.
    pub events_deleted: u64,
    /// `retention.purge` events recorded by this pass.
    pub reports_recorded: u64,
    /// The pass was stopped before it had looked at every tenant.
    pub interrupted: bool,
    pub duration: Duration,
}

/// Runs purge passes. Cheap to clone; clones share the stop signal and the
/// "a pass is running" lock, so one purger never runs two passes at once.
#[derive(Clone)]
pub struct Purger {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    /// Told about each `retention.purge` event, like any writer's events.
    live: Arc<dyn Published>,
    settings: PurgeSettings,
    /// Cancelled by [`Purger::stop`]: the pass ends after the batch in flight.
    stop: CancellationToken,
    /// Held for the duration of a pass.
    running: tokio::sync::Mutex<()>,
}

impl Purger {
    pub fn new(db: DatabaseConnection, live: Arc<dyn Published>, settings: PurgeSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                live,
                settings,
                stop: CancellationToken::new(),
                running: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The database it purges (other jobs of the process share the pool).
    pub fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    pub fn settings(&self) -> &PurgeSettings {
        &self.inner.settings
    }

    /// Asks the running pass (and every later one) to end after its batch in flight.
    pub fn stop(&self) {
        self.inner.stop.cancel();
    }

    pub fn is_stopped(&self) -> bool {
        self.inner.stop.is_cancelled()
    }

    /// Waits until no pass is running.
    pub async fn wait_idle(&self) {
        drop(self.inner.running.lock().await);
    }

    /// Runs one pass, after the one in progress (if any) has finished.
    pub async fn run_pass(&self) -> PurgeResult<PassReport> {
        let _running = self.inner.running.lock().await;
        self.pass().await
    }

    /// Runs one pass unless one is already running (then returns `None`): a
    /// schedule that fires while a long pass is still going does not pile up.
    pub async fn try_run_pass(&self) -> Option<PurgeResult<PassReport>> {
        let _running = self.inner.running.try_lock().ok()?;
        Some(self.pass().await)
    }

    async fn pass(&self) -> PurgeResult<PassReport> {
        let started = Instant::now();
        let result = self.look_at_every_tenant().await;
        super::metrics::pass_finished(result.as_ref().ok(), started.elapsed());
        result
    }

    #[tracing::instrument(name = "purge_pass", skip_all, fields(holder = %self.inner.settings.holder))]
    async fn look_at_every_tenant(&self) -> PurgeResult<PassReport> {
        let started = Instant::now();
        let now = clock::now();
        let mut report = PassReport::default();
        let mut after = None;
        'tenants: loop {
            let tenants =
                store::registry::tenant_ids_after(&self.inner.db, after, TENANT_PAGE).await?;
            let Some(last) = tenants.last() else {
                break;
            };
            after = Some(*last);
            for &tenant_id in &tenants {
                if self.is_stopped() {
                    report.interrupted = true;
                    break 'tenants;
                }
                report.tenants += 1;
                let outcome = purge_tenant(
                    &self.inner.db,
                    self.inner.live.as_ref(),
                    &self.inner.settings,
                    &self.inner.stop,
                    tenant_id,
                    now,
                )
                .await;
                tally(&mut report, tenant_id, outcome);
            }
        }
        report.duration = started.elapsed();
        tracing::info!(
            tenants = report.tenants,
            tenants_purged = report.tenants_purged,
            tenants_on_hold = report.tenants_on_hold,
            tenants_leased_elsewhere = report.tenants_leased_elsewhere,
            tenants_failed = report.tenants_failed,
            events_deleted = report.events_deleted,
            reports_recorded = report.reports_recorded,
            interrupted = report.interrupted,
            duration_ms = u64::try_from(report.duration.as_millis()).unwrap_or(u64::MAX),
            "retention purge pass finished"
        );
        Ok(report)
    }
}

fn tally(report: &mut PassReport, tenant_id: uuid::Uuid, outcome: PurgeResult<TenantOutcome>) {
    match outcome {
        Ok(TenantOutcome::OnHold) => report.tenants_on_hold += 1,
        Ok(TenantOutcome::NothingExpired) => {}
        Ok(TenantOutcome::LeasedElsewhere) => report.tenants_leased_elsewhere += 1,
        Ok(TenantOutcome::Purged { deleted, reported }) => {
            if deleted > 0 {
                report.tenants_purged += 1;
            }
            report.events_deleted += deleted;
            report.reports_recorded += u64::from(reported);
        }
        Err(error) => {
            report.tenants_failed += 1;
            tracing::error!(tenant_id = %tenant_id, error = ?error, "retention purge of a tenant failed; the next pass retries");
        }
    }
}
