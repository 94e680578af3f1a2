//! Reading events: one by id, and keyset pages in `(occurred_at, id)` order.
//!
//! Pages never use OFFSET: a page starts strictly after a [`Position`] and walks
//! the `(tenant_id, occurred_at, id)` index, so page 10,000 costs what page 1 costs.

use chrono::{DateTime, Utc};
use entity::audit_events::{self, Column};
use futures::TryStreamExt;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IdenStatic, Iterable, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select, Statement, StreamTrait,
};
use uuid::Uuid;

use super::EventFilter;
use crate::store::ResponseBudget;
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
    /// The columns the caller will show; the others are read as NULL.
    pub columns: Columns,
}

/// The optional columns a page reads. A list view that shows neither the
/// payload nor the request context asks for neither, and the database neither
/// sends nor the driver decodes them (a payload is the largest part of a row).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Columns {
    pub payload: bool,
    /// `ip_address`, `user_agent`, `request_id`.
    pub context: bool,
}

impl Columns {
    pub const ALL: Columns = Columns {
        payload: true,
        context: true,
    };

    fn omits(self, column: Column) -> bool {
        match column {
            Column::Payload => !self.payload,
            Column::IpAddress | Column::UserAgent | Column::RequestId => !self.context,
            _ => false,
        }
    }
}

/// Events of the page in the order walked (newest first for `Older`).
///
/// Rows are streamed and each is charged to `budget` (its stored size) as it
/// arrives, so a page that does not fit stops at the first row over it rather
/// than after all of them were loaded.
pub async fn page(
    db: &(impl ConnectionTrait + StreamTrait),
    tenant_id: Uuid,
    filter: &EventFilter,
    page: &Page,
    budget: &ResponseBudget,
) -> Result<Vec<audit_events::Model>, StoreError> {
    let backend = ConnectionTrait::get_database_backend(db);
    let query = page_query(backend, tenant_id, filter, page);
    let mut rows = Vec::new();
    let mut stream = query.stream(db).await?;
    while let Some(row) = stream.try_next().await? {
        budget.charge(stored_size(&row))?;
        rows.push(row);
    }
    Ok(rows)
}

/// The statement [`page`] runs, for `EXPLAIN` and for raw-SQL baselines.
pub fn page_statement(
    backend: DbBackend,
    tenant_id: Uuid,
    filter: &EventFilter,
    page: &Page,
) -> Statement {
    page_query(backend, tenant_id, filter, page).build(backend)
}

fn page_query(
    backend: DbBackend,
    tenant_id: Uuid,
    filter: &EventFilter,
    page: &Page,
) -> Select<audit_events::Entity> {
    let mut query = select_columns(page.columns)
        .filter(filter.condition(backend, tenant_id))
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
            query
                .order_by_desc(Column::OccurredAt)
                .order_by_desc(Column::Id)
        }
        PageDirection::Newer => {
            if let Some(start) = page.start {
                query = query.filter(key().gt(at(start)));
            }
            if let Some(stop) = page.stop {
                query = query.filter(key().lt(at(stop)));
            }
            query
                .order_by_asc(Column::OccurredAt)
                .order_by_asc(Column::Id)
        }
    }
}

/// Every column of `audit_events`, those `columns` omits as `NULL`.
fn select_columns(columns: Columns) -> Select<audit_events::Entity> {
    let query = audit_events::Entity::find();
    if columns == Columns::ALL {
        return query;
    }
    let mut query = query.select_only();
    for column in Column::iter() {
        query = if columns.omits(column) {
            query.expr_as(Expr::cust("NULL"), column.as_str())
        } else {
            query.column(column)
        };
    }
    query
}

/// About the bytes `row` takes in a response: its strings and its payload as
/// JSON, plus a fixed allowance for ids, timestamps and field names.
pub fn stored_size(row: &audit_events::Model) -> usize {
    const FIXED: usize = 512;
    let text = |value: &Option<String>| value.as_ref().map_or(0, String::len);
    let payload = row.payload.as_ref().map_or(0, json_size);
    FIXED
        + row.action.len()
        + row.actor_id.len()
        + text(&row.actor_name)
        + text(&row.actor_email)
        + text(&row.target_type)
        + text(&row.target_id)
        + text(&row.target_name)
        + text(&row.user_agent)
        + text(&row.request_id)
        + text(&row.ip_address)
        + payload
}

/// The bytes `value` takes as JSON, counted without building the text.
pub fn json_size(value: &serde_json::Value) -> usize {
    let mut counter = ByteCounter(0);
    // Writing to a counter cannot fail; a failure would count what was written.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// An `io::Write` that only counts.
struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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
