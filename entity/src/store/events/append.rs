//! Appending a batch of events to one tenant's log.
//!
//! Sequence invariant: a tenant's `sequence` values are 1, 2, 3, ... with no gap,
//! and they become visible in order. The batch first advances nothing but *locks*
//! the tenant's counter row (`UPDATE ... SET event_counter = event_counter`), then
//! resolves idempotency keys, inserts, and stores the new counter, all in the
//! caller's transaction. The row lock serializes one tenant's batches until
//! commit, so a reader who sees sequence N has seen every sequence below it; other
//! tenants' batches do not wait. On SQLite the first statement is a write, which
//! takes the database write lock at once (no deferred lock upgrade that could fail).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::audit_events::{self, Column};
use entity::tenants;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::domain::NewEvent;
use crate::store::StoreError;

/// Appends `events` in order and returns one stored row per input event (for a
/// replayed idempotency key, the row stored the first time).
pub async fn append(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    events: Vec<NewEvent>,
    received_at: DateTime<Utc>,
) -> Result<Vec<audit_events::Model>, StoreError> {
    let mut counter = lock_counter(txn, tenant_id).await?;
    let mut known = existing_by_key(txn, tenant_id, &events).await?;
    let mut results = Vec::with_capacity(events.len());
    let mut fresh = Vec::new();
    for (index, event) in events.into_iter().enumerate() {
        if let Some(key) = &event.idempotency_key
            && let Some(stored) = known.get(key)
        {
            if stored.request_hash != event.request_hash {
                return Err(StoreError::IdempotencyConflict {
                    index,
                    key: key.clone(),
                });
            }
            results.push(stored.clone());
            continue;
        }
        counter += 1;
        let row = to_row(tenant_id, counter, event, received_at);
        if let Some(key) = &row.idempotency_key {
            known.insert(key.clone(), row.clone());
        }
        fresh.push(row.clone());
        results.push(row);
    }
    if !fresh.is_empty() {
        super::bulk_insert::insert_rows(txn, &fresh).await?;
        store_counter(txn, tenant_id, counter).await?;
    }
    Ok(results)
}

async fn lock_counter(txn: &impl ConnectionTrait, tenant_id: Uuid) -> Result<i64, StoreError> {
    let statement = Query::update()
        .table(tenants::Entity)
        .value(
            tenants::Column::EventCounter,
            Expr::col(tenants::Column::EventCounter),
        )
        .and_where(tenants::Column::Id.eq(tenant_id))
        .returning_col(tenants::Column::EventCounter)
        .to_owned();
    let row = txn
        .query_one(&statement)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(format!("tenant {tenant_id}")))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

async fn store_counter(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    counter: i64,
) -> Result<(), StoreError> {
    let statement = Query::update()
        .table(tenants::Entity)
        .value(tenants::Column::EventCounter, counter)
        .and_where(tenants::Column::Id.eq(tenant_id))
        .to_owned();
    txn.execute(&statement).await?;
    Ok(())
}

/// Events already stored under the batch's idempotency keys, by key.
async fn existing_by_key(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    events: &[NewEvent],
) -> Result<HashMap<String, audit_events::Model>, StoreError> {
    let keys: Vec<&String> = events
        .iter()
        .filter_map(|e| e.idempotency_key.as_ref())
        .collect();
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
