//! What tenant admins do to their streams. Every function takes the
//! caller's tenant and runs in its transaction; the service records each
//! change as a self-audit event in the same transaction.

use chrono::{DateTime, Utc};
use entity::log_streams::{self, ActiveModel, Column, Entity};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::domain::log_stream::{StreamKind, StreamState};
use crate::store::StoreError;

/// Streams a tenant may have.
pub const MAX_STREAMS_PER_TENANT: u64 = 50;

/// A stream's configuration, validated by the caller.
#[derive(Clone, Debug)]
pub struct StreamSettings {
    pub name: String,
    pub kind: StreamKind,
    pub url: String,
    /// `EventFilter::to_json`, as text.
    pub filter: Option<String>,
    pub batch_size: i32,
    pub splunk_index: Option<String>,
    pub splunk_sourcetype: Option<String>,
}

/// A new stream: its settings, its encrypted secret, and where it starts.
#[derive(Clone, Debug)]
pub struct NewStream {
    pub id: Uuid,
    pub settings: StreamSettings,
    pub secret_ciphertext: Option<String>,
    /// The first batch starts after this sequence.
    pub start_after: i64,
}

pub async fn insert(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    new: NewStream,
    now: DateTime<Utc>,
) -> Result<log_streams::Model, StoreError> {
    let s = new.settings;
    let row = ActiveModel {
        tenant_id: Set(tenant_id),
        id: Set(new.id),
        name: Set(s.name),
        kind: Set(s.kind.as_db().to_owned()),
        url: Set(s.url),
        filter: Set(s.filter),
        batch_size: Set(s.batch_size),
        splunk_index: Set(s.splunk_index),
        splunk_sourcetype: Set(s.splunk_sourcetype),
        secret_ciphertext: Set(new.secret_ciphertext),
        previous_secret_ciphertext: Set(None),
        previous_secret_until: Set(None),
        state: Set(StreamState::Active.as_db().to_owned()),
        delivered_through: Set(new.start_after),
        batch_start_after: Set(new.start_after),
        pending_delivery_id: Set(None),
        pending_last_sequence: Set(None),
        attempt: Set(0),
        next_attempt_at: Set(now),
        last_delivery_at: Set(None),
        last_error: Set(None),
        gap_from: Set(None),
        gap_to: Set(None),
        gap_at: Set(None),
        lease_holder: Set(None),
        lease_until: Set(None),
        deliveries_pruned_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    Ok(Entity::insert(row).exec_with_returning(txn).await?)
}

/// The tenant's streams, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
) -> Result<Vec<log_streams::Model>, StoreError> {
    Ok(Entity::find()
        .filter(Column::TenantId.eq(tenant_id))
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}

/// How many streams the tenant has.
pub async fn count(db: &impl ConnectionTrait, tenant_id: Uuid) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    Ok(Entity::find()
        .filter(Column::TenantId.eq(tenant_id))
        .count(db)
        .await?)
}

pub async fn find(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<Option<log_streams::Model>, StoreError> {
    Ok(Entity::find_by_id((tenant_id, id)).one(db).await?)
}

/// The stream, write-locked for a change by an admin (so it waits for a
/// delivery's commit in flight). A no-op update, so the transaction writes
/// first (see `delivery::fenced` for why SQLite needs that).
pub async fn find_for_update(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<Option<log_streams::Model>, StoreError> {
    use sea_orm::sea_query::Expr;
    let rows = Entity::update_many()
        .col_expr(Column::UpdatedAt, Expr::col(Column::UpdatedAt))
        .filter(Column::TenantId.eq(tenant_id))
        .filter(Column::Id.eq(id))
        .exec_with_returning(db)
        .await?;
    Ok(rows.into_iter().next())
}

/// Takes the tenant's counter-row lock first, as every append does, so that
/// a transaction that reads before it writes (creating a stream checks the
/// count and the tenant's last sequence) cannot be refused by SQLite (see
/// `delivery::fenced`), and follows the lock order writers use.
pub async fn lock_tenant(txn: &impl ConnectionTrait, tenant_id: Uuid) -> Result<(), StoreError> {
    use entity::tenants;
    use sea_orm::sea_query::Expr;
    tenants::Entity::update_many()
        .col_expr(
            tenants::Column::EventCounter,
            Expr::col(tenants::Column::EventCounter),
        )
        .filter(tenants::Column::Id.eq(tenant_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Writes every column of `row` back (after [`find_for_update`]).
pub async fn save(
    txn: &impl ConnectionTrait,
    row: log_streams::Model,
) -> Result<log_streams::Model, StoreError> {
    use sea_orm::{ActiveModelTrait, IntoActiveModel};
    Ok(row.into_active_model().reset_all().update(txn).await?)
}

/// Changes the settings; a batch in flight is dropped (its events may no
/// longer match), so the next one gets a new delivery id.
pub fn apply_settings(row: &mut log_streams::Model, settings: StreamSettings, now: DateTime<Utc>) {
    row.name = settings.name;
    row.kind = settings.kind.as_db().to_owned();
    row.url = settings.url;
    row.filter = settings.filter;
    row.batch_size = settings.batch_size;
    row.splunk_index = settings.splunk_index;
    row.splunk_sourcetype = settings.splunk_sourcetype;
    drop_pending(row, now);
    row.updated_at = now;
}

/// Moves the cursor (back or forward) and re-enables the stream (a paused
/// one stays paused): the next batch starts after `after`.
pub fn apply_replay(row: &mut log_streams::Model, after: i64, now: DateTime<Utc>) {
    row.delivered_through = after;
    row.batch_start_after = after;
    drop_pending(row, now);
    if row.state != StreamState::Paused.as_db() {
        row.state = StreamState::Active.as_db().to_owned();
    }
    row.updated_at = now;
}

/// Sets the state an admin chose: `Paused`, or `Active` (resume: retrying
/// starts over, now).
pub fn apply_state(row: &mut log_streams::Model, state: StreamState, now: DateTime<Utc>) {
    row.state = state.as_db().to_owned();
    if state == StreamState::Active {
        row.attempt = 0;
        row.next_attempt_at = now;
        row.last_error = None;
    }
    row.updated_at = now;
}

fn drop_pending(row: &mut log_streams::Model, now: DateTime<Utc>) {
    row.pending_delivery_id = None;
    row.pending_last_sequence = None;
    row.attempt = 0;
    row.next_attempt_at = now;
    row.last_error = None;
}

/// Deletes the stream (and, by the foreign key, its deliveries).
pub async fn delete(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<bool, StoreError> {
    let result = Entity::delete_many()
        .filter(Column::TenantId.eq(tenant_id))
        .filter(Column::Id.eq(id))
        .exec(txn)
        .await?;
    Ok(result.rows_affected > 0)
}
