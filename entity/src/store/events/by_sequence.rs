//! Reading a tenant's events by sequence, for live delivery and replay.

use entity::audit_events::{self, Column};
use entity::tenants;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::EventFilter;
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
    let mut query = audit_events::Entity::find();
    query = match filter {
        Some(filter) => query.filter(filter.condition(db.get_database_backend(), tenant_id)),
        None => query.filter(Column::TenantId.eq(tenant_id)),
    };
    query = query.filter(Column::Sequence.gt(after));
    if let Some(up_to) = up_to {
        query = query.filter(Column::Sequence.lte(up_to));
    }
    Ok(query
        .order_by_asc(Column::Sequence)
        .limit(limit)
        .all(db)
        .await?)
}
