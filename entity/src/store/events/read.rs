//! Reading events: one by id, and keyset pages in `(occurred_at, id)` order.
//!
//! Pages never use OFFSET: a page starts strictly after a [`Position`] and walks
//! the `(tenant_id, occurred_at, id)` index, so page 10,000 costs what page 1 costs.

use chrono::{DateTime, Utc};
use entity::audit_events::{self, Column};
use futures::TryStreamExt;
use sea_orm::sea_query::{Asterisk, Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IdenStatic, Iterable, Order, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select, Statement, StreamTrait,
};
use uuid::Uuid;

use super::EventFilter;
use crate::store::{ResponseBudget, StoreError, dialect};

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

/// A page's rows, in the order walked, and where the read stopped short if
/// it did.
#[derive(Debug, Default)]
pub struct PageRows {
    pub rows: Vec<audit_events::Model>,
    /// Set when the read checked as many events as one page may
    /// ([`super::search`]) before it found a page's worth: `rows` are every
    /// match up to this position (an event it checked, matching or not), and
    /// the events past it were not checked. The next page starts after it.
    pub resume_at: Option<Position>,
}

impl PageRows {
    pub fn complete(rows: Vec<audit_events::Model>) -> Self {
        Self {
            rows,
            resume_at: None,
        }
    }
}

/// How a page's statement finds its rows ([`page_statement`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageScan<'a> {
    /// Walk the best index for the filter in page order, checking everything
    /// (`search` included) on the way, and stop after the page.
    Ordered,
    /// Take at most the first `rows` events that the filter without `search`
    /// selects in page order, then keep those matching `search`.
    Window { rows: u64 },
    /// Only these candidates of the search index for `search` (listed
    /// beforehand, [`dialect::search_candidates`]), then every check.
    Indexed(&'a dialect::SearchCandidates),
}

/// Events of the page in the order walked (newest first for `Older`).
///
/// Rows are streamed and each is charged to `budget` (its stored size) as it
/// arrives, so a page that does not fit stops at the first row over it rather
/// than after all of them were loaded. A `search` page is planned by
/// [`super::search::page`].
pub async fn page(
    db: &(impl ConnectionTrait + StreamTrait),
    tenant_id: Uuid,
    filter: &EventFilter,
    page: &Page,
    budget: &ResponseBudget,
) -> Result<PageRows, StoreError> {
    match filter.search.as_deref() {
        Some(term) => super::search::page(db, tenant_id, filter, page, budget, term).await,
        None => {
            let backend = ConnectionTrait::get_database_backend(db);
            let statement = page_statement(backend, tenant_id, filter, page, PageScan::Ordered);
            Ok(PageRows::complete(fetch(db, statement, budget).await?))
        }
    }
}

/// The statement of one page read, exactly as [`page`] runs it (tests
/// `EXPLAIN` it).
pub fn page_statement(
    backend: DbBackend,
    tenant_id: Uuid,
    filter: &EventFilter,
    page: &Page,
    scan: PageScan<'_>,
) -> Statement {
    match (scan, filter.search.as_deref()) {
        (PageScan::Window { rows }, Some(_)) => {
            let window = window(keyset(page), backend, tenant_id, filter, page, rows);
            let mut outer = Query::select();
            outer
                .column(Asterisk)
                .from_subquery(window, audit_events::Entity)
                .cond_where(filter.search_condition(backend))
                .limit(page.limit);
            for (column, order) in order_by(page.direction) {
                outer.order_by((audit_events::Entity, column), order);
            }
            backend.build(&outer)
        }
        (PageScan::Indexed(candidates), Some(_)) => {
            let query = keyset(page)
                .filter(filter.condition(backend, tenant_id))
                .filter(candidates.condition())
                .limit(page.limit);
            ordered(query, page.direction).build(backend)
        }
        _ => {
            let query = keyset(page)
                .filter(filter.condition(backend, tenant_id))
                .limit(page.limit);
            ordered(query, page.direction).build(backend)
        }
    }
}

/// The position of the `rows`-th event that `filter` without `search`
/// selects in page order, if there are that many: where a
/// [`PageScan::Window`] of `rows` ended, or `None` when it saw them all.
pub fn window_end_statement(
    backend: DbBackend,
    tenant_id: Uuid,
    filter: &EventFilter,
    page: &Page,
    rows: u64,
) -> Statement {
    let keys = keyset(page)
        .select_only()
        .column(Column::OccurredAt)
        .column(Column::Id);
    let window = window(keys, backend, tenant_id, filter, page, rows);
    let mut outer = Query::select();
    outer
        .column(Column::OccurredAt)
        .column(Column::Id)
        .expr_as(Expr::cust("count(*) OVER ()"), WINDOW_ROWS)
        .from_subquery(window, WINDOW)
        .limit(1);
    // The window's last row in page order is the first in the opposite one.
    for (column, order) in order_by(page.direction) {
        let reversed = match order {
            Order::Desc => Order::Asc,
            _ => Order::Desc,
        };
        outer.order_by(column, reversed);
    }
    backend.build(&outer)
}

/// The first `rows` events (columns as `query` selects them) that `filter`
/// without `search` selects in page order.
fn window(
    query: Select<audit_events::Entity>,
    backend: DbBackend,
    tenant_id: Uuid,
    filter: &EventFilter,
    page: &Page,
    rows: u64,
) -> sea_orm::sea_query::SelectStatement {
    let query = query
        .filter(filter.condition_without_search(backend, tenant_id))
        .limit(rows);
    ordered(query, page.direction).into_query()
}

const WINDOW: &str = "search_window";
const WINDOW_ROWS: &str = "window_rows";

/// Runs [`window_end_statement`]; `Some` only for a full window.
pub async fn window_end(
    db: &impl ConnectionTrait,
    statement: Statement,
    rows: u64,
) -> Result<Option<Position>, StoreError> {
    let Some(row) = db.query_one_raw(statement).await? else {
        return Ok(None);
    };
    let seen: i64 = row.try_get("", WINDOW_ROWS)?;
    if u64::try_from(seen).unwrap_or(0) < rows {
        return Ok(None);
    }
    Ok(Some(Position {
        occurred_at: row.try_get("", Column::OccurredAt.as_str())?,
        id: row.try_get("", Column::Id.as_str())?,
    }))
}

/// Streams `statement`'s events, charging each to `budget` as it arrives.
pub(super) async fn fetch(
    db: &(impl ConnectionTrait + StreamTrait),
    statement: Statement,
    budget: &ResponseBudget,
) -> Result<Vec<audit_events::Model>, StoreError> {
    let mut rows = Vec::new();
    let mut stream = audit_events::Entity::find()
        .from_raw_sql(statement)
        .stream(db)
        .await?;
    while let Some(row) = stream.try_next().await? {
        budget.charge(stored_size(&row))?;
        rows.push(row);
    }
    Ok(rows)
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

/// Every event of the tenant between the page's `start` and `stop`, with the
/// page's columns.
fn keyset(page: &Page) -> Select<audit_events::Entity> {
    let mut query = select_columns(page.columns);
    let key = || Expr::tuple([Expr::col(Column::OccurredAt), Expr::col(Column::Id)]);
    let at = |p: Position| Expr::tuple([Expr::val(p.occurred_at), Expr::val(p.id)]);
    let (after_start, before_stop) = match page.direction {
        PageDirection::Older => (key_lt as KeyCmp, key_gt as KeyCmp),
        PageDirection::Newer => (key_gt as KeyCmp, key_lt as KeyCmp),
    };
    if let Some(start) = page.start {
        query = query.filter(after_start(key(), at(start)));
    }
    if let Some(stop) = page.stop {
        query = query.filter(before_stop(key(), at(stop)));
    }
    query
}

type KeyCmp = fn(Expr, Expr) -> Expr;

fn key_lt(key: Expr, at: Expr) -> Expr {
    key.lt(at)
}

fn key_gt(key: Expr, at: Expr) -> Expr {
    key.gt(at)
}

/// The page's order: newest first for `Older`, oldest first for `Newer`.
fn order_by(direction: PageDirection) -> [(Column, Order); 2] {
    let order = match direction {
        PageDirection::Older => Order::Desc,
        PageDirection::Newer => Order::Asc,
    };
    [(Column::OccurredAt, order.clone()), (Column::Id, order)]
}

fn ordered(
    mut query: Select<audit_events::Entity>,
    direction: PageDirection,
) -> Select<audit_events::Entity> {
    for (column, order) in order_by(direction) {
        query = query.order_by(column, order);
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
