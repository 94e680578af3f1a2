//! Purging one tenant: lease, batches, report.
//!
//! 1. Skip the tenant if it is on legal hold, or has nothing expired and no
//!    unreported deletions (two index lookups, no writes).
//! 2. Take its lease ([`store::retention_leases::try_acquire`]); if another
//!    worker holds it, skip: that worker is doing the job.
//! 3. Batches, each one transaction: renew the lease (fencing), re-read the
//!    tenant's policy (a legal hold or a longer period set meanwhile applies
//!    from this batch on), delete up to `batch_size` expired events, add them
//!    to the lease's unreported deletions. Stop after a short batch, or when
//!    asked to stop (after the batch in flight).
//! 4. Report, in one transaction: renew the lease, record `retention.purge`
//!    with every unreported deletion (this pass's and any an interrupted pass
//!    left), clear the count.
//! 5. Release the lease.
//!
//! A crash anywhere loses nothing: a committed batch is counted in the same
//! transaction that deleted it, and an uncommitted one deleted nothing.

use chrono::{DateTime, Utc};
use entity::tenants;
use sea_orm::DatabaseConnection;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::PurgeSettings;
use super::{Published, PurgeError, PurgeResult};
use crate::domain::clock;
use crate::domain::{AuditActor, Plan, RetentionDays, RetentionRules, RetentionWindow};
use crate::store::admin_audit::{self, AdminAction};
use crate::store::{self, retention_leases};

/// What happened to one tenant in a pass.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum TenantOutcome {
    OnHold,
    NothingExpired,
    LeasedElsewhere,
    /// `deleted` events deleted by this pass; `reported`: a `retention.purge`
    /// event was recorded (it may also cover an interrupted pass's deletions).
    Purged {
        deleted: u64,
        reported: bool,
    },
}

/// The policy a batch applied.
#[derive(Clone, Copy, Debug)]
struct InForce {
    plan: Plan,
    days: RetentionDays,
    cutoff: DateTime<Utc>,
}

enum Batch {
    Deleted {
        count: u64,
        policy: InForce,
    },
    /// The tenant went on legal hold (or disappeared) since the pass began.
    Held,
    /// Another worker took the lease over (ours had expired).
    LostLease,
}

#[tracing::instrument(name = "purge_tenant", skip_all, fields(tenant_id = %tenant_id))]
pub(super) async fn purge_tenant(
    db: &DatabaseConnection,
    live: &dyn Published,
    settings: &PurgeSettings,
    stop: &CancellationToken,
    tenant_id: Uuid,
    now: DateTime<Utc>,
) -> PurgeResult<TenantOutcome> {
    let txn = store::tenant_scope::begin(db, tenant_id).await?;
    let Some(tenant) = store::tenants::find_by_id(&txn, tenant_id).await? else {
        // Gone since the registry listed it: nothing of it is left to purge.
        txn.rollback().await?;
        return Ok(TenantOutcome::NothingExpired);
    };
    let Some(policy) = policy_in_force(&settings.rules, &tenant, now)? else {
        txn.rollback().await?;
        return Ok(TenantOutcome::OnHold);
    };
    let idle = !store::events::has_expired(&txn, tenant_id, policy.cutoff).await?
        && retention_leases::unreported(&txn, tenant_id).await? == 0;
    txn.commit().await?;
    if idle {
        return Ok(TenantOutcome::NothingExpired);
    }
    let at = clock::now();
    let txn = store::tenant_scope::begin(db, tenant_id).await?;
    let acquired = retention_leases::try_acquire(
        &txn,
        tenant_id,
        &settings.holder,
        at,
        lease_end(settings, at),
    )
    .await?;
    txn.commit().await?;
    if !acquired {
        tracing::debug!("another worker holds this tenant's purge lease; skipping");
        return Ok(TenantOutcome::LeasedElsewhere);
    }
    let outcome = purge_leased(db, live, settings, stop, &tenant, policy, now).await;
    if let Err(error) = release(db, tenant_id, &settings.holder).await {
        tracing::warn!(error = %error, "cannot release the purge lease; it will expire by itself");
    }
    outcome
}

/// Frees `holder`'s lease of the tenant, in a transaction scoped to it.
async fn release(db: &DatabaseConnection, tenant_id: Uuid, holder: &str) -> PurgeResult<()> {
    let txn = store::tenant_scope::begin(db, tenant_id).await?;
    retention_leases::release(&txn, tenant_id, holder).await?;
    txn.commit().await?;
    Ok(())
}

async fn purge_leased(
    db: &DatabaseConnection,
    live: &dyn Published,
    settings: &PurgeSettings,
    stop: &CancellationToken,
    tenant: &tenants::Model,
    mut policy: InForce,
    now: DateTime<Utc>,
) -> PurgeResult<TenantOutcome> {
    let mut deleted = 0;
    while !stop.is_cancelled() {
        match batch(db, settings, tenant.id, now).await? {
            Batch::Deleted {
                count,
                policy: used,
            } => {
                deleted += count;
                super::metrics::batch_deleted(used.plan, count);
                policy = used;
                if count < settings.batch_size {
                    break;
                }
            }
            Batch::Held => break,
            Batch::LostLease => {
                tracing::warn!(
                    deleted,
                    "lost the purge lease mid-pass (a batch took longer than the lease); \
                     the new holder finishes and reports"
                );
                return Ok(TenantOutcome::Purged {
                    deleted,
                    reported: false,
                });
            }
        }
    }
    let reported = report(db, live, settings, tenant, policy).await?;
    if deleted > 0 {
        tracing::info!(
            deleted,
            cutoff = %policy.cutoff,
            retention_days = policy.days.get(),
            "purged expired events"
        );
    }
    Ok(TenantOutcome::Purged { deleted, reported })
}

async fn batch(
    db: &DatabaseConnection,
    settings: &PurgeSettings,
    tenant_id: Uuid,
    now: DateTime<Utc>,
) -> PurgeResult<Batch> {
    let txn = store::tenant_scope::begin(db, tenant_id).await?;
    let renewed = retention_leases::renew(
        &txn,
        tenant_id,
        &settings.holder,
        lease_end(settings, clock::now()),
    )
    .await?;
    if renewed.is_none() {
        txn.rollback().await?;
        return Ok(Batch::LostLease);
    }
    let tenant = store::tenants::find_by_id(&txn, tenant_id).await?;
    let policy = match &tenant {
        Some(tenant) => policy_in_force(&settings.rules, tenant, now)?,
        None => None,
    };
    let Some(policy) = policy else {
        txn.rollback().await?;
        return Ok(Batch::Held);
    };
    if tenant
        .as_ref()
        .is_some_and(|tenant| tenant.retention_days > policy.days.as_i32())
    {
        // The database's purge function bounds deletion by the stored period.
        store::tenants::lower_stored_retention(&txn, tenant_id, policy.days).await?;
    }
    let count =
        store::events::delete_expired_batch(&txn, tenant_id, policy.cutoff, settings.batch_size)
            .await?;
    if count > 0 {
        retention_leases::add_unreported(&txn, tenant_id, count).await?;
    }
    txn.commit().await?;
    Ok(Batch::Deleted { count, policy })
}

/// Records `retention.purge` for every unreported deletion; returns whether it did.
async fn report(
    db: &DatabaseConnection,
    live: &dyn Published,
    settings: &PurgeSettings,
    tenant: &tenants::Model,
    policy: InForce,
) -> PurgeResult<bool> {
    let txn = store::tenant_scope::begin(db, tenant.id).await?;
    let at = clock::now();
    let unreported =
        retention_leases::renew(&txn, tenant.id, &settings.holder, lease_end(settings, at)).await?;
    let Some(unreported) = unreported.filter(|count| *count > 0) else {
        txn.rollback().await?;
        return Ok(false);
    };
    let action = AdminAction {
        action: "retention.purge",
        target_type: "tenant",
        target_id: tenant.id.to_string(),
        target_name: Some(tenant.name.clone()),
        payload: json!({
            "cutoff": policy.cutoff.to_rfc3339(),
            "retentionDays": policy.days.get(),
            "plan": policy.plan.as_db(),
            "deleted": unreported,
            "worker": settings.holder,
        }),
    };
    let sequence =
        admin_audit::record(&txn, tenant.id, &AuditActor::retention_worker(), action, at).await?;
    retention_leases::clear_unreported(&txn, tenant.id).await?;
    txn.commit().await?;
    live.published(tenant.id, sequence).await;
    Ok(true)
}

/// The tenant's policy at `now`; `None` on legal hold.
fn policy_in_force(
    rules: &RetentionRules,
    tenant: &tenants::Model,
    now: DateTime<Utc>,
) -> PurgeResult<Option<InForce>> {
    let plan =
        Plan::from_db(&tenant.plan).ok_or_else(|| PurgeError::UnknownPlan(tenant.plan.clone()))?;
    let window = RetentionWindow {
        days: rules.effective_days(plan, tenant.retention_days),
        legal_hold: tenant.legal_hold,
    };
    Ok(window.cutoff(now).map(|cutoff| InForce {
        plan,
        days: window.days,
        cutoff,
    }))
}

fn lease_end(settings: &PurgeSettings, from: DateTime<Utc>) -> DateTime<Utc> {
    from + chrono::Duration::from_std(settings.lease).unwrap_or(chrono::Duration::minutes(1))
}
