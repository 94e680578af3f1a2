//! The platform log: the audit log of installation-wide actions (platform
//! keys created and revoked, tenants created or moved by a platform key),
//! kept as the log of one reserved tenant row, so it has everything a
//! tenant's log has (gapless sequences, pages, filters, facets, retention).
//!
//! Its slug `_platform` is not a valid tenant slug (`TenantSlug` refuses the
//! `_`), so no API key, person or `Auditlog-Tenant` header can name it by
//! slug; the authenticator also refuses its id in the header
//! ([`is_platform_log`]). Only the operator reads it (`platformAuditEvents`).

use chrono::{DateTime, Utc};
use entity::tenants;
use sea_orm::{ActiveModelTrait, ActiveValue, ConnectionTrait, DatabaseConnection};
use uuid::Uuid;

use super::{StoreError, tenant_scope};
use crate::domain::Plan;

/// The reserved tenant row that holds the platform log.
pub const PLATFORM_LOG_TENANT: Uuid = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0001);

const SLUG: &str = "_platform";
const NAME: &str = "Platform log";

pub fn is_platform_log(tenant_id: Uuid) -> bool {
    tenant_id == PLATFORM_LOG_TENANT
}

/// Creates the platform log's tenant row unless it exists (every start;
/// concurrent starts of several replicas agree: the loser's insert fails on
/// the primary key and it finds the winner's row).
pub async fn ensure(
    db: &DatabaseConnection,
    retention_days: i32,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let txn = tenant_scope::begin(db, PLATFORM_LOG_TENANT).await?;
    if super::tenants::find_by_id(&txn, PLATFORM_LOG_TENANT)
        .await?
        .is_some()
    {
        txn.commit().await?;
        return Ok(());
    }
    let row = tenants::ActiveModel {
        id: ActiveValue::Set(PLATFORM_LOG_TENANT),
        slug: ActiveValue::Set(SLUG.to_owned()),
        name: ActiveValue::Set(NAME.to_owned()),
        plan: ActiveValue::Set(Plan::Enterprise.as_db().to_owned()),
        retention_days: ActiveValue::Set(retention_days),
        created_at: ActiveValue::Set(now),
        event_counter: ActiveValue::Set(0),
        legal_hold: ActiveValue::Set(false),
        legal_hold_reason: ActiveValue::Set(None),
        retention_updated_at: ActiveValue::Set(None),
        ingest_window_start: ActiveValue::Set(None),
        ingest_window_events: ActiveValue::Set(0),
        ingest_previous_window_events: ActiveValue::Set(0),
        tree_origin: ActiveValue::Set(0),
    };
    match row.insert(&txn).await {
        Ok(_) => Ok(txn.commit().await?),
        Err(error)
            if matches!(
                error.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            Ok(())
        }
        Err(error) => Err(StoreError::Database(error)),
    }
}

/// Appends one event to the platform log (in the caller's transaction, which
/// must be scoped to [`PLATFORM_LOG_TENANT`]); its sequence.
pub async fn record(
    txn: &impl ConnectionTrait,
    actor: &crate::domain::AuditActor,
    action: super::admin_audit::AdminAction<'_>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    super::admin_audit::record(txn, PLATFORM_LOG_TENANT, actor, action, now).await
}
