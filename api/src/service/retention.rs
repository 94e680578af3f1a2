//! Changing a tenant's retention period, legal hold and plan.
//!
//! Each change locks the tenant's row, compares with what is stored, saves the
//! new policy and records the change in the tenant's own log (old and new
//! values, the caller as actor) in the same transaction; subscribers are told
//! after commit. Asking for what is already in force changes nothing and
//! records nothing. Action names (documented in docs/api.md): `retention.update`,
//! `legal_hold.enable`, `legal_hold.update`, `legal_hold.disable`,
//! `tenant.plan_change`.

use entity::tenants;
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::{ActorOfCaller, ApiKeyCache, AuditActor, TenantCaller};
use crate::domain::clock;
use crate::domain::retention::RetentionChangeError;
use crate::domain::{Plan, RetentionRules, RetentionWindow};
use crate::error::{ApiError, ApiResult};
use crate::live::{Change, Hub};
use crate::store;
use crate::store::admin_audit::{self, AdminAction};
use crate::store::tenants::PolicyUpdate;

/// Longest accepted legal-hold reason, in characters.
pub(crate) const MAX_LEGAL_HOLD_REASON: usize = 500;

/// `setRetentionPolicy`: ENTERPRISE admins choose a period within the bounds.
pub(crate) async fn set_retention_days(
    db: &DatabaseConnection,
    live: &Hub,
    key_cache: &ApiKeyCache,
    rules: &RetentionRules,
    caller: &TenantCaller,
    requested: i64,
) -> ApiResult<tenants::Model> {
    let now = clock::now();
    let txn = store::tenant_scope::begin(db, caller.tenant_id).await?;
    let (tenant, current) = locked(&txn, rules, caller.tenant_id).await?;
    let days = rules
        .parse_requested(current.plan, requested)
        .map_err(|error| match error {
            RetentionChangeError::FixedByPlan { .. } => ApiError::Forbidden(error.to_string()),
            RetentionChangeError::OutOfRange { .. } => ApiError::bad_input(error.to_string()),
        })?;
    if days == current.retention_days && tenant.retention_days == days.as_i32() {
        txn.rollback().await?;
        return Ok(tenant);
    }
    let update = PolicyUpdate {
        retention_days: days,
        updated_at: now,
        ..current.clone()
    };
    let payload = json!({
        "plan": current.plan.as_db(),
        "retentionDays": change(current.retention_days.get(), days.get()),
    });
    let actor = AuditActor::of_caller(caller);
    let staged = stage_change(&txn, &tenant, &update, &actor, "retention.update", payload).await?;
    commit_and_publish(txn, live, key_cache, staged).await
}

/// Who asks for a legal-hold change: it decides which tenant, and whether
/// the plan must allow it.
pub(crate) enum LegalHoldRequester<'a> {
    /// A tenant's ADMIN, for its own tenant: only on plans whose retention
    /// may change (legal hold would otherwise lift a fixed retention).
    Tenant(&'a TenantCaller),
    /// The platform operator, for any tenant and plan.
    Operator { tenant_id: Uuid },
}

/// `setLegalHold`: while on, nothing of the tenant expires. A TEAM tenant's
/// own admins are refused with `FORBIDDEN` (its retention is fixed); the
/// operator may hold any tenant.
pub(crate) async fn set_legal_hold(
    db: &DatabaseConnection,
    live: &Hub,
    key_cache: &ApiKeyCache,
    rules: &RetentionRules,
    requester: LegalHoldRequester<'_>,
    enabled: bool,
    reason: Option<String>,
) -> ApiResult<tenants::Model> {
    let (tenant_id, actor) = match &requester {
        LegalHoldRequester::Tenant(caller) => (caller.tenant_id, AuditActor::of_caller(caller)),
        LegalHoldRequester::Operator { tenant_id } => (*tenant_id, AuditActor::operator()),
    };
    let reason = reason
        .map(|reason| reason.trim().to_owned())
        .filter(|reason| !reason.is_empty());
    if reason
        .as_ref()
        .is_some_and(|reason| reason.chars().count() > MAX_LEGAL_HOLD_REASON)
    {
        return Err(ApiError::bad_input(format!(
            "reason must be at most {MAX_LEGAL_HOLD_REASON} characters"
        )));
    }
    // PostgreSQL cannot store NUL in text or jsonb (the self-audit payload).
    if reason.as_ref().is_some_and(|reason| reason.contains('\0')) {
        return Err(ApiError::bad_input(
            "reason must not contain a NUL character",
        ));
    }
    let stored_reason = if enabled { reason.clone() } else { None };
    let now = clock::now();
    let txn = store::tenant_scope::begin(db, tenant_id).await?;
    let (tenant, current) = locked(&txn, rules, tenant_id).await?;
    if matches!(requester, LegalHoldRequester::Tenant(_)) && !rules.may_change(current.plan) {
        txn.rollback().await?;
        return Err(ApiError::Forbidden(format!(
            "legal hold is not available on the {} plan, whose retention is fixed; \
             the platform operator may set it",
            current.plan.as_db().to_uppercase()
        )));
    }
    if current.legal_hold == enabled && current.legal_hold_reason == stored_reason {
        txn.rollback().await?;
        return Ok(tenant);
    }
    let action = match (current.legal_hold, enabled) {
        (false, true) => "legal_hold.enable",
        (true, true) => "legal_hold.update",
        (_, false) => "legal_hold.disable",
    };
    let payload = json!({
        "legalHold": change(current.legal_hold, enabled),
        "reason": change(current.legal_hold_reason.clone(), reason),
        "retentionDays": current.retention_days.get(),
    });
    let update = PolicyUpdate {
        legal_hold: enabled,
        legal_hold_reason: stored_reason,
        updated_at: now,
        ..current.clone()
    };
    let staged = stage_change(&txn, &tenant, &update, &actor, action, payload).await?;
    commit_and_publish(txn, live, key_cache, staged).await
}

/// `changeTenantPlan` (operator): moves a tenant to `plan` and resets its
/// retention to that plan's default. Legal hold is kept as it is.
pub(crate) async fn change_plan(
    db: &DatabaseConnection,
    live: &Hub,
    key_cache: &ApiKeyCache,
    rules: &RetentionRules,
    tenant_id: Uuid,
    plan: Plan,
    actor: &AuditActor,
) -> ApiResult<tenants::Model> {
    let now = clock::now();
    let txn = store::tenant_scope::begin(db, tenant_id).await?;
    let (tenant, current) = locked(&txn, rules, tenant_id).await?;
    let days = rules.plan_default(plan);
    if current.plan == plan && tenant.retention_days == days.as_i32() {
        txn.rollback().await?;
        return Ok(tenant);
    }
    let payload = json!({
        "plan": change(current.plan.as_db(), plan.as_db()),
        "retentionDays": change(current.retention_days.get(), days.get()),
    });
    let update = PolicyUpdate {
        plan,
        retention_days: days,
        updated_at: now,
        ..current.clone()
    };
    let staged = stage_change(&txn, &tenant, &update, actor, "tenant.plan_change", payload).await?;
    commit_and_publish(txn, live, key_cache, staged).await
}

/// `{"old": old, "new": new}`, the shape of every change in a payload.
fn change<T: Into<Value>>(old: T, new: T) -> Value {
    json!({ "old": old.into(), "new": new.into() })
}

/// Locks the tenant and reads its policy in force.
async fn locked(
    txn: &DatabaseTransaction,
    rules: &RetentionRules,
    tenant_id: Uuid,
) -> ApiResult<(tenants::Model, PolicyUpdate)> {
    let tenant = store::tenants::lock(txn, tenant_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no tenant {tenant_id}")))?;
    let plan = Plan::from_db(&tenant.plan).ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!("stored plan {:?} is unknown", tenant.plan))
    })?;
    let current = PolicyUpdate {
        plan,
        retention_days: rules.effective_days(plan, tenant.retention_days),
        legal_hold: tenant.legal_hold,
        legal_hold_reason: tenant.legal_hold_reason.clone(),
        updated_at: tenant.retention_updated_at.unwrap_or(tenant.created_at),
    };
    Ok((tenant, current))
}

/// A saved change, its self-audit event written, not yet committed.
struct Staged {
    tenant: tenants::Model,
    sequence: i64,
    /// The window in force once committed, for open subscriptions.
    window: RetentionWindow,
}

/// Saves `update` and records `action` with `payload` in the tenant's log.
async fn stage_change(
    txn: &DatabaseTransaction,
    tenant: &tenants::Model,
    update: &PolicyUpdate,
    actor: &AuditActor,
    action: &'static str,
    payload: Value,
) -> ApiResult<Staged> {
    let saved = store::tenants::save_policy(txn, tenant.id, update)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no tenant {}", tenant.id)))?;
    let recorded = AdminAction {
        action,
        target_type: "tenant",
        target_id: tenant.id.to_string(),
        target_name: Some(tenant.name.clone()),
        payload,
    };
    let sequence = admin_audit::record(txn, tenant.id, actor, recorded, update.updated_at).await?;
    Ok(Staged {
        tenant: saved,
        sequence,
        window: RetentionWindow {
            days: update.retention_days,
            legal_hold: update.legal_hold,
        },
    })
}

/// Commits a staged change, then tells live subscribers about its audit event.
async fn commit_and_publish(
    txn: DatabaseTransaction,
    live: &Hub,
    key_cache: &ApiKeyCache,
    staged: Staged,
) -> ApiResult<tenants::Model> {
    txn.commit().await?;
    // Verified keys carry the tenant's window and plan: forget them, so this
    // process's next request reads the new policy (other replicas within
    // `AUDITLOG_AUTH_CACHE_MS`).
    key_cache.invalidate_all();
    // Open subscriptions of this process apply the new window at once.
    live.changes().announce(Change::RetentionChanged {
        tenant_id: staged.tenant.id,
        window: staged.window,
    });
    live.published(staged.tenant.id, staged.sequence).await;
    Ok(staged.tenant)
}
