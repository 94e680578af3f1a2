//! Purge leases: which worker process may purge a tenant right now.
//!
//! Lease protocol (see `auditlog_worker::purge::pass`):
//! - [`try_acquire`] is one conditional upsert: it succeeds only if the tenant
//!   has no lease row, or its lease has expired, or the caller already holds it;
//! - every purge batch starts with [`renew`] inside its own transaction. That
//!   both extends the lease and *fences* the batch: if another worker has taken
//!   the lease meanwhile, the renewal matches no row and the batch is abandoned.
//!   On PostgreSQL the renewal also row-locks the lease until the batch commits,
//!   so a takeover waits for the batch in flight;
//! - deleted events are counted in `unreported_deletions` in the deleting
//!   transaction and cleared in the transaction that records `retention.purge`,
//!   so no deletion goes unreported, even across a crash;
//! - [`release`] makes the lease free at once (a crashed worker's lease simply expires).

use chrono::{DateTime, Utc};
use entity::retention_leases::{self, Column};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::StoreError;

/// Takes the tenant's lease for `holder` until `expires_at`, if it is free
/// (never taken, expired at `now`, or already `holder`'s). Returns whether it did.
pub async fn try_acquire(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    holder: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let existing = |column: Column| Expr::col((retention_leases::Entity, column));
    let mut statement = Query::insert();
    statement.into_table(retention_leases::Entity).columns([
        Column::TenantId,
        Column::Holder,
        Column::ExpiresAt,
        Column::UnreportedDeletions,
    ]);
    statement
        .values([
            Expr::val(tenant_id),
            Expr::val(holder),
            Expr::val(expires_at),
            Expr::val(0_i64),
        ])
        .map_err(|error| sea_orm::DbErr::Custom(error.to_string()))?;
    statement
        .on_conflict(
            OnConflict::column(Column::TenantId)
                .update_columns([Column::Holder, Column::ExpiresAt])
                .action_and_where(
                    existing(Column::ExpiresAt)
                        .lte(now)
                        .or(existing(Column::Holder).eq(holder)),
                )
                .to_owned(),
        )
        .returning_col(Column::TenantId);
    Ok(db.query_one(&statement).await?.is_some())
}

/// Extends `holder`'s lease to `expires_at` and returns the tenant's
/// unreported deletions; `None` if `holder` no longer holds the lease.
pub async fn renew(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    holder: &str,
    expires_at: DateTime<Utc>,
) -> Result<Option<i64>, StoreError> {
    let rows = retention_leases::Entity::update_many()
        .col_expr(Column::ExpiresAt, Expr::val(expires_at))
        .filter(Column::TenantId.eq(tenant_id))
        .filter(Column::Holder.eq(holder))
        .exec_with_returning(txn)
        .await?;
    Ok(rows.into_iter().next().map(|row| row.unreported_deletions))
}

/// Adds `deleted` to the tenant's unreported deletions (in the deleting transaction).
pub async fn add_unreported(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    deleted: u64,
) -> Result<(), StoreError> {
    let deleted = i64::try_from(deleted).unwrap_or(i64::MAX);
    retention_leases::Entity::update_many()
        .col_expr(
            Column::UnreportedDeletions,
            Expr::col(Column::UnreportedDeletions).add(deleted),
        )
        .filter(Column::TenantId.eq(tenant_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Marks every deletion reported (in the transaction that records the report).
pub async fn clear_unreported(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
) -> Result<(), StoreError> {
    retention_leases::Entity::update_many()
        .col_expr(Column::UnreportedDeletions, Expr::val(0_i64))
        .filter(Column::TenantId.eq(tenant_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Deletions of the tenant not yet reported (0 if it was never purged).
pub async fn unreported(db: &impl ConnectionTrait, tenant_id: Uuid) -> Result<i64, StoreError> {
    let count: Option<i64> = retention_leases::Entity::find_by_id(tenant_id)
        .select_only()
        .column(Column::UnreportedDeletions)
        .into_tuple()
        .one(db)
        .await?;
    Ok(count.unwrap_or(0))
}

/// Frees `holder`'s lease at once (a no-op if someone else holds it now).
pub async fn release(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    holder: &str,
) -> Result<(), StoreError> {
    retention_leases::Entity::update_many()
        .col_expr(Column::ExpiresAt, Expr::val(DateTime::<Utc>::UNIX_EPOCH))
        .filter(Column::TenantId.eq(tenant_id))
        .filter(Column::Holder.eq(holder))
        .exec(db)
        .await?;
    Ok(())
}
