//! View marks: whether a reader's look at a tenant's log is due to be recorded.
//!
//! Protocol (see `api`'s `service::view_audit`): the transaction that records
//! `audit_log.view` first [`claim`]s the reader's window with one conditional
//! upsert — it inserts the mark, or moves it to `now` only if it is at least a
//! window old — and records the event only if the claim won, then commits
//! both together. On PostgreSQL the upsert row-locks the mark, so of several
//! instances claiming at once one wins and the others, once it committed,
//! see the fresh mark and lose; a rolled-back claim leaves the mark as it was,
//! so the next read tries again. Lock order: mark row, then the tenant's
//! counter row (the event's append); nothing locks them the other way round.

use chrono::{DateTime, Utc};
use entity::audit_view_marks::{self, Column};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::StoreError;

/// The outcome of [`claim`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The mark is now `now`: record the view in this transaction.
    Won,
    /// Someone recorded this reader within the window, at this instant.
    Held { last_recorded_at: DateTime<Utc> },
}

/// Claims the window of `reader_key` in the tenant: wins if the reader has no
/// mark yet or its mark is at or before `window_start` (then the mark becomes
/// `now`).
pub async fn claim(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    reader_key: &str,
    now: DateTime<Utc>,
    window_start: DateTime<Utc>,
) -> Result<Claim, StoreError> {
    let mut statement = Query::insert();
    statement.into_table(audit_view_marks::Entity).columns([
        Column::TenantId,
        Column::ReaderKey,
        Column::LastRecordedAt,
    ]);
    statement
        .values([Expr::val(tenant_id), Expr::val(reader_key), Expr::val(now)])
        .map_err(|error| sea_orm::DbErr::Custom(error.to_string()))?;
    statement
        .on_conflict(
            OnConflict::columns([Column::TenantId, Column::ReaderKey])
                .update_column(Column::LastRecordedAt)
                .action_and_where(
                    Expr::col((audit_view_marks::Entity, Column::LastRecordedAt)).lte(window_start),
                )
                .to_owned(),
        )
        .returning_col(Column::TenantId);
    if txn.query_one(&statement).await?.is_some() {
        return Ok(Claim::Won);
    }
    let last: Option<DateTime<Utc>> = audit_view_marks::Entity::find()
        .select_only()
        .column(Column::LastRecordedAt)
        .filter(Column::TenantId.eq(tenant_id))
        .filter(Column::ReaderKey.eq(reader_key))
        .into_tuple()
        .one(txn)
        .await?;
    // The upsert met the row, and marks are never deleted: a missing one is a
    // bug, reported rather than taken as "recorded" (which would skip a view).
    let last_recorded_at = last.ok_or_else(|| {
        StoreError::Invalid(format!(
            "view mark {reader_key:?} neither claimed nor found"
        ))
    })?;
    Ok(Claim::Held { last_recorded_at })
}
