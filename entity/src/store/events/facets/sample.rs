//! Facets of the events matching a filter, counted over the newest matches.
//!
//! One statement: the matching events in the page order (`occurred_at DESC,
//! id DESC`, the order the indexes serve `auditEvents` in), numbered, at most
//! `bound + 1` of them; grouped by action and actor id, with the `bound + 1`st
//! row (if any) in a group of its own that is not counted but tells that more
//! events match than were counted. Its cost is that of reading `bound + 1`
//! matches, whatever the size of the log.

use chrono::{DateTime, Utc};
use entity::audit_events::{self, Column};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement, WindowStatement};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use super::{FacetCoverage, Facets, Tally};
use crate::store::StoreError;
use crate::store::dialect::{self, SearchCandidates};
use crate::store::events::EventFilter;

/// Which events a count reads.
#[derive(Clone, Copy)]
pub(super) enum Source<'a> {
    /// Every event matching the filter.
    Matching,
    /// The newest this many events the filter without `search` selects,
    /// then those matching `search` among them.
    Window(u64),
    /// The events matching the filter among these search-index candidates.
    Candidates(&'a SearchCandidates),
}

/// Counts what a [`statement`] selects.
pub(super) async fn count(
    db: &impl ConnectionTrait,
    grouped: Statement,
) -> Result<Facets, StoreError> {
    let mut actions = Tally::default();
    let mut actors = Tally::default();
    let mut coverage = FacetCoverage {
        exact: true,
        counted: 0,
        oldest: None,
    };
    for row in db.query_all_raw(grouped).await? {
        if row.try_get_by_index::<bool>(5)? {
            coverage.exact = false;
            continue;
        }
        let action: String = row.try_get_by_index(0)?;
        let count: i64 = row.try_get_by_index(3)?;
        let oldest: DateTime<Utc> = row.try_get_by_index(4)?;
        actions.add(action, None, count);
        actors.add(row.try_get_by_index(1)?, row.try_get_by_index(2)?, count);
        coverage.counted += count;
        coverage.oldest = Some(
            coverage
                .oldest
                .map_or(oldest, |seen| Ord::min(seen, oldest)),
        );
    }
    Ok(Facets {
        actions: actions.values(),
        actors: actors.actors(),
        coverage,
    })
}

/// The counts of the newest `bound` events of `source`, and whether more exist.
pub(super) fn statement(
    backend: DbBackend,
    tenant_id: Uuid,
    filter: &EventFilter,
    bound: u64,
    source: Source<'_>,
) -> Statement {
    backend.build(&grouped_query(backend, tenant_id, filter, bound, source))
}

/// `SELECT action, actor_id, MAX(name), COUNT(*), MIN(occurred_at), beyond
/// FROM (the newest bound + 1 matches, numbered) GROUP BY action, actor_id, beyond`.
fn grouped_query(
    backend: DbBackend,
    tenant_id: Uuid,
    filter: &EventFilter,
    bound: u64,
    source: Source<'_>,
) -> SelectStatement {
    let position = Alias::new("position");
    let beyond = Alias::new("beyond");
    let limit = i64::try_from(bound).unwrap_or(i64::MAX);
    let mut newest = Query::select();
    newest
        .columns([
            Column::Action,
            Column::ActorId,
            Column::ActorName,
            Column::OccurredAt,
        ])
        .expr_window_as(
            Expr::cust("ROW_NUMBER()"),
            WindowStatement::new()
                .order_by(Column::OccurredAt, Order::Desc)
                .order_by(Column::Id, Order::Desc)
                .to_owned(),
            position.clone(),
        );
    match source {
        Source::Matching => newest
            .from(audit_events::Entity)
            .cond_where(filter.condition(backend, tenant_id)),
        Source::Window(rows) => newest
            .from_subquery(
                window(backend, tenant_id, filter, rows),
                audit_events::Entity,
            )
            .cond_where(filter.search_condition(backend)),
        Source::Candidates(candidates) => newest
            .from(audit_events::Entity)
            .cond_where(filter.condition(backend, tenant_id))
            .and_where(candidates.condition()),
    };
    newest
        .order_by(Column::OccurredAt, Order::Desc)
        .order_by(Column::Id, Order::Desc)
        .limit(bound.saturating_add(1));
    let flagged = Query::select()
        .columns([
            Column::Action,
            Column::ActorId,
            Column::ActorName,
            Column::OccurredAt,
        ])
        .expr_as(Expr::col(position).gt(limit), beyond.clone())
        .from_subquery(newest, Alias::new("newest"))
        .to_owned();
    Query::select()
        .columns([Column::Action, Column::ActorId])
        .expr(dialect::byte_ordered(backend, Column::ActorName).max())
        .expr(Expr::col(Column::Action).count())
        .expr(Expr::col(Column::OccurredAt).min())
        .column(beyond.clone())
        .from_subquery(flagged, Alias::new("flagged"))
        .group_by_col(Column::Action)
        .group_by_col(Column::ActorId)
        .group_by_col(beyond)
        .to_owned()
}

/// The newest `rows` events `filter` without `search` selects, with the
/// columns the counts and the search condition read.
fn window(backend: DbBackend, tenant_id: Uuid, filter: &EventFilter, rows: u64) -> SelectStatement {
    Query::select()
        .columns([
            Column::Id,
            Column::Action,
            Column::ActorId,
            Column::ActorName,
            Column::ActorEmail,
            Column::TargetName,
            Column::OccurredAt,
        ])
        .from(audit_events::Entity)
        .cond_where(filter.condition_without_search(backend, tenant_id))
        .order_by(Column::OccurredAt, Order::Desc)
        .order_by(Column::Id, Order::Desc)
        .limit(rows)
        .to_owned()
}
