//! Exact facets of the whole retained log, from the rollup tables.
//!
//! A value's retained count is its total, less its events still stored from
//! before the cutoff `retained_since`: whole UTC days before the cutoff's day
//! from `audit_event_facet_days`, the cutoff's own day up to the cutoff from
//! `audit_events` itself (a range of the `(tenant_id, occurred_at, id)`
//! index). The purge keeps both small: it deletes everything before the
//! cutoff every few minutes, and the rollups drop to zero with it.
//!
//! Each facet is one statement, so it reads one snapshot: a purge batch
//! committing meanwhile cannot be subtracted twice (from the days and again
//! from the totals) or not at all. The event count is a statement of its own.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use entity::audit_event_facet_days as days;
use entity::audit_event_facet_totals as totals;
use entity::audit_events;
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, Func, IntoColumnRef, JoinType, Order, Query, SelectStatement,
    SubQueryStatement,
};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use super::{FacetCoverage, Facets, MAX_FACET_VALUES, Tally};
use crate::store::StoreError;

/// A facet as the rollups spell it, and the event column it counts.
#[derive(Clone, Copy)]
enum Facet {
    Action,
    Actor,
}

impl Facet {
    fn name(self) -> &'static str {
        match self {
            Facet::Action => "action",
            Facet::Actor => "actor",
        }
    }

    fn column(self) -> audit_events::Column {
        match self {
            Facet::Action => audit_events::Column::Action,
            Facet::Actor => audit_events::Column::ActorId,
        }
    }
}

/// The part of the log before the cutoff that may still be stored.
#[derive(Clone, Copy)]
struct Expired {
    /// Days before this one are counted in `audit_event_facet_days`.
    day: NaiveDate,
    /// `[day_start, since)` is read from the log.
    day_start: DateTime<Utc>,
    since: DateTime<Utc>,
}

impl Expired {
    fn before(since: DateTime<Utc>) -> Self {
        let day = since.date_naive();
        Self {
            day,
            day_start: day.and_time(NaiveTime::MIN).and_utc(),
            since,
        }
    }
}

pub(super) async fn facets(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    retained_since: Option<DateTime<Utc>>,
) -> Result<Facets, StoreError> {
    let expired = retained_since.map(Expired::before);
    let actions = ranked(db, tenant_id, Facet::Action, expired).await?;
    let actors = ranked(db, tenant_id, Facet::Actor, expired).await?;
    Ok(Facets {
        actions: actions.values(),
        actors: actors.actors(),
        coverage: FacetCoverage {
            exact: true,
            counted: counted(db, tenant_id, expired).await?,
            oldest: oldest(db, tenant_id, retained_since).await?,
        },
    })
}

/// The top values of `facet` with their retained counts.
async fn ranked(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    facet: Facet,
    expired: Option<Expired>,
) -> Result<Tally, StoreError> {
    let mut tally = Tally::default();
    for row in db
        .query_all(&ranked_query(tenant_id, facet, expired))
        .await?
    {
        tally.add(
            row.try_get_by_index(0)?,
            row.try_get_by_index(1)?,
            row.try_get_by_index(2)?,
        );
    }
    Ok(tally)
}

/// `SELECT value, label, count − days − edge FROM totals LEFT JOIN days LEFT
/// JOIN edge ... ORDER BY 3 DESC, value LIMIT 200`.
fn ranked_query(tenant_id: Uuid, facet: Facet, expired: Option<Expired>) -> SelectStatement {
    let t = Alias::new("t");
    let mut retained = Expr::col((t.clone(), totals::Column::Count));
    let mut query = Query::select();
    query
        .column((t.clone(), totals::Column::Value))
        .column((t.clone(), totals::Column::Label))
        .from_as(totals::Entity, t.clone())
        .and_where(Expr::col((t.clone(), totals::Column::TenantId)).eq(tenant_id))
        .and_where(Expr::col((t.clone(), totals::Column::Facet)).eq(facet.name()));
    if let Some(expired) = expired {
        for (alias, gone) in [
            ("d", whole_days(tenant_id, facet, expired.day)),
            ("e", cutoff_day(tenant_id, facet, expired)),
        ] {
            let alias = Alias::new(alias);
            query.join_subquery(
                JoinType::LeftJoin,
                gone,
                alias.clone(),
                Expr::col((alias.clone(), Alias::new("value")))
                    .equals((t.clone(), totals::Column::Value)),
            );
            let n = Func::coalesce([Expr::col((alias, Alias::new("n"))), Expr::val(0)]);
            retained = retained.sub(n);
        }
    }
    query
        .expr_as(retained.clone(), Alias::new("n"))
        .and_where(retained.clone().gt(0))
        .order_by_expr(retained, Order::Desc)
        .order_by((t, totals::Column::Value), Order::Asc)
        .limit(MAX_FACET_VALUES)
        .to_owned()
}

/// Per value of `facet`, its events on the days before `day`.
fn whole_days(tenant_id: Uuid, facet: Facet, day: NaiveDate) -> SelectStatement {
    Query::select()
        .column(days::Column::Value)
        .expr_as(sum_as_bigint(days::Column::Count), Alias::new("n"))
        .from(days::Entity)
        .and_where(Expr::col(days::Column::TenantId).eq(tenant_id))
        .and_where(Expr::col(days::Column::Facet).eq(facet.name()))
        .and_where(Expr::col(days::Column::Day).lt(day))
        .group_by_col(days::Column::Value)
        .to_owned()
}

/// Per value of `facet`, its stored events of the cutoff's day before the cutoff.
///
/// The range is read in a subquery with a `LIMIT` that never binds: an
/// optimization fence on both backends, so the grouping cannot talk the
/// planner into walking the tenant's whole `(tenant_id, action, ...)` index
/// for its order (SQLite, which has no statistics here, otherwise does).
fn cutoff_day(tenant_id: Uuid, facet: Facet, expired: Expired) -> SelectStatement {
    let range = cutoff_day_range(tenant_id, expired)
        .expr_as(Expr::col(facet.column()), Alias::new("value"))
        .limit(u64::try_from(i64::MAX).unwrap_or(u64::MAX))
        .to_owned();
    Query::select()
        .column(Alias::new("value"))
        .expr_as(Expr::col(Alias::new("value")).count(), Alias::new("n"))
        .from_subquery(range, Alias::new("cut"))
        .group_by_col(Alias::new("value"))
        .to_owned()
}

/// The tenant's stored events of the cutoff's day before the cutoff (no
/// columns selected yet): a range of the `(tenant_id, occurred_at, id)` index.
fn cutoff_day_range(tenant_id: Uuid, expired: Expired) -> SelectStatement {
    Query::select()
        .from(audit_events::Entity)
        .and_where(Expr::col(audit_events::Column::TenantId).eq(tenant_id))
        .and_where(Expr::col(audit_events::Column::OccurredAt).gte(expired.day_start))
        .and_where(Expr::col(audit_events::Column::OccurredAt).lt(expired.since))
        .to_owned()
}

/// How many events are retained: every stored event has one action.
async fn counted(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    expired: Option<Expired>,
) -> Result<i64, StoreError> {
    let row = db.query_one(&counted_query(tenant_id, expired)).await?;
    Ok(match row {
        Some(row) => row.try_get_by_index::<Option<i64>>(0)?.unwrap_or(0),
        None => 0,
    })
}

fn counted_query(tenant_id: Uuid, expired: Option<Expired>) -> SelectStatement {
    let mut stored = Query::select();
    stored
        .expr(sum_as_bigint(totals::Column::Count))
        .from(totals::Entity)
        .and_where(Expr::col(totals::Column::TenantId).eq(tenant_id))
        .and_where(Expr::col(totals::Column::Facet).eq(Facet::Action.name()));
    let mut retained = scalar(stored.to_owned());
    if let Some(expired) = expired {
        let mut days_gone = Query::select();
        days_gone
            .expr(sum_as_bigint(days::Column::Count))
            .from(days::Entity)
            .and_where(Expr::col(days::Column::TenantId).eq(tenant_id))
            .and_where(Expr::col(days::Column::Facet).eq(Facet::Action.name()))
            .and_where(Expr::col(days::Column::Day).lt(expired.day));
        let edge_gone = cutoff_day_range(tenant_id, expired)
            .expr(Expr::col(audit_events::Column::Id).count())
            .to_owned();
        retained = retained
            .sub(scalar(days_gone.to_owned()))
            .sub(scalar(edge_gone));
    }
    Query::select().expr(retained).to_owned()
}

/// `COALESCE((subquery), 0)`.
fn scalar(query: SelectStatement) -> Expr {
    let sub = Expr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(query)));
    Func::coalesce([sub, Expr::val(0i64)]).into()
}

/// When the oldest retained event occurred: the first entry of an index range.
async fn oldest(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    retained_since: Option<DateTime<Utc>>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    match db
        .query_one(&oldest_query(tenant_id, retained_since))
        .await?
    {
        Some(row) => Ok(Some(row.try_get_by_index(0)?)),
        None => Ok(None),
    }
}

fn oldest_query(tenant_id: Uuid, retained_since: Option<DateTime<Utc>>) -> SelectStatement {
    let mut query = Query::select();
    query
        .column(audit_events::Column::OccurredAt)
        .from(audit_events::Entity)
        .and_where(Expr::col(audit_events::Column::TenantId).eq(tenant_id));
    if let Some(since) = retained_since {
        query.and_where(Expr::col(audit_events::Column::OccurredAt).gte(since));
    }
    query
        .order_by(audit_events::Column::OccurredAt, Order::Asc)
        .limit(1)
        .to_owned()
}

/// Every statement [`facets`] runs, built for `backend`.
pub(super) fn statements(
    backend: DbBackend,
    tenant_id: Uuid,
    retained_since: Option<DateTime<Utc>>,
) -> Vec<Statement> {
    let expired = retained_since.map(Expired::before);
    [
        ranked_query(tenant_id, Facet::Action, expired),
        ranked_query(tenant_id, Facet::Actor, expired),
        counted_query(tenant_id, expired),
        oldest_query(tenant_id, retained_since),
    ]
    .iter()
    .map(|query| backend.build(query))
    .collect()
}

/// `SUM(column)` as a 64-bit integer on both backends (PostgreSQL's sum of
/// `bigint` is `numeric`).
fn sum_as_bigint(column: impl IntoColumnRef) -> Expr {
    Expr::col(column).sum().cast_as(Alias::new("BIGINT"))
}
