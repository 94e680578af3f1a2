//! Tenants: creation, lookup, and their plan and retention policy.

use chrono::{DateTime, Utc};
use entity::tenants::{self, Column};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use super::StoreError;
use crate::domain::{Plan, RetentionDays, TenantSlug};

/// Inserts tenant `id` (the caller's transaction is scoped to `id`, so row-level
/// security admits the new row).
pub async fn create(
    db: &impl ConnectionTrait,
    id: Uuid,
    slug: &TenantSlug,
    name: &str,
    plan: Plan,
    retention_days: RetentionDays,
    now: DateTime<Utc>,
) -> Result<tenants::Model, StoreError> {
    if super::registry::tenant_id_by_slug(db, slug.as_str())
        .await?
        .is_some()
    {
        return Err(StoreError::SlugTaken(slug.to_string()));
    }
    let row = tenants::ActiveModel {
        id: ActiveValue::Set(id),
        slug: ActiveValue::Set(slug.to_string()),
        name: ActiveValue::Set(name.to_owned()),
        plan: ActiveValue::Set(plan.as_db().to_owned()),
        retention_days: ActiveValue::Set(retention_days.as_i32()),
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
    // A concurrent create of the same slug loses on the unique index; report it
    // the same way as the check above.
    row.insert(db).await.map_err(|error| match error.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            StoreError::SlugTaken(slug.to_string())
        }
        _ => StoreError::Database(error),
    })
}

pub async fn find_by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<tenants::Model>, StoreError> {
    Ok(tenants::Entity::find_by_id(id).one(db).await?)
}

/// Locks the tenant's row until the end of `txn` and returns it (`None` if
/// there is no such tenant). The first statement is a write, so on SQLite the
/// transaction takes the write lock at once, as the event store does.
pub async fn lock(
    txn: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<tenants::Model>, StoreError> {
    let rows = tenants::Entity::update_many()
        .col_expr(Column::LegalHold, Expr::col(Column::LegalHold))
        .filter(Column::Id.eq(id))
        .exec_with_returning(txn)
        .await?;
    Ok(rows.into_iter().next())
}

/// The plan and retention policy of a tenant, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyUpdate {
    pub plan: Plan,
    pub retention_days: RetentionDays,
    pub legal_hold: bool,
    pub legal_hold_reason: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// Stores a new plan/retention policy (call [`lock`] first in the same
/// transaction, so the previous values read there are the ones replaced).
pub async fn save_policy(
    txn: &impl ConnectionTrait,
    id: Uuid,
    update: &PolicyUpdate,
) -> Result<Option<tenants::Model>, StoreError> {
    let rows = tenants::Entity::update_many()
        .col_expr(Column::Plan, Expr::val(update.plan.as_db()))
        .col_expr(
            Column::RetentionDays,
            Expr::val(update.retention_days.as_i32()),
        )
        .col_expr(Column::LegalHold, Expr::val(update.legal_hold))
        .col_expr(
            Column::LegalHoldReason,
            Expr::val(update.legal_hold_reason.clone()),
        )
        .col_expr(Column::RetentionUpdatedAt, Expr::val(update.updated_at))
        .filter(Column::Id.eq(id))
        .exec_with_returning(txn)
        .await?;
    Ok(rows.into_iter().next())
}

/// Lowers the tenant's stored period to `days`, the period in force, when the
/// operator's configuration has put it below what is stored (TEAM's fixed
/// period, or ENTERPRISE's maximum, lowered). On PostgreSQL the purge function
/// never deletes events younger than the stored period, so it must not lag
/// behind the configuration; a stored period at or below `days` is kept.
pub async fn lower_stored_retention(
    txn: &impl ConnectionTrait,
    id: Uuid,
    days: RetentionDays,
) -> Result<(), StoreError> {
    tenants::Entity::update_many()
        .col_expr(Column::RetentionDays, Expr::val(days.as_i32()))
        .filter(Column::Id.eq(id))
        .filter(Column::RetentionDays.gt(days.as_i32()))
        .exec(txn)
        .await?;
    Ok(())
}
