//! Reading events: one by id, and keyset pages in `(occurred_at, id)` order.
//!
//! Pages never use OFFSET: a page starts strictly after a [`Position`] and walks
//! the `(tenant_id, occurred_at, id)` index, so page 10,000 costs what page 1 costs.

use chrono::{DateTime, Utc};
use entity::audit_events::{self, Column};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::EventFilter;
use crate::store::StoreError;

/// A place in the newest-first order of a tenant's log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub occurred_at: DateTime<Utc>,
    pub id: Uuid,
}

impl Position {
    pub fn of(event: &audit_events::Model) -> Self {
        Self {
            occurred_at: event.occurred_at,
            id: event.id,
        }
    }
}

/// Which way a page walks the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageDirection {
    /// From the newest towards the oldest (`first`/`after`).
    Older,
    /// From the oldest towards the newest (`last`/`before`).
    Newer,
}

/// One page request. `start` is exclusive and lies on the side the page walks
/// away from; `stop` is exclusive and lies on the side it walks towards.
#[derive(Clone, Debug)]
pub struct Page {
    pub direction: PageDirection,
    pub start: Option<Position>,
    pub stop: Option<Position>,
    pub limit: u64,
}

/// Events of the page in the order walked (newest first for `Older`).
pub async fn page(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    filter: &EventFilter,
    page: &Page,
) -> Result<Vec<audit_events::Model>, StoreError> {
    let mut query = audit_events::Entity::find()
        .filter(filter.condition(db.get_database_backend(), tenant_id))
        .limit(page.limit);
    let key = || Expr::tuple([Expr::col(Column::OccurredAt), Expr::col(Column::Id)]);
    let at = |p: Position| Expr::tuple([Expr::val(p.occurred_at), Expr::val(p.id)]);
    match page.direction {
        PageDirection::Older => {
            if let Some(start) = page.start {
                query = query.filter(key().lt(at(start)));
            }
            if let Some(stop) = page.stop {
                query = query.filter(key().gt(at(stop)));
            }
            query = query
                .order_by_desc(Column::OccurredAt)
                .order_by_desc(Column::Id);
        }
        PageDirection::Newer => {
            if let Some(start) = page.start {
                query = query.filter(key().gt(at(start)));
            }
            if let Some(stop) = page.stop {
                query = query.filter(key().lt(at(stop)));
            }
            query = query
                .order_by_asc(Column::OccurredAt)
                .order_by_asc(Column::Id);
        }
    }
    Ok(query.all(db).await?)
}

/// One event of the tenant; `None` also when it occurred before `retained_since`
/// (expired, whether or not the purge has deleted it yet).
pub async fn find_by_id(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    id: Uuid,
    retained_since: Option<DateTime<Utc>>,
) -> Result<Option<audit_events::Model>, StoreError> {
    let mut query = audit_events::Entity::find()
        .filter(Column::TenantId.eq(tenant_id))
        .filter(Column::Id.eq(id));
    if let Some(since) = retained_since {
        query = query.filter(Column::OccurredAt.gte(since));
    }
    Ok(query.one(db).await?)
}
