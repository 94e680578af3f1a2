//! Deleting expired events, for the retention purge.
//!
//! A batch selects at most `limit` expired events through the
//! `(tenant_id, occurred_at, id)` index and deletes them by primary key
//! `(tenant_id, id)`, so it touches only what it deletes and never scans the log.
//!
//! On PostgreSQL the service's role may not DELETE events (the log is
//! append-only for it): the batch calls `auditlog_purge_expired_events`, a
//! `SECURITY DEFINER` function of the schema owner that does the same
//! deletion, re-checks the tenant's legal hold and never goes below its stored
//! retention period (migration `m20261202_000008_append_only_events`). SQLite,
//! which has no roles, deletes directly.

use chrono::{DateTime, Utc};
use entity::audit_events::{self, Column};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect, Statement,
};
use uuid::Uuid;

use crate::store::StoreError;

/// Whether the tenant has any event that occurred before `cutoff`.
pub async fn has_expired(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    cutoff: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let first: Option<Uuid> = audit_events::Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::TenantId.eq(tenant_id))
        .filter(Column::OccurredAt.lt(cutoff))
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    Ok(first.is_some())
}

/// Deletes up to `limit` of the tenant's events that occurred before `cutoff`,
/// oldest first, and returns how many it deleted.
pub async fn delete_expired_batch(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    cutoff: DateTime<Utc>,
    limit: u64,
) -> Result<u64, StoreError> {
    if txn.get_database_backend() == DbBackend::Postgres {
        return purge_through_function(txn, tenant_id, cutoff, limit).await;
    }
    let expired = Query::select()
        .column(Column::Id)
        .from(audit_events::Entity)
        .and_where(Expr::col(Column::TenantId).eq(tenant_id))
        .and_where(Expr::col(Column::OccurredAt).lt(cutoff))
        .order_by(Column::OccurredAt, sea_orm::Order::Asc)
        .order_by(Column::Id, sea_orm::Order::Asc)
        .limit(limit)
        .to_owned();
    let statement = Query::delete()
        .from_table(audit_events::Entity)
        .and_where(Expr::col(Column::TenantId).eq(tenant_id))
        .and_where(Expr::col(Column::Id).in_subquery(expired))
        .to_owned();
    Ok(txn.execute(&statement).await?.rows_affected())
}

/// The PostgreSQL batch: the owner's purge function does the deleting.
async fn purge_through_function(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    cutoff: DateTime<Utc>,
    limit: u64,
) -> Result<u64, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT auditlog_purge_expired_events($1, $2, $3)",
            [tenant_id.into(), cutoff.into(), limit.into()],
        ))
        .await?;
    let deleted: i64 = match row {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    };
    Ok(u64::try_from(deleted).unwrap_or(0))
}
