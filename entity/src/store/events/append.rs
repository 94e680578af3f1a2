//! Appending batches of events to one tenant's log.
//!
//! Sequence invariant: a tenant's `sequence` values are 1, 2, 3, ... with no gap,
//! and they become visible in order. The batch first advances nothing but *locks*
//! the tenant's counter row (`UPDATE ... SET event_counter = event_counter`), then
//! resolves idempotency keys, inserts, and stores the new counter, all in the
//! caller's transaction. The row lock serializes one tenant's batches until
//! commit, so a reader who sees sequence N has seen every sequence below it; other
//! tenants' batches do not wait. On SQLite the first statement is a write, which
//! takes the database write lock at once (no deferred lock upgrade that could fail).
//!
//! Tree: the same transaction adds the new events to the tenant's Merkle
//! tree ([`crate::store::tree::append_leaves`]) while the counter row is
//! locked (the lock also returns the tree's origin), so the tree grows in
//! sequence order and always has a leaf for every sequence after its origin.
//!
//! Ingest quota: the same two statements carry the tenant's per-minute window
//! ([`super::ingest_window`]): the lock returns it, the counter's store writes
//! it back. Each batch of [`append_metered`] is checked on its own, once its
//! idempotent replays are known (they do not count): a refused batch inserts
//! nothing and takes no sequence, and the batches after it are still checked.

use std::collections::HashMap;
use std::num::NonZeroU32;

use chrono::{DateTime, Utc};
use entity::audit_events::{self, Column};
use entity::tenants;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::ingest_window::{IngestWindow, QuotaRefusal};
use crate::domain::NewEvent;
use crate::domain::merkle::TreeOrigin;
use crate::store::StoreError;

/// One caller's batch and its tenant's ingest quota.
#[derive(Clone, Debug)]
pub struct MeteredBatch {
    pub events: Vec<NewEvent>,
    /// Events per minute of the tenant's plan; `None`: unlimited (still counted).
    pub per_minute: Option<NonZeroU32>,
}

/// What became of one [`MeteredBatch`].
#[derive(Clone, Debug)]
pub enum Appended {
    /// One stored row per input event (for a replayed idempotency key, the
    /// row stored the first time).
    Stored(Vec<audit_events::Model>),
    /// Over the quota: nothing of the batch was written.
    OverQuota(QuotaRefusal),
}

/// Appends `events` in order and returns one stored row per input event (for a
/// replayed idempotency key, the row stored the first time). Not metered: for
/// the service's own events (self-audit), which the ingest quota does not count.
pub async fn append(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    events: Vec<NewEvent>,
    received_at: DateTime<Utc>,
) -> Result<Vec<audit_events::Model>, StoreError> {
    let mut counter = lock_counter(txn, tenant_id).await?;
    let known = existing_by_key(txn, tenant_id, events.iter()).await?;
    let (rows, fresh) = resolve(tenant_id, &known, counter.sequence, events, received_at)?;
    if !fresh.is_empty() {
        counter.sequence += fresh.len() as i64;
        super::bulk_insert::insert_rows(txn, &fresh).await?;
        crate::store::tree::append_leaves(txn, tenant_id, counter.tree_origin, &fresh).await?;
        store_counter(txn, tenant_id, &counter).await?;
    }
    Ok(rows)
}

/// Appends `batches` in order, each all or nothing against its ingest quota,
/// and returns what became of each. An idempotency conflict in any batch fails
/// the whole call (the caller rolls back and retries the batches one by one).
pub async fn append_metered(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    batches: Vec<MeteredBatch>,
    received_at: DateTime<Utc>,
) -> Result<Vec<Appended>, StoreError> {
    let mut counter = lock_counter(txn, tenant_id).await?;
    counter.window = counter.window.at(received_at);
    let mut known =
        existing_by_key(txn, tenant_id, batches.iter().flat_map(|b| b.events.iter())).await?;
    let mut results = Vec::with_capacity(batches.len());
    let mut fresh = Vec::new();
    for batch in batches {
        let (rows, new_rows) = resolve(
            tenant_id,
            &known,
            counter.sequence,
            batch.events,
            received_at,
        )?;
        if let Err(refusal) = counter
            .window
            .take(new_rows.len(), batch.per_minute, received_at)
        {
            results.push(Appended::OverQuota(refusal));
            continue;
        }
        counter.sequence += new_rows.len() as i64;
        for row in &new_rows {
            if let Some(key) = &row.idempotency_key {
                known.insert(key.clone(), row.clone());
            }
        }
        fresh.extend(new_rows);
        results.push(Appended::Stored(rows));
    }
    if !fresh.is_empty() {
        super::bulk_insert::insert_rows(txn, &fresh).await?;
        crate::store::tree::append_leaves(txn, tenant_id, counter.tree_origin, &fresh).await?;
        store_counter(txn, tenant_id, &counter).await?;
    }
    Ok(results)
}

/// One batch's rows, sequences after `last`, and those of them that are new
/// (not idempotent replays of `known` rows nor of earlier events of the batch).
fn resolve(
    tenant_id: Uuid,
    known: &HashMap<String, audit_events::Model>,
    mut last: i64,
    events: Vec<NewEvent>,
    received_at: DateTime<Utc>,
) -> Result<(Vec<audit_events::Model>, Vec<audit_events::Model>), StoreError> {
    let mut batch_keys: HashMap<String, audit_events::Model> = HashMap::new();
    let mut rows = Vec::with_capacity(events.len());
    let mut fresh = Vec::new();
    for (index, event) in events.into_iter().enumerate() {
        if let Some(key) = &event.idempotency_key
            && let Some(stored) = batch_keys.get(key).or_else(|| known.get(key))
        {
            if stored.request_hash != event.request_hash {
                return Err(StoreError::IdempotencyConflict {
                    index,
                    key: key.clone(),
                });
            }
            rows.push(stored.clone());
            continue;
        }
        last += 1;
        let row = to_row(tenant_id, last, event, received_at);
        if let Some(key) = &row.idempotency_key {
            batch_keys.insert(key.clone(), row.clone());
        }
        fresh.push(row.clone());
        rows.push(row);
    }
    Ok((rows, fresh))
}

/// The tenant's counter row, locked: the last sequence, the ingest window
/// and the tree's origin (never written here).
struct Counter {
    sequence: i64,
    window: IngestWindow,
    tree_origin: TreeOrigin,
}

async fn lock_counter(txn: &impl ConnectionTrait, tenant_id: Uuid) -> Result<Counter, StoreError> {
    let statement = Query::update()
        .table(tenants::Entity)
        .value(
            tenants::Column::EventCounter,
            Expr::col(tenants::Column::EventCounter),
        )
        .and_where(tenants::Column::Id.eq(tenant_id))
        .returning(Query::returning().columns([
            tenants::Column::EventCounter,
            tenants::Column::IngestWindowStart,
            tenants::Column::IngestWindowEvents,
            tenants::Column::IngestPreviousWindowEvents,
            tenants::Column::TreeOrigin,
        ]))
        .to_owned();
    let row = txn
        .query_one(&statement)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(format!("tenant {tenant_id}")))?;
    Ok(Counter {
        sequence: row.try_get_by_index::<i64>(0)?,
        window: IngestWindow {
            start: row.try_get_by_index::<Option<DateTime<Utc>>>(1)?,
            events: row.try_get_by_index::<i64>(2)?,
            previous_events: row.try_get_by_index::<i64>(3)?,
        },
        tree_origin: TreeOrigin(
            u64::try_from(row.try_get_by_index::<i64>(4)?)
                .map_err(|_| StoreError::Invalid("a negative tree origin".to_owned()))?,
        ),
    })
}

async fn store_counter(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    counter: &Counter,
) -> Result<(), StoreError> {
    let statement = Query::update()
        .table(tenants::Entity)
        .value(tenants::Column::EventCounter, counter.sequence)
        .value(tenants::Column::IngestWindowStart, counter.window.start)
        .value(tenants::Column::IngestWindowEvents, counter.window.events)
        .value(
            tenants::Column::IngestPreviousWindowEvents,
            counter.window.previous_events,
        )
        .and_where(tenants::Column::Id.eq(tenant_id))
        .to_owned();
    txn.execute(&statement).await?;
    Ok(())
}

/// Events already stored under the batch's idempotency keys, by key.
async fn existing_by_key<'a>(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    events: impl Iterator<Item = &'a NewEvent>,
) -> Result<HashMap<String, audit_events::Model>, StoreError> {
    let keys: Vec<&String> = events.filter_map(|e| e.idempotency_key.as_ref()).collect();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = audit_events::Entity::find()
        .filter(Column::TenantId.eq(tenant_id))
        .filter(Column::IdempotencyKey.is_in(keys))
        .all(txn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| row.idempotency_key.clone().map(|key| (key, row)))
        .collect())
}

fn to_row(
    tenant_id: Uuid,
    sequence: i64,
    event: NewEvent,
    received_at: DateTime<Utc>,
) -> audit_events::Model {
    audit_events::Model {
        tenant_id,
        id: Uuid::now_v7(),
        sequence,
        action: event.action.as_str().to_owned(),
        actor_type: event.actor_type.as_db().to_owned(),
        actor_id: event.actor_id,
        actor_name: event.actor_name,
        actor_email: event.actor_email,
        target_type: event.target_type,
        target_id: event.target_id,
        target_name: event.target_name,
        outcome: event.outcome.as_db().to_owned(),
        ip_address: event.ip_address.map(|ip| ip.canonical()),
        user_agent: event.user_agent,
        request_id: event.request_id,
        payload: event.payload,
        occurred_at: event.occurred_at,
        received_at,
        idempotency_key: event.idempotency_key,
        request_hash: event.request_hash,
    }
}
