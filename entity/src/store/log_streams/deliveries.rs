//! The record of delivery attempts: one row each, newest first in pages,
//! kept [`KEPT_FOR_DAYS`] days.

use chrono::{DateTime, Utc};
use entity::log_stream_deliveries::{self, ActiveModel, Column, Entity};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use crate::domain::log_stream::DeliveryStatus;
use crate::store::StoreError;

/// Days an attempt's record is kept.
pub const KEPT_FOR_DAYS: i64 = 7;

/// One attempt, as the worker (or `testLogStream`) saw it.
#[derive(Clone, Debug)]
pub struct NewDelivery {
    pub stream_id: Uuid,
    pub delivery_id: Uuid,
    pub test: bool,
    pub status: DeliveryStatus,
    pub first_sequence: i64,
    pub last_sequence: i64,
    pub event_count: i32,
    pub attempt: i32,
    pub response_status: Option<i32>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

pub async fn insert(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    new: NewDelivery,
    now: DateTime<Utc>,
) -> Result<log_stream_deliveries::Model, StoreError> {
    let row = ActiveModel {
        tenant_id: Set(tenant_id),
        id: Set(Uuid::now_v7()),
        stream_id: Set(new.stream_id),
        delivery_id: Set(new.delivery_id),
        test: Set(new.test),
        status: Set(new.status.as_db().to_owned()),
        first_sequence: Set(new.first_sequence),
        last_sequence: Set(new.last_sequence),
        event_count: Set(new.event_count),
        attempt: Set(new.attempt),
        response_status: Set(new.response_status),
        latency_ms: Set(new.latency_ms),
        error: Set(new.error),
        created_at: Set(now),
    };
    Ok(Entity::insert(row).exec_with_returning(txn).await?)
}

/// One page of a stream's attempts, newest first, after the attempt `after`.
#[derive(Debug)]
pub struct DeliveryPage {
    pub rows: Vec<log_stream_deliveries::Model>,
    pub has_next_page: bool,
}

pub async fn page(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    stream_id: Uuid,
    first: u64,
    after: Option<Uuid>,
) -> Result<DeliveryPage, StoreError> {
    let mut query = Entity::find()
        .filter(Column::TenantId.eq(tenant_id))
        .filter(Column::StreamId.eq(stream_id));
    if let Some(after) = after {
        query = query.filter(Column::Id.lt(after));
    }
    let mut rows = query
        .order_by_desc(Column::Id)
        .limit(first + 1)
        .all(db)
        .await?;
    let has_next_page = rows.len() as u64 > first;
    rows.truncate(usize::try_from(first).unwrap_or(usize::MAX));
    Ok(DeliveryPage {
        rows,
        has_next_page,
    })
}

/// Deletes the stream's attempts recorded before `before`.
pub async fn prune(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    stream_id: Uuid,
    before: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let result = Entity::delete_many()
        .filter(Column::TenantId.eq(tenant_id))
        .filter(Column::StreamId.eq(stream_id))
        .filter(Column::CreatedAt.lt(before))
        .exec(txn)
        .await?;
    Ok(result.rows_affected)
}
