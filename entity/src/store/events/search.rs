//! Pages with `search`: which plan reads them, so that a common term, a rare
//! one and an absent one all answer from a bounded amount of work.
//!
//! 1. A [`PageScan::Window`] checks the term on the newest events (in page
//!    order) that the rest of the filter selects: first [`FIRST_WINDOW`] of
//!    them. A common term fills the page there, walking the usual keyset index.
//! 2. If that window holds some matches but not a page, the term is neither
//!    common nor rare: the window widens to [`INDEX_AFTER`] events (checked
//!    from the start again: simpler than resuming, and the first window is a
//!    fifth of the second).
//! 3. If the page is still not full and the window was (more events remain),
//!    a term the search index serves ([`dialect::search_uses_index`])
//!    continues past the window with [`PageScan::Indexed`]: the trigram
//!    index's candidates (few for a rare term, none for an absent one),
//!    checked and ordered. A term without a match in the first window goes
//!    there at once: it is rare in the newest events, so likely in the log,
//!    and the index answers it from its few candidates.
//! 4. A term the index cannot serve (under 3 characters; on PostgreSQL also
//!    one without 3 letters or digits in a row) is checked on at most
//!    [`SHORT_TERM_SCAN`] events instead. When that does not settle the page,
//!    the read fails with [`StoreError::SearchScanLimit`] rather than return
//!    a page that silently misses events.
//!
//! Either way the rows are exactly those of one ordered `WHERE`: the window's
//! matches are the first ones in page order, and the indexed read starts
//! strictly after the window's last event.

use entity::audit_events;
use sea_orm::{ConnectionTrait, DbBackend, StreamTrait};
use uuid::Uuid;

use super::EventFilter;
use super::read::{Page, PageScan, fetch, page_statement, window_end, window_end_statement};
use crate::store::{ResponseBudget, StoreError, dialect};

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

/// The windows a page with a term the index serves checks in turn.
const INDEXED_WINDOWS: [u64; 2] = [FIRST_WINDOW, INDEX_AFTER];

/// How many events a term the index cannot serve is checked against, at most.
pub const SHORT_TERM_SCAN: u64 = 50_000;

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
) -> Result<Vec<audit_events::Model>, StoreError> {
    let backend = ConnectionTrait::get_database_backend(db);
    let indexed = dialect::search_uses_index(backend, term);
    let windows = windows(backend, term);
    for (step, &window) in windows.iter().enumerate() {
        let scan = PageScan::Window { rows: window };
        let mut rows = fetch(
            db,
            page_statement(backend, tenant_id, filter, page, scan),
            budget,
        )
        .await?;
        let found = rows.len() as u64;
        if found >= page.limit {
            return Ok(rows);
        }
        if step + 1 < windows.len() && widens(rows.len()) {
            // These rows were charged to the budget and are read again: at
            // most a page's worth, counted twice.
            continue;
        }
        let end_statement = window_end_statement(backend, tenant_id, filter, page, window);
        let Some(end) = window_end(db, end_statement, window).await? else {
            return Ok(rows);
        };
        if !indexed {
            return Err(StoreError::SearchScanLimit { scanned: window });
        }
        let rest = Page {
            start: Some(end),
            limit: page.limit - found,
            ..page.clone()
        };
        let statement = page_statement(backend, tenant_id, filter, &rest, PageScan::Indexed);
        rows.extend(fetch(db, statement, budget).await?);
        return Ok(rows);
    }
    Ok(Vec::new())
}
