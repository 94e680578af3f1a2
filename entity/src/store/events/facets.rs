//! Facets for filter drop-downs: distinct actions and actors with their counts.
//! Both count only events inside the retention window (`retained_since`).

use chrono::{DateTime, Utc};
use entity::audit_events::{self, Column};
use sea_orm::sea_query::{Expr, ExprTrait, Order};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
};
use uuid::Uuid;

use crate::store::StoreError;

/// At most this many values per facet, most frequent first.
pub const MAX_FACET_VALUES: u64 = 200;

pub struct ValueFacet {
    pub value: String,
    pub count: i64,
}

pub struct ActorFacet {
    pub id: String,
    pub name: Option<String>,
    pub count: i64,
}

/// The tenant, and the retention cutoff if there is one.
fn scope(tenant_id: Uuid, retained_since: Option<DateTime<Utc>>) -> Condition {
    let mut scope = Condition::all().add(Column::TenantId.eq(tenant_id));
    if let Some(since) = retained_since {
        scope = scope.add(Column::OccurredAt.gte(since));
    }
    scope
}

/// The `group` column's values in the tenant's retained log, most frequent
/// first (ties in byte order), at most [`MAX_FACET_VALUES`]; the caller adds
/// what else it selects, then the count comes last.
fn ranked(
    group: Column,
    tenant_id: Uuid,
    retained_since: Option<DateTime<Utc>>,
) -> Select<audit_events::Entity> {
    audit_events::Entity::find()
        .select_only()
        .column(group)
        .filter(scope(tenant_id, retained_since))
        .group_by(group)
        .order_by(Expr::col(Column::Id).count(), Order::Desc)
        .order_by_asc(group)
        .limit(MAX_FACET_VALUES)
}

pub async fn action_facets(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    retained_since: Option<DateTime<Utc>>,
) -> Result<Vec<ValueFacet>, StoreError> {
    let rows: Vec<(String, i64)> = ranked(Column::Action, tenant_id, retained_since)
        .column_as(Expr::col(Column::Id).count(), "count")
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(value, count)| ValueFacet { value, count })
        .collect())
}

pub async fn actor_facets(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    retained_since: Option<DateTime<Utc>>,
) -> Result<Vec<ActorFacet>, StoreError> {
    let rows: Vec<(String, Option<String>, i64)> =
        ranked(Column::ActorId, tenant_id, retained_since)
            .column_as(Expr::col(Column::ActorName).max(), "name")
            .column_as(Expr::col(Column::Id).count(), "count")
            .into_tuple()
            .all(db)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, count)| ActorFacet { id, name, count })
        .collect())
}

/// The statements [`action_facets`] and [`actor_facets`] run, for `EXPLAIN`
/// and raw-SQL baselines.
pub fn facet_statements(
    backend: sea_orm::DbBackend,
    tenant_id: Uuid,
    filter: &crate::store::events::EventFilter,
) -> Vec<sea_orm::Statement> {
    use sea_orm::QueryTrait;
    let since = filter.retained_since;
    vec![
        ranked(Column::Action, tenant_id, since)
            .column_as(Expr::col(Column::Id).count(), "count")
            .build(backend),
        ranked(Column::ActorId, tenant_id, since)
            .column_as(Expr::col(Column::ActorName).max(), "name")
            .column_as(Expr::col(Column::Id).count(), "count")
            .build(backend),
    ]
}
