//! Facets for filter drop-downs: the distinct actions and actors of a tenant's
//! retained events, with counts, most frequent first (ties in byte order of
//! the value), at most [`MAX_FACET_VALUES`] of each.
//!
//! Two ways to count, chosen by the filter:
//! - no filter ([`rollup`]): exact counts read from the rollup tables the
//!   database maintains (`audit_event_facet_totals`, `audit_event_facet_days`),
//!   less what lies before the retention cutoff and is not purged yet; the log
//!   itself is read only for the cutoff's own day, up to the cutoff;
//! - a filter ([`sample`]): the newest [`FILTERED_FACETS_SCAN`] matching
//!   events, counted in one statement; [`FacetCoverage`] says whether that was
//!   every match. With `search`, planned like a search page ([`search`]).
//!
//! Actor names are the greatest recorded with the id, in byte order: from the
//! rollup, over every event ever stored (a purged event's name may remain);
//! with a filter, over the counted events.

mod rollup;
mod sample;
mod search;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement, StreamTrait};
use uuid::Uuid;

use super::EventFilter;
use crate::store::StoreError;

/// At most this many values per facet, most frequent first.
pub const MAX_FACET_VALUES: u64 = 200;

/// With a filter, at most this many matching events are counted (the newest).
/// Measured on PostgreSQL 15 (a 3M-event tenant, warm cache): 3 to 6 µs per
/// counted event, depending on how many rows the filter skips to find it
/// (`outcome: FAILURE`, one event in ten: 29 ms at 5,000, 59 ms at 10,000;
/// one action of 40 through its index: 14 ms and 37 ms). 5,000 keeps a
/// filtered read inside the 50 ms median goal with room for a loaded server.
pub const FILTERED_FACETS_SCAN: u64 = 5_000;

pub struct ValueFacet {
    pub value: String,
    pub count: i64,
}

pub struct ActorFacet {
    pub id: String,
    pub name: Option<String>,
    pub count: i64,
}

/// Which events the counts cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FacetCoverage {
    /// Every retained event matching the filter was counted.
    pub exact: bool,
    /// How many events were counted.
    pub counted: i64,
    /// Every matching event that occurred after this instant was counted:
    /// the oldest counted event's time, or where a bounded scan stopped
    /// (`None`: nothing counted and nothing scanned short).
    pub oldest: Option<DateTime<Utc>>,
}

pub struct Facets {
    pub actions: Vec<ValueFacet>,
    pub actors: Vec<ActorFacet>,
    pub coverage: FacetCoverage,
}

/// The facets of the tenant's events matching `filter` (its `retained_since`
/// included: nothing expired is ever counted).
pub async fn facets(
    db: &(impl ConnectionTrait + StreamTrait),
    tenant_id: Uuid,
    filter: &EventFilter,
) -> Result<Facets, StoreError> {
    planned(db, tenant_id, filter, None).await
}

/// [`facets`], and the statements it ran, in order (the bench times them as
/// raw SQL).
pub async fn facets_traced(
    db: &(impl ConnectionTrait + StreamTrait),
    tenant_id: Uuid,
    filter: &EventFilter,
) -> Result<(Facets, Vec<Statement>), StoreError> {
    let mut trace = Vec::new();
    let facets = planned(db, tenant_id, filter, Some(&mut trace)).await?;
    Ok((facets, trace))
}

async fn planned(
    db: &(impl ConnectionTrait + StreamTrait),
    tenant_id: Uuid,
    filter: &EventFilter,
    trace: Option<&mut Vec<Statement>>,
) -> Result<Facets, StoreError> {
    let backend = ConnectionTrait::get_database_backend(db);
    if !narrows(filter) {
        if let Some(trace) = trace {
            trace.extend(rollup::statements(
                backend,
                tenant_id,
                filter.retained_since,
            ));
        }
        return rollup::facets(db, tenant_id, filter.retained_since).await;
    }
    if let Some(term) = filter.search.as_deref() {
        return search::facets(db, tenant_id, filter, FILTERED_FACETS_SCAN, term, trace).await;
    }
    let source = sample::Source::Matching;
    let statement = sample::statement(backend, tenant_id, filter, FILTERED_FACETS_SCAN, source);
    if let Some(trace) = trace {
        trace.push(statement.clone());
    }
    sample::count(db, statement).await
}

/// The statements an unfiltered read of the tenant's facets runs, built for
/// `backend` (so tests can `EXPLAIN` exactly what runs).
pub fn rollup_statements(
    backend: DbBackend,
    tenant_id: Uuid,
    retained_since: Option<DateTime<Utc>>,
) -> Vec<Statement> {
    rollup::statements(backend, tenant_id, retained_since)
}

/// Whether any client field of `filter` is set (`retained_since` is not one).
/// Destructured in full, so a new filter field cannot be forgotten here.
fn narrows(filter: &EventFilter) -> bool {
    let EventFilter {
        actions,
        action_prefix,
        actor_ids,
        actor_type,
        target_type,
        target_id,
        outcome,
        occurred_after,
        occurred_before,
        ip_address,
        search,
        retained_since: _,
    } = filter;
    actions.is_some()
        || action_prefix.is_some()
        || actor_ids.is_some()
        || actor_type.is_some()
        || target_type.is_some()
        || target_id.is_some()
        || outcome.is_some()
        || occurred_after.is_some()
        || occurred_before.is_some()
        || ip_address.is_some()
        || search.is_some()
}

/// Counts by value, each with the greatest label seen.
#[derive(Default)]
struct Tally(HashMap<String, (Option<String>, i64)>);

impl Tally {
    fn add(&mut self, value: String, label: Option<String>, count: i64) {
        let entry = self.0.entry(value).or_default();
        entry.1 += count;
        if label > entry.0 {
            entry.0 = label;
        }
    }

    /// The values with a positive count, most frequent first, ties by value,
    /// at most [`MAX_FACET_VALUES`].
    fn ranked(self) -> Vec<(String, Option<String>, i64)> {
        let mut rows: Vec<_> = self
            .0
            .into_iter()
            .filter(|(_, (_, count))| *count > 0)
            .map(|(value, (label, count))| (value, label, count))
            .collect();
        rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        rows.truncate(usize::try_from(MAX_FACET_VALUES).unwrap_or(usize::MAX));
        rows
    }

    fn values(self) -> Vec<ValueFacet> {
        self.ranked()
            .into_iter()
            .map(|(value, _, count)| ValueFacet { value, count })
            .collect()
    }

    fn actors(self) -> Vec<ActorFacet> {
        self.ranked()
            .into_iter()
            .map(|(id, name, count)| ActorFacet { id, name, count })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_by_count_then_value_and_keeps_the_greatest_label() {
        let mut tally = Tally::default();
        tally.add("b".into(), Some("Bea".into()), 2);
        tally.add("a".into(), None, 2);
        tally.add("b".into(), Some("Ann".into()), 1);
        tally.add("c".into(), None, 5);
        tally.add("gone".into(), None, 0);
        let ranked = tally.ranked();
        assert_eq!(
            ranked,
            vec![
                ("c".into(), None, 5),
                ("b".into(), Some("Bea".into()), 3),
                ("a".into(), None, 2),
            ]
        );
    }

    #[test]
    fn at_most_max_values() {
        let mut tally = Tally::default();
        for n in 0..300 {
            tally.add(format!("v{n}"), None, 1);
        }
        assert_eq!(tally.ranked().len(), 200);
    }

    #[test]
    fn an_empty_filter_does_not_narrow() {
        assert!(!narrows(&EventFilter {
            retained_since: Some(Utc::now()),
            ..EventFilter::default()
        }));
        assert!(narrows(&EventFilter {
            actions: Some(vec![]),
            ..EventFilter::default()
        }));
    }
}
