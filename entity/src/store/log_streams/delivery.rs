//! The worker's side of a stream (see the protocol in the module above):
//! finding due streams, the lease, the batch in flight, and its outcome.

use chrono::{DateTime, Utc};
use entity::log_streams::{self, Column, Entity};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};
use uuid::Uuid;

use crate::domain::log_stream::StreamState;
use crate::store::StoreError;
use crate::store::events::EventFilter;

/// A stream whose lease a worker holds, as it was when taken.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub row: log_streams::Model,
    pub holder: String,
}

/// Up to `limit` streams (tenant id, stream id) that are delivering, due at
/// `now`, free of leases, and have something to send (a batch in flight or
/// events past their cursor), the longest-waiting first.
pub async fn due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    if db.get_database_backend() == DbBackend::Postgres {
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT tenant_id, id FROM auditlog_due_log_streams($1, $2)",
                [now.into(), limit.into()],
            ))
            .await?;
        return rows
            .iter()
            .map(|row| Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?)))
            .collect();
    }
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT s.tenant_id, s.id FROM log_streams s JOIN tenants t ON t.id = s.tenant_id \
             WHERE s.state IN ('ACTIVE', 'FAILING') AND s.next_attempt_at <= $1 \
               AND (s.lease_until IS NULL OR s.lease_until < $1) \
               AND (s.pending_delivery_id IS NOT NULL OR s.delivered_through < t.event_counter) \
             ORDER BY s.next_attempt_at LIMIT $2",
            [now.into(), limit.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?)))
        .collect()
}

/// Takes (or renews) the stream's lease for `holder` until `until` if it is
/// free, expired at `now`, or already `holder`'s, and the stream is
/// delivering; the stream as it is then.
pub async fn claim(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    id: Uuid,
    holder: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Option<Claimed>, StoreError> {
    let lease_free = Condition::any()
        .add(Column::LeaseUntil.is_null())
        .add(Column::LeaseUntil.lt(now))
        .add(Column::LeaseHolder.eq(holder));
    let rows = Entity::update_many()
        .col_expr(Column::LeaseHolder, Expr::val(holder))
        .col_expr(Column::LeaseUntil, Expr::val(until))
        .filter(Column::TenantId.eq(tenant_id))
        .filter(Column::Id.eq(id))
        .filter(Column::State.is_in(StreamState::DELIVERING.map(StreamState::as_db)))
        .filter(lease_free)
        .exec_with_returning(txn)
        .await?;
    Ok(rows.into_iter().next().map(|row| Claimed {
        row,
        holder: holder.to_owned(),
    }))
}

/// The stream, write-locked, if `holder` still holds its lease (`None`:
/// taken over, deleted, or paused/disabled by an admin meanwhile: write
/// nothing). It is a no-op update rather than `SELECT … FOR UPDATE` so that
/// the transaction writes first: a SQLite transaction that read before it
/// writes fails (`SQLITE_BUSY_SNAPSHOT`) when another writer committed
/// meanwhile, whatever the busy timeout.
pub async fn fenced(
    txn: &impl ConnectionTrait,
    claimed: &Claimed,
) -> Result<Option<log_streams::Model>, StoreError> {
    let rows = fenced_update(claimed)
        .col_expr(Column::LeaseHolder, Expr::col(Column::LeaseHolder))
        .exec_with_returning(txn)
        .await?;
    Ok(rows.into_iter().next())
}

/// Stores the batch about to be sent (after [`fenced`]).
pub async fn set_pending(
    txn: &impl ConnectionTrait,
    claimed: &Claimed,
    delivery_id: Uuid,
    last_sequence: i64,
) -> Result<bool, StoreError> {
    let result = fenced_update(claimed)
        .col_expr(Column::PendingDeliveryId, Expr::val(delivery_id))
        .col_expr(Column::PendingLastSequence, Expr::val(last_sequence))
        .exec(txn)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Moves the cursor over sequences none of which match the filter: nothing
/// to deliver up to `through`. The next batch still starts after the last
/// delivered one, so its range covers these too.
pub async fn skip_unmatched(
    txn: &impl ConnectionTrait,
    claimed: &Claimed,
    through: i64,
) -> Result<bool, StoreError> {
    let result = fenced_update(claimed)
        .col_expr(Column::DeliveredThrough, Expr::val(through))
        .filter(Column::PendingDeliveryId.is_null())
        .filter(Column::DeliveredThrough.lt(through))
        .exec(txn)
        .await?;
    Ok(result.rows_affected > 0)
}

/// The purge deleted `(from..=to)` before it was delivered: the cursor and
/// the next batch's start jump past it, and the gap is kept on the stream.
pub async fn jump_gap(
    txn: &impl ConnectionTrait,
    claimed: &Claimed,
    (from, to): (i64, i64),
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let result = fenced_update(claimed)
        .col_expr(Column::DeliveredThrough, Expr::val(to))
        .col_expr(Column::BatchStartAfter, Expr::val(to))
        .col_expr(Column::PendingDeliveryId, Expr::val(None::<Uuid>))
        .col_expr(Column::PendingLastSequence, Expr::val(None::<i64>))
        .col_expr(Column::GapFrom, Expr::val(from))
        .col_expr(Column::GapTo, Expr::val(to))
        .col_expr(Column::GapAt, Expr::val(now))
        .col_expr(Column::UpdatedAt, Expr::val(now))
        .exec(txn)
        .await?;
    Ok(result.rows_affected > 0)
}

/// The pending batch was acknowledged: the cursor moves to its last
/// sequence, retrying starts over, a failing stream is active again.
pub async fn acknowledge(
    txn: &impl ConnectionTrait,
    claimed: &Claimed,
    last_sequence: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let failing = Expr::col(Column::State).eq(StreamState::Failing.as_db());
    let state = Expr::case(failing, StreamState::Active.as_db()).finally(Expr::col(Column::State));
    let result = fenced_update(claimed)
        .col_expr(Column::DeliveredThrough, Expr::val(last_sequence))
        .col_expr(Column::BatchStartAfter, Expr::val(last_sequence))
        .col_expr(Column::PendingDeliveryId, Expr::val(None::<Uuid>))
        .col_expr(Column::PendingLastSequence, Expr::val(None::<i64>))
        .col_expr(Column::Attempt, Expr::val(0))
        .col_expr(Column::NextAttemptAt, Expr::val(now))
        .col_expr(Column::LastDeliveryAt, Expr::val(now))
        .col_expr(Column::LastError, Expr::val(None::<String>))
        .col_expr(Column::State, state.into())
        .col_expr(Column::UpdatedAt, Expr::val(now))
        .exec(txn)
        .await?;
    Ok(result.rows_affected > 0)
}

/// An attempt failed: the stream is `state` (FAILING with the next attempt
/// at `next_attempt_at`, or DISABLED), `attempt` failures so far.
pub async fn fail(
    txn: &impl ConnectionTrait,
    claimed: &Claimed,
    state: StreamState,
    attempt: i32,
    next_attempt_at: DateTime<Utc>,
    error: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    // An admin's pause during the attempt wins over the worker's verdict.
    let paused = Expr::col(Column::State).eq(StreamState::Paused.as_db());
    let state = Expr::case(paused, StreamState::Paused.as_db()).finally(state.as_db());
    let result = fenced_update(claimed)
        .col_expr(Column::State, state.into())
        .col_expr(Column::Attempt, Expr::val(attempt))
        .col_expr(Column::NextAttemptAt, Expr::val(next_attempt_at))
        .col_expr(Column::LastError, Expr::val(error))
        .col_expr(Column::UpdatedAt, Expr::val(now))
        .exec(txn)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Gives the lease up (others may take the stream at once).
pub async fn release(txn: &impl ConnectionTrait, claimed: &Claimed) -> Result<(), StoreError> {
    fenced_update(claimed)
        .col_expr(Column::LeaseHolder, Expr::val(None::<String>))
        .col_expr(Column::LeaseUntil, Expr::val(None::<DateTime<Utc>>))
        .exec(txn)
        .await?;
    Ok(())
}

/// Marks the stream's deliveries as pruned at `now`.
pub async fn mark_pruned(
    txn: &impl ConnectionTrait,
    claimed: &Claimed,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    fenced_update(claimed)
        .col_expr(Column::DeliveriesPrunedAt, Expr::val(now))
        .exec(txn)
        .await?;
    Ok(())
}

/// Sequences of the tenant's events in `(after, up_to]` (no upper bound if
/// `None`) that `retained` selects (its `retained_since`: not expired), in
/// order, at most `limit`: a missing sequence was purged or has expired, as
/// sequences are gapless.
pub async fn present_sequences(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    (after, up_to): (i64, Option<i64>),
    retained: &EventFilter,
    limit: u64,
) -> Result<Vec<i64>, StoreError> {
    use entity::audit_events::{Column as Event, Entity as Events};
    let mut query = Events::find()
        .select_only()
        .column(Event::Sequence)
        .filter(retained.condition(db.get_database_backend(), tenant_id))
        .filter(Event::Sequence.gt(after));
    if let Some(up_to) = up_to {
        query = query.filter(Event::Sequence.lte(up_to));
    }
    Ok(query
        .order_by_asc(Event::Sequence)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?)
}

/// How many of the sequences in `(after, up_to]` `retained` selects.
pub async fn count_present(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    (after, up_to): (i64, i64),
    retained: &EventFilter,
) -> Result<u64, StoreError> {
    use entity::audit_events::{Column as Event, Entity as Events};
    use sea_orm::PaginatorTrait;
    Ok(Events::find()
        .filter(retained.condition(db.get_database_backend(), tenant_id))
        .filter(Event::Sequence.gt(after))
        .filter(Event::Sequence.lte(up_to))
        .count(db)
        .await?)
}

fn fenced_update(claimed: &Claimed) -> sea_orm::UpdateMany<Entity> {
    Entity::update_many()
        .filter(Column::TenantId.eq(claimed.row.tenant_id))
        .filter(Column::Id.eq(claimed.row.id))
        .filter(Column::LeaseHolder.eq(claimed.holder.as_str()))
}
