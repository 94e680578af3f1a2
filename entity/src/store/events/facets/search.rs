//! Facets of a filter with `search`, planned like a `search` page
//! (`store::events::search`) so that a common, a rare and an absent term all
//! cost a bounded amount of work:
//!
//! 1. the newest [`WINDOW`] events the rest of the filter selects, in page
//!    order, are checked for the term and the newest matches counted (as
//!    [`super::sample`] counts): when they hold more than the bound, or the
//!    window held every event the rest selects, that is the answer;
//! 2. otherwise, when the search index narrows the term (a rare one:
//!    `store::events::search::narrow_candidates`), the matching candidates are
//!    counted instead, as [`super::sample`] would;
//! 3. otherwise (a term common in the log but rare in these events, or one
//!    the index cannot serve) the window's counts stand, not exact, counted
//!    since the window's oldest event: every match after it was counted.

use sea_orm::{ConnectionTrait, Statement, StreamTrait};
use uuid::Uuid;

use super::Facets;
use super::sample::{self, Source};
use crate::store::StoreError;
use crate::store::events::read::{Columns, Page, PageDirection, window_end, window_end_statement};
use crate::store::events::search::{narrow_candidates, record};
use crate::store::events::{EventFilter, INDEX_AFTER};

/// How many of the newest events the rest of the filter selects are checked
/// for the term in order: what a search page checks at most before it asks
/// the index.
pub(super) const WINDOW: u64 = INDEX_AFTER;

/// The facets of `filter`, whose `search` is `term`; `trace` gets each
/// statement run.
pub(super) async fn facets(
    db: &(impl ConnectionTrait + StreamTrait),
    tenant_id: Uuid,
    filter: &EventFilter,
    bound: u64,
    term: &str,
    mut trace: Option<&mut Vec<Statement>>,
) -> Result<Facets, StoreError> {
    let backend = ConnectionTrait::get_database_backend(db);
    let statement = sample::statement(backend, tenant_id, filter, bound, Source::Window(WINDOW));
    record(&mut trace, &statement);
    let window = sample::count(db, statement).await?;
    if !window.coverage.exact {
        return Ok(window);
    }
    let end = window_end_statement(backend, tenant_id, filter, &newest_first(), WINDOW);
    record(&mut trace, &end);
    let Some(end) = window_end(db, end, WINDOW).await? else {
        return Ok(window);
    };
    if let Some(candidates) = narrow_candidates(db, tenant_id, filter, term, &mut trace).await? {
        let source = Source::Candidates(&candidates);
        let statement = sample::statement(backend, tenant_id, filter, bound, source);
        record(&mut trace, &statement);
        return sample::count(db, statement).await;
    }
    let mut facets = window;
    facets.coverage.exact = false;
    facets.coverage.oldest = Some(end.occurred_at);
    Ok(facets)
}

/// The order `auditEvents` lists, and the facets count, events in.
fn newest_first() -> Page {
    Page {
        direction: PageDirection::Older,
        start: None,
        stop: None,
        limit: 1,
        columns: Columns::ALL,
    }
}
