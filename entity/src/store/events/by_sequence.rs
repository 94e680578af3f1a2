//! Reading a tenant's events by sequence, for live delivery, replay and export.

use entity::audit_events::{self, Column};
use entity::tenants;
use futures::TryStreamExt;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Select, StreamTrait,
};
use uuid::Uuid;

use super::{EventFilter, stored_size};
use crate::store::StoreError;

/// The highest committed sequence of the tenant (0 before its first event).
pub async fn committed_sequence(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
) -> Result<i64, StoreError> {
    let counter: Option<i64> = tenants::Entity::find_by_id(tenant_id)
        .select_only()
        .column(tenants::Column::EventCounter)
        .into_tuple()
        .one(db)
        .await?;
    Ok(counter.unwrap_or(0))
}

/// Events with `after < sequence <= up_to` (no upper bound if `None`) that match
/// `filter`, in sequence order, at most `limit`.
pub async fn after_sequence(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    after: i64,
    up_to: Option<i64>,
    filter: Option<&EventFilter>,
    limit: u64,
) -> Result<Vec<audit_events::Model>, StoreError> {
    let query = by_sequence(db.get_database_backend(), tenant_id, after, up_to, filter);
    Ok(query.limit(limit).all(db).await?)
}

/// One export batch: [`after_sequence`] with an upper bound, streamed, and
/// stopped after the row that brings it to `max_bytes` (their
/// [`stored_size`]), so a batch of large payloads holds a few MiB rather than
/// `limit` of them. `cut` says the batch ended before `up_to` may have (at
/// `limit` rows or at `max_bytes`): the next one starts after its last row.
pub async fn export_batch(
    db: &(impl ConnectionTrait + StreamTrait),
    tenant_id: Uuid,
    (after, up_to): (i64, i64),
    filter: &EventFilter,
    limit: u64,
    max_bytes: usize,
) -> Result<ExportBatch, StoreError> {
    let query = by_sequence(
        ConnectionTrait::get_database_backend(db),
        tenant_id,
        after,
        Some(up_to),
        Some(filter),
    );
    let mut stream = query.limit(limit).stream(db).await?;
    let (mut rows, mut bytes) = (Vec::new(), 0);
    while let Some(row) = stream.try_next().await? {
        bytes += stored_size(&row);
        rows.push(row);
        if bytes >= max_bytes {
            return Ok(ExportBatch { rows, cut: true });
        }
    }
    let cut = rows.len() as u64 >= limit;
    Ok(ExportBatch { rows, cut })
}

/// What [`export_batch`] read.
#[derive(Debug)]
pub struct ExportBatch {
    pub rows: Vec<audit_events::Model>,
    /// Stopped at the row or byte limit: more may follow before `up_to`.
    pub cut: bool,
}

/// The events of the tenant after `after` (up to `up_to`) matching `filter`,
/// in sequence order: what both readers above select.
fn by_sequence(
    backend: DbBackend,
    tenant_id: Uuid,
    after: i64,
    up_to: Option<i64>,
    filter: Option<&EventFilter>,
) -> Select<audit_events::Entity> {
    let mut query = audit_events::Entity::find();
    query = match filter {
        Some(filter) => query.filter(filter.condition(backend, tenant_id)),
        None => query.filter(Column::TenantId.eq(tenant_id)),
    };
    query = query.filter(Column::Sequence.gt(after));
    if let Some(up_to) = up_to {
        query = query.filter(Column::Sequence.lte(up_to));
    }
    query.order_by_asc(Column::Sequence)
}
