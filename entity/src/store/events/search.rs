//! Pages with `search`: which plan reads them, so that every page costs a
//! bounded amount of work, whatever the term and the rest of the filter.
//!
//! 1. A [`PageScan::Window`] checks the term on the newest events (in page
//!    order) that the rest of the filter selects: first [`FIRST_WINDOW`] of
//!    them. A common term fills the page there, walking the usual keyset index.
//! 2. If that window holds some matches but not a page, the term is neither
//!    common nor rare: the window widens to [`INDEX_AFTER`] events (checked
//!    from the start again: simpler than resuming, and the first window is a
//!    fifth of the second).
//! 3. If the page is still not full and the window was (more events remain),
//!    a term the search index serves ([`dialect::search_uses_index`]) and
//!    that fewer than [`COMMON_IN_NEWEST`] of the newest [`FIRST_WINDOW`]
//!    events of the whole log hold is looked up in the index: at most [`CANDIDATE_LIMIT`] candidates. If
//!    there are no more than that (a rare or absent term), the page continues
//!    past the window with [`PageScan::Indexed`]: those candidates, checked
//!    and ordered ([`narrow_candidates`]). A term without a match in the
//!    first window goes there at once: it is rare in the newest events, so
//!    likely in the log.
//! 4. A term common in the log (in its newest events, or with more
//!    candidates than that) but rare in the events this filter selects
//!    (`actionPrefix: "user."` with the `"entry"` of every `entry.*` action):
//!    no index narrows the two together, and reading on in order costs about
//!    a millisecond per 100 events the filter passes over (measured on a
//!    10M-event tenant, where `user.*` is one event in ten): the page ends
//!    with its window.
//! 5. A term the index cannot serve (under 3 characters; on PostgreSQL also
//!    one without 3 letters or digits in a row) is checked on at most
//!    [`SHORT_TERM_SCAN`] events.
//!
//! When the last step does not settle the page (it is not full and more
//! events remain), the page stops there: it holds every match up to the last
//! event checked, and [`PageRows::resume_at`] is that event, where the next
//! page starts (the API's `pageInfo` says `hasNextPage` with that cursor). A
//! page may then hold fewer rows than asked, or none: never a page that
//! silently misses an event, and never an unbounded scan.
//!
//! Either way the rows are exactly those of one ordered `WHERE`: the window's
//! matches are the first ones in page order, and what follows starts
//! strictly after the window's last event.

use entity::audit_events;
use sea_orm::{ConnectionTrait, DbBackend, Statement, StreamTrait};
use uuid::Uuid;

use super::EventFilter;
use super::read::{
    Columns, Page, PageDirection, PageRows, PageScan, Position, fetch, page_statement, window_end,
    window_end_statement,
};
use crate::store::dialect::{self, SearchCandidates};
use crate::store::{ResponseBudget, StoreError};

/// How many events a page checks in order first: a term in one event of 40
/// fills a 50-event page there; for a term with no match among them (rare or
/// absent) it is all the ordered work before the index (about a fifth of
/// [`INDEX_AFTER`]'s cost).
pub const FIRST_WINDOW: u64 = 2_000;

/// How many events a page checks in order, at most, before it asks the
/// search index when the first window held matches: enough that a term in
/// one event of 200 fills a 50-event page without it (the index's cost grows
/// with the term's matches in the whole log), few enough to cost about 20 ms
/// (measured on PostgreSQL, 2M-event tenant).
pub const INDEX_AFTER: u64 = 10_000;

/// The most candidates a page takes from the search index: a term with more
/// is read in order instead (step 4).
pub const CANDIDATE_LIMIT: u64 = 10_000;

/// The windows a page with a term the index serves checks in turn.
const INDEXED_WINDOWS: [u64; 2] = [FIRST_WINDOW, INDEX_AFTER];

/// How many events a term the index cannot serve is checked against, at most,
/// per page.
pub const SHORT_TERM_SCAN: u64 = 20_000;

/// The windows a page with `term` checks in order (see the module docs).
pub fn windows(backend: DbBackend, term: &str) -> &'static [u64] {
    if dialect::search_uses_index(backend, term) {
        &INDEXED_WINDOWS
    } else {
        &[SHORT_TERM_SCAN]
    }
}

/// Whether a page that found `found` matches, not a page, in a window that is
/// not the last of [`windows`] checks the next one rather than ask the index.
pub fn widens(found: usize) -> bool {
    found > 0
}

/// The page of `filter` (whose `search` is `term`), planned as above.
pub(super) async fn page(
    db: &(impl ConnectionTrait + StreamTrait),
    tenant_id: Uuid,
    filter: &EventFilter,
    page: &Page,
    budget: &ResponseBudget,
    term: &str,
) -> Result<PageRows, StoreError> {
    Plan {
        db,
        tenant_id,
        filter,
        budget,
        trace: None,
    }
    .run(page, term)
    .await
}

/// [`page`], and the statements it ran, in order (the bench times them as
/// raw SQL; the candidate list is inlined in the indexed read).
pub async fn page_traced(
    db: &(impl ConnectionTrait + StreamTrait),
    tenant_id: Uuid,
    filter: &EventFilter,
    page: &Page,
    term: &str,
) -> Result<(PageRows, Vec<Statement>), StoreError> {
    let budget = ResponseBudget::new(usize::MAX);
    let mut trace = Vec::new();
    let rows = Plan {
        db,
        tenant_id,
        filter,
        budget: &budget,
        trace: Some(&mut trace),
    }
    .run(page, term)
    .await?;
    Ok((rows, trace))
}

struct Plan<'a, C> {
    db: &'a C,
    tenant_id: Uuid,
    filter: &'a EventFilter,
    budget: &'a ResponseBudget,
    trace: Option<&'a mut Vec<Statement>>,
}

impl<C: ConnectionTrait + StreamTrait> Plan<'_, C> {
    async fn run(mut self, page: &Page, term: &str) -> Result<PageRows, StoreError> {
        let backend = ConnectionTrait::get_database_backend(self.db);
        let indexed = dialect::search_uses_index(backend, term);
        let windows = windows(backend, term);
        for (step, &window) in windows.iter().enumerate() {
            let mut rows = self.window(page, window).await?;
            if rows.len() as u64 >= page.limit {
                return Ok(PageRows::complete(rows));
            }
            if step + 1 < windows.len() && widens(rows.len()) {
                // These rows were charged to the budget and are read again: at
                // most a page's worth, counted twice.
                continue;
            }
            let Some(end) = self.window_end(page, window).await? else {
                return Ok(PageRows::complete(rows));
            };
            if !indexed {
                return Ok(stopped(rows, end));
            }
            let rest = rest_of(page, end, rows.len());
            let mut trace = self.trace.as_deref_mut();
            let candidates =
                narrow_candidates(self.db, self.tenant_id, self.filter, term, &mut trace).await?;
            if let Some(candidates) = candidates {
                let scan = PageScan::Indexed(&candidates);
                let statement = page_statement(backend, self.tenant_id, self.filter, &rest, scan);
                rows.extend(self.fetch(statement).await?);
                return Ok(PageRows::complete(rows));
            }
            // The index does not narrow the term (step 4): the page ends
            // with its window.
            return Ok(stopped(rows, end));
        }
        Ok(PageRows::default())
    }

    /// The matches among the first `rows` events of `page` without `search`.
    async fn window(
        &mut self,
        page: &Page,
        rows: u64,
    ) -> Result<Vec<audit_events::Model>, StoreError> {
        let backend = ConnectionTrait::get_database_backend(self.db);
        let scan = PageScan::Window { rows };
        let statement = page_statement(backend, self.tenant_id, self.filter, page, scan);
        self.fetch(statement).await
    }

    async fn window_end(&mut self, page: &Page, rows: u64) -> Result<Option<Position>, StoreError> {
        let backend = ConnectionTrait::get_database_backend(self.db);
        let statement = window_end_statement(backend, self.tenant_id, self.filter, page, rows);
        self.record(&statement);
        window_end(self.db, statement, rows).await
    }

    async fn fetch(
        &mut self,
        statement: Statement,
    ) -> Result<Vec<audit_events::Model>, StoreError> {
        self.record(&statement);
        fetch(self.db, statement, self.budget).await
    }

    fn record(&mut self, statement: &Statement) {
        record(&mut self.trace.as_deref_mut(), statement);
    }
}

pub(super) fn record(trace: &mut Option<&mut Vec<Statement>>, statement: &Statement) {
    if let Some(trace) = trace {
        trace.push(statement.clone());
    }
}

/// A term in at least this many of the newest [`FIRST_WINDOW`] events of the
/// whole log (one in 400) is common: in a log of millions, its candidates are
/// far more than [`CANDIDATE_LIMIT`], and even listing that many costs more
/// than reading in order.
pub const COMMON_IN_NEWEST: u64 = 5;

/// The search index's candidates for `term` in the tenant's retained log,
/// when the index narrows it: `None` for a term it cannot serve, a common
/// one ([`COMMON_IN_NEWEST`]), or one with more than [`CANDIDATE_LIMIT`].
pub(super) async fn narrow_candidates(
    db: &(impl ConnectionTrait + StreamTrait),
    tenant_id: Uuid,
    filter: &EventFilter,
    term: &str,
    trace: &mut Option<&mut Vec<Statement>>,
) -> Result<Option<SearchCandidates>, StoreError> {
    let backend = ConnectionTrait::get_database_backend(db);
    if !dialect::search_uses_index(backend, term) {
        return Ok(None);
    }
    let whole_log = EventFilter {
        search: Some(term.to_owned()),
        retained_since: filter.retained_since,
        ..EventFilter::default()
    };
    let newest = Page {
        direction: PageDirection::Older,
        start: None,
        stop: None,
        limit: COMMON_IN_NEWEST,
        columns: Columns {
            payload: false,
            context: false,
        },
    };
    let scan = PageScan::Window { rows: FIRST_WINDOW };
    let statement = page_statement(backend, tenant_id, &whole_log, &newest, scan);
    record(trace, &statement);
    if db.query_all_raw(statement).await?.len() as u64 >= COMMON_IN_NEWEST {
        return Ok(None);
    }
    let limit = CANDIDATE_LIMIT.saturating_add(1);
    let statement = dialect::search_candidates(backend, tenant_id, term, limit);
    record(trace, &statement);
    let candidates = dialect::read_search_candidates(db, statement).await?;
    Ok((candidates.len() as u64 <= CANDIDATE_LIMIT).then_some(candidates))
}

/// What remains of `page` after `found` rows up to `end`.
fn rest_of(page: &Page, end: Position, found: usize) -> Page {
    Page {
        start: Some(end),
        limit: page.limit - found as u64,
        ..page.clone()
    }
}

/// A page that checked every event up to `end` and found `rows`.
fn stopped(rows: Vec<audit_events::Model>, end: Position) -> PageRows {
    PageRows {
        rows,
        resume_at: Some(end),
    }
}
