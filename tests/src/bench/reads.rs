//! `reads`: every read a viewer page makes, on a big tenant (issue 15).
//!
//! PostgreSQL: one tenant of `reads_big` events (10,000,000 at the default
//! scale) among `reads_tenants` tenants, seeded with COPY over 80 days (the
//! secondary indexes are dropped for the load and rebuilt after it, as a bulk
//! restore would; the facet counts are kept by the database during the load).
//! Each read is measured through the service (`auditEvents` or
//! `auditEventFacets` over HTTP, 4 clients) and as the raw SQL of the same
//! answer: the very statement the service's store builds, sent by a superuser
//! connection outside any transaction, rows not decoded.
//!
//! The reads: the first page with no filter, with each `AuditEventFilter` field
//! alone and with every pair of fields, `search` with a common, a rare and an
//! absent term, a narrow (1 hour) and a wide (30 days) window, the last page
//! (`last: 50`), and the facets with and without a filter.
//!
//! Before seeding, ingest is measured on two fresh databases in alternating
//! rounds: the full schema, and the same schema without what issue 15 added
//! for reads (the indexes beyond the original six and the facet-count
//! triggers), so their cost is a ratio from one run.
//!
//! SQLite: one tenant of `reads_sqlite_big` events (1,000,000), the same reads
//! through the service and the raw statement.

use std::fmt::Write as _;
use std::sync::Arc;

use auditlog_tests::{Backend, TestApp, spawn_app, spawn_app_with};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use entity::domain::{ActorType, IpAddress, Outcome};
use entity::store::events::{
    self, Columns, EventFilter, Page, PageDirection, PageScan, page_statement,
};
use sea_orm::sqlx::{self, Row as _};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::events::{COLUMNS, id_at, spread_at};
use super::ingest::record_bodies;
use super::read_events::{ABSENT_TERM, COMMON_TERM, Probe, RARE_TERM, ReadEvent};
use super::report::Goal;
use super::stats::{Run, Summary, drive};
use super::{Bench, Tenant, body, copy_in, create_tenants};

const CLIENTS: usize = 4;
const SEED_CHUNK: usize = 20_000;
const SEED_DAYS: i64 = 80;
/// ENTERPRISE's default retention: every seeded event is retained.
const RETENTION_DAYS: i64 = 90;
const PAGE_SIZE: u64 = 50;
/// The indexes `audit_events` had before issue 15 (kept when measuring ingest
/// "without").
const ORIGINAL_INDEXES: [&str; 7] = [
    "audit_events_pkey",
    "audit_events_tenant_sequence_key",
    "audit_events_tenant_idempotency_key",
    "audit_events_tenant_occurred_idx",
    "audit_events_tenant_action_idx",
    "audit_events_tenant_actor_idx",
    "audit_events_tenant_target_idx",
];
/// Kept during the seed load: the primary key and the sequence key.
const LOAD_INDEXES: [&str; 2] = ["audit_events_pkey", "audit_events_tenant_sequence_key"];

const PAGE: &str = "query Page($first: Int, $last: Int, $filter: AuditEventFilter) { \
     auditEvents(first: $first, last: $last, filter: $filter) { edges { cursor node { \
     id sequence action occurredAt actor { type actorId name email } target { type targetId name } \
     outcome context { ipAddress } } } pageInfo { hasNextPage endCursor } } }";
const FACETS: &str = "query Facets($filter: AuditEventFilter) { auditEventFacets(filter: $filter) { \
     actions { value count } actors { actorId name count } } }";

/// One read: its GraphQL variables and the store's filter of the same answer.
struct Read {
    name: String,
    kind: ReadKind,
    filter: Value,
    store: EventFilter,
    /// A single-filter or unfiltered first page (the raw-SQL ratio goal).
    single: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum ReadKind {
    First,
    Last,
    Facets,
}

/// One field of `AuditEventFilter` with the scenario's value for it.
struct Field {
    name: &'static str,
    apply: fn(&mut Map<String, Value>, &mut EventFilter, DateTime<Utc>),
}

fn at(t: DateTime<Utc>) -> Value {
    Value::String(t.to_rfc3339_opts(SecondsFormat::Micros, true))
}

fn fields() -> Vec<Field> {
    vec![
        Field {
            name: "actions",
            apply: |g, s, _| {
                g.insert("actions".into(), json!([Probe::ACTION]));
                s.actions = Some(vec![Probe::ACTION.into()]);
            },
        },
        Field {
            name: "actionPrefix",
            apply: |g, s, _| {
                g.insert("actionPrefix".into(), json!(Probe::ACTION_PREFIX));
                s.action_prefix = Some(Probe::ACTION_PREFIX.into());
            },
        },
        Field {
            name: "actorIds",
            apply: |g, s, _| {
                g.insert("actorIds".into(), json!([Probe::ACTOR]));
                s.actor_ids = Some(vec![Probe::ACTOR.into()]);
            },
        },
        Field {
            name: "actorType",
            apply: |g, s, _| {
                g.insert("actorType".into(), json!(Probe::ACTOR_TYPE));
                s.actor_type = Some(ActorType::System);
            },
        },
        Field {
            name: "targetType",
            apply: |g, s, _| {
                g.insert("targetType".into(), json!(Probe::TARGET_TYPE));
                s.target_type = Some(Probe::TARGET_TYPE.into());
            },
        },
        Field {
            name: "targetId",
            apply: |g, s, _| {
                g.insert("targetId".into(), json!(Probe::TARGET_ID));
                s.target_id = Some(Probe::TARGET_ID.into());
            },
        },
        Field {
            name: "outcome",
            apply: |g, s, _| {
                g.insert("outcome".into(), json!(Probe::OUTCOME));
                s.outcome = Some(Outcome::Failure);
            },
        },
        Field {
            name: "occurredAfter",
            apply: |g, s, now| {
                let t = now - Duration::days(30);
                g.insert("occurredAfter".into(), at(t));
                s.occurred_after = Some(t);
            },
        },
        Field {
            name: "occurredBefore",
            apply: |g, s, now| {
                let t = now - Duration::days(10);
                g.insert("occurredBefore".into(), at(t));
                s.occurred_before = Some(t);
            },
        },
        Field {
            name: "ipAddress",
            apply: |g, s, _| {
                let ip = Probe::ip_address();
                g.insert("ipAddress".into(), json!(ip));
                s.ip_address = IpAddress::parse(&ip).ok();
            },
        },
        Field {
            name: "search",
            apply: |g, s, _| {
                g.insert("search".into(), json!(COMMON_TERM));
                s.search = Some(COMMON_TERM.into());
            },
        },
    ]
}

fn read(name: String, kind: ReadKind, single: bool, parts: &[&Field], now: DateTime<Utc>) -> Read {
    let (mut filter, mut store) = (Map::new(), EventFilter::default());
    for field in parts {
        (field.apply)(&mut filter, &mut store, now);
    }
    Read {
        name,
        kind,
        filter: Value::Object(filter),
        store,
        single,
    }
}

fn with_filter(name: &str, kind: ReadKind, filter: Value, store: EventFilter) -> Read {
    Read {
        name: name.into(),
        kind,
        filter,
        store,
        single: false,
    }
}

/// Every read of the scenario; `now` is the seed's end.
fn reads(now: DateTime<Utc>) -> Vec<Read> {
    let fields = fields();
    let mut reads = vec![read("no filter".into(), ReadKind::First, true, &[], now)];
    for field in &fields {
        reads.push(read(
            field.name.into(),
            ReadKind::First,
            true,
            &[field],
            now,
        ));
    }
    for (term, label) in [
        (COMMON_TERM, "common"),
        (RARE_TERM, "rare"),
        (ABSENT_TERM, "absent"),
    ] {
        let store = EventFilter {
            search: Some(term.into()),
            ..EventFilter::default()
        };
        let name = format!("search, {label} term ({term:?})");
        reads.push(Read {
            single: true,
            ..with_filter(&name, ReadKind::First, json!({ "search": term }), store)
        });
    }
    for (label, from, to) in [
        (
            "narrow window (1 hour)",
            now - Duration::days(10),
            now - Duration::days(10) + Duration::hours(1),
        ),
        ("wide window (30 days)", now - Duration::days(30), now),
    ] {
        let store = EventFilter {
            occurred_after: Some(from),
            occurred_before: Some(to),
            ..EventFilter::default()
        };
        let filter = json!({ "occurredAfter": at(from), "occurredBefore": at(to) });
        reads.push(Read {
            single: true,
            ..with_filter(label, ReadKind::First, filter, store)
        });
    }
    for (i, a) in fields.iter().enumerate() {
        for b in &fields[i + 1..] {
            let name = format!("{} + {}", a.name, b.name);
            reads.push(read(name, ReadKind::First, false, &[a, b], now));
        }
    }
    reads.push(read(
        "last page (last: 50)".into(),
        ReadKind::Last,
        false,
        &[],
        now,
    ));
    reads.push(read(
        "facets, no filter".into(),
        ReadKind::Facets,
        false,
        &[],
        now,
    ));
    for field in [&fields[0], &fields[2], &fields[7], &fields[10]] {
        let name = format!("facets, filter {}", field.name);
        reads.push(read(name, ReadKind::Facets, false, &[field], now));
    }
    reads
}

/// A measured read: the service and the raw statement.
struct Measured {
    name: String,
    single: bool,
    rows: usize,
    service: Summary,
    raw: Summary,
    /// The error code of a read the service did not answer (then its
    /// latencies count as infinite in the goals).
    failed: Option<String>,
}

impl Measured {
    fn failed(name: String, single: bool, code: String) -> Measured {
        let never = Summary {
            rate: 0.0,
            p50_ms: f64::INFINITY,
            p99_ms: f64::INFINITY,
            runs: 0,
        };
        Measured {
            name,
            single,
            rows: 0,
            service: never.clone(),
            raw: never,
            failed: Some(code),
        }
    }
}

/// What the scenario adds to the report: a section of its own, plus goals.
pub(crate) async fn reads_at_scale(bench: &Bench, goals: &mut Vec<Goal>) -> String {
    let mut section = String::from("## Reads at scale\n\n");
    let ingest = ingest_cost(bench).await;
    eprintln!("reads: {}", ingest.0.trim_end());
    let _ = writeln!(section, "{}", ingest.0);
    goals.push(Goal::check(
        "reads at scale",
        "ingest ≥ 90 % of the rate without the read indexes and counts",
        ingest.1,
        0.9,
        true,
        format!("{:.0} %", ingest.1 * 100.0),
    ));

    let (big, now) = seed_postgres(bench).await;
    let raw = Database::connect(tenant_session_url(
        bench.app.superuser_database_url(),
        big.id,
    ))
    .await
    .expect("raw PostgreSQL connection");
    let measured = measure_all(
        &bench.app,
        &big,
        &raw,
        now,
        bench.scale.reads_requests,
        bench.scale.runs,
    )
    .await;
    let _ = writeln!(
        section,
        "PostgreSQL, one tenant of {} events among {} tenants (release build; {} requests × {} runs per read and system, {CLIENTS} clients):\n",
        bench.scale.reads_big,
        bench.scale.reads_tenants,
        bench.scale.reads_requests,
        bench.scale.runs
    );
    section.push_str(&table(&measured));
    push_goals(
        goals,
        "reads at scale (PostgreSQL)",
        &measured,
        50.0,
        Some(150.0),
    );

    let (sqlite_table, sqlite_measured) = sqlite(bench).await;
    section.push_str(&sqlite_table);
    push_goals(
        goals,
        "reads at scale (SQLite)",
        &sqlite_measured,
        100.0,
        None,
    );
    section
}

/// `url` with `app.tenant_id` set for the whole session: the search index's
/// lookup function serves only the session's tenant, and a session setting
/// costs the raw baseline no round trip. The session plans every statement
/// for its tenant, as the service's read scope does
/// (`entity::store::read_scope`), so both run the same plans.
fn tenant_session_url(url: &str, tenant: Uuid) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{separator}options=-c%20app.tenant_id%3D{tenant}\
         %20-c%20plan_cache_mode%3Dforce_custom_plan"
    )
}

fn push_goals(
    goals: &mut Vec<Goal>,
    scenario: &'static str,
    measured: &[Measured],
    p50_budget: f64,
    p99_budget: Option<f64>,
) {
    let worst = |f: &dyn Fn(&Measured) -> f64| {
        measured
            .iter()
            .max_by(|a, b| f(a).total_cmp(&f(b)))
            .map(|m| (f(m), m.name.clone()))
            .unwrap_or((f64::NAN, String::new()))
    };
    let (p50, name) = worst(&|m| m.service.p50_ms);
    goals.push(Goal::check(
        scenario,
        format!("every read p50 ≤ {p50_budget} ms"),
        p50,
        p50_budget,
        false,
        format!("worst {p50:.1} ms ({name})"),
    ));
    if let Some(budget) = p99_budget {
        let (p99, name) = worst(&|m| m.service.p99_ms);
        goals.push(Goal::check(
            scenario,
            format!("every read p99 ≤ {budget} ms"),
            p99,
            budget,
            false,
            format!("worst {p99:.1} ms ({name})"),
        ));
        let singles: Vec<&Measured> = measured.iter().filter(|m| m.single).collect();
        let (ratio, name) = singles
            .iter()
            .map(|m| (m.service.p50_ms / m.raw.p50_ms, m.name.clone()))
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap_or((f64::NAN, String::new()));
        goals.push(Goal::check(
            scenario,
            "unfiltered and single-filter first page p50 ≤ 2× raw SQL",
            ratio,
            2.0,
            false,
            format!("worst {ratio:.2}× ({name})"),
        ));
    }
}

fn table(measured: &[Measured]) -> String {
    let mut out = String::from(
        "| read | rows | service p50 | service p99 | raw SQL p50 | raw SQL p99 | p50 ratio |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for m in measured {
        if let Some(code) = &m.failed {
            let _ = writeln!(out, "| {} | — | failed: `{code}` | — | — | — | — |", m.name);
            continue;
        }
        let _ = writeln!(
            out,
            "| {} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.2}× |",
            m.name,
            m.rows,
            m.service.p50_ms,
            m.service.p99_ms,
            m.raw.p50_ms,
            m.raw.p99_ms,
            m.service.p50_ms / m.raw.p50_ms
        );
    }
    out.push('\n');
    out
}

async fn measure_all(
    app: &Arc<TestApp>,
    tenant: &Tenant,
    raw: &DatabaseConnection,
    now: DateTime<Utc>,
    requests: usize,
    runs: usize,
) -> Vec<Measured> {
    let raw = Arc::new(raw.clone());
    let mut measured = Vec::new();
    for mut read in reads(now) {
        read.store.retained_since = Some(Utc::now() - Duration::days(RETENTION_DAYS));
        // A read the service refuses (a statement past its timeout) is
        // reported as failed, and the run goes on with the next one.
        let probe = app
            .post_raw(request_body(&read), "application/json", Some(&tenant.key))
            .await;
        if let Some(code) = probe.error_code() {
            eprintln!("reads: {:<40} failed: {code}", read.name);
            measured.push(Measured::failed(read.name.clone(), read.single, code));
            continue;
        }
        let rows = service_read(app, &tenant.key, &read).await;
        let (mut service, mut baseline) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            service.push(service_runs(app, &tenant.key, &read, requests).await);
            baseline.push(raw_runs(&raw, tenant.id, &read, requests).await);
        }
        let m = Measured {
            name: read.name.clone(),
            single: read.single,
            rows,
            service: Summary::of(&service),
            raw: Summary::of(&baseline),
            failed: None,
        };
        eprintln!(
            "reads: {:<40} rows {:>3}  service p50 {:>7.2} ms p99 {:>7.2} ms  raw p50 {:>7.2} ms",
            m.name, m.rows, m.service.p50_ms, m.service.p99_ms, m.raw.p50_ms
        );
        measured.push(m);
    }
    measured
}

fn request_body(read: &Read) -> Vec<u8> {
    match read.kind {
        ReadKind::First => body(PAGE, json!({ "first": PAGE_SIZE, "filter": read.filter })),
        ReadKind::Last => body(PAGE, json!({ "last": PAGE_SIZE, "filter": read.filter })),
        ReadKind::Facets => body(FACETS, json!({ "filter": read.filter })),
    }
}

/// One request; the number of rows (events, or facet values) it answered.
async fn service_read(app: &TestApp, key: &str, read: &Read) -> usize {
    let data = super::service_graphql(app, key, request_body(read)).await;
    match read.kind {
        ReadKind::Facets => {
            let facets = &data["auditEventFacets"];
            facets["actions"].as_array().map_or(0, Vec::len)
                + facets["actors"].as_array().map_or(0, Vec::len)
        }
        _ => data["auditEvents"]["edges"].as_array().map_or(0, Vec::len),
    }
}

async fn service_runs(app: &Arc<TestApp>, key: &str, read: &Read, requests: usize) -> Run {
    let (app, key, body) = (app.clone(), key.to_owned(), Arc::new(request_body(read)));
    drive(CLIENTS, requests, 1, move |_| {
        let (app, key, body) = (app.clone(), key.clone(), body.clone());
        async move {
            super::service_graphql(&app, &key, body.to_vec()).await;
        }
    })
    .await
}

async fn raw_runs(
    raw: &Arc<DatabaseConnection>,
    tenant: Uuid,
    read: &Read,
    requests: usize,
) -> Run {
    let statements = Arc::new(raw_statements(raw, tenant, read).await);
    let raw = raw.clone();
    drive(CLIENTS, requests, 1, move |_| {
        let (raw, statements) = (raw.clone(), statements.clone());
        async move {
            for statement in statements.iter() {
                raw.query_all_raw(statement.clone())
                    .await
                    .expect("raw statement");
            }
        }
    })
    .await
}

/// The statements the store runs for `read`: a page without `search` is one;
/// with `search`, and for facets, the store's plan is followed once on the
/// same data (`events::page_traced`, `events::facets_traced`), which lists the
/// statements it sent in order.
async fn raw_statements(
    raw: &DatabaseConnection,
    tenant: Uuid,
    read: &Read,
) -> Vec<sea_orm::Statement> {
    let backend = raw.get_database_backend();
    let page = |direction| Page {
        direction,
        start: None,
        stop: None,
        limit: PAGE_SIZE + 1,
        // The scenario's page selects neither the payload nor more context than the address.
        columns: Columns {
            payload: false,
            context: true,
        },
    };
    let page = match read.kind {
        ReadKind::First => page(PageDirection::Older),
        ReadKind::Last => page(PageDirection::Newer),
        ReadKind::Facets => {
            let (_, trace) = events::facets_traced(raw, tenant, &read.store)
                .await
                .expect("facets, traced");
            return trace;
        }
    };
    match read.store.search.as_deref() {
        None => vec![page_statement(
            backend,
            tenant,
            &read.store,
            &page,
            PageScan::Ordered,
        )],
        Some(term) => {
            let (_, trace) = events::page_traced(raw, tenant, &read.store, &page, term)
                .await
                .expect("search page, traced");
            trace
        }
    }
}

/// Service ingest with and without issue 15's read indexes and facet counts;
/// the section's paragraph and the ratio.
async fn ingest_cost(bench: &Bench) -> (String, f64) {
    let bare = Arc::new(spawn_app_with(Backend::Postgres, |s| s.db_max_connections = 16).await);
    strip_read_structures(bare.superuser_database_url()).await;
    let full_tenants = Arc::new(create_tenants(&bench.app, "reads-ingest", 10, "ENTERPRISE").await);
    let bare_tenants = Arc::new(create_tenants(&bare, "reads-ingest", 10, "ENTERPRISE").await);
    let batches = (bench.scale.ingest_events / 500).max(1);
    let bodies = Arc::new(record_bodies(batches, 500, 7));
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _ in 0..bench.scale.runs {
        for (app, tenants, runs) in [
            (bench.app.clone(), full_tenants.clone(), &mut with),
            (bare.clone(), bare_tenants.clone(), &mut without),
        ] {
            let bodies = bodies.clone();
            runs.push(
                drive(8, batches, 500, move |n| {
                    let (app, body) = (app.clone(), bodies[n].clone());
                    let key = tenants[n % tenants.len()].key.clone();
                    async move {
                        super::service_graphql(&app, &key, body).await;
                    }
                })
                .await,
            );
        }
    }
    let (with, without) = (Summary::of(&with), Summary::of(&without));
    let ratio = with.rate / without.rate;
    let text = format!(
        "Ingest (`recordAuditEvents` ×500, 8 clients, 10 tenants, {} events per run, {} runs, \
         alternating): with the read indexes and facet counts {:.0} events/s (p50 {:.1} ms), \
         without them {:.0} events/s (p50 {:.1} ms): **{:.2}×**.\n",
        batches * 500,
        bench.scale.runs,
        with.rate,
        with.p50_ms,
        without.rate,
        without.p50_ms,
        ratio
    );
    (text, ratio)
}

/// Drops what issue 15 added for reads from `audit_events`: every index beyond
/// the original ones and every trigger.
async fn strip_read_structures(superuser_url: &str) {
    let pool = sqlx::PgPool::connect(superuser_url)
        .await
        .expect("superuser pool");
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes WHERE tablename = 'audit_events' \
         AND indexname <> ALL($1)",
    )
    .bind(ORIGINAL_INDEXES.map(str::to_owned).to_vec())
    .fetch_all(&pool)
    .await
    .expect("list indexes");
    for index in indexes {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX \"{index}\"")))
            .execute(&pool)
            .await
            .expect("drop index");
    }
    let triggers: Vec<String> = sqlx::query_scalar(
        "SELECT tgname::text FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass \
         AND NOT tgisinternal",
    )
    .fetch_all(&pool)
    .await
    .expect("list triggers");
    for trigger in triggers {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP TRIGGER \"{trigger}\" ON audit_events"
        )))
        .execute(&pool)
        .await
        .expect("drop trigger");
    }
}

/// Seeds the big tenant and the others; returns the big tenant and the seed's end.
async fn seed_postgres(bench: &Bench) -> (Tenant, DateTime<Utc>) {
    let scale = &bench.scale;
    let tenants = bench
        .tenants("reads", scale.reads_tenants, "ENTERPRISE")
        .await;
    let pool = &bench.pool;
    let kept = LOAD_INDEXES.map(str::to_owned).to_vec();
    let definitions: Vec<(String, String)> = sqlx::query(
        "SELECT indexname::text, indexdef FROM pg_indexes WHERE tablename = 'audit_events' \
         AND indexname <> ALL($1)",
    )
    .bind(&kept)
    .fetch_all(pool)
    .await
    .expect("index definitions")
    .iter()
    .map(|row| (row.get(0), row.get(1)))
    .collect();
    for (name, _) in &definitions {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX \"{name}\"")))
            .execute(pool)
            .await
            .expect("drop index for the load");
    }
    let now = Utc::now() - Duration::minutes(1);
    eprintln!(
        "reads: seeding {} events over {SEED_DAYS} days",
        scale.reads_big + scale.reads_others * (scale.reads_tenants - 1)
    );
    let mut chunks = Vec::new();
    for (index, tenant) in tenants.iter().enumerate() {
        let count = if index == 0 {
            scale.reads_big
        } else {
            scale.reads_others
        };
        let counter: i64 = sqlx::query_scalar("SELECT event_counter FROM tenants WHERE id = $1")
            .bind(tenant.id)
            .fetch_one(pool)
            .await
            .expect("tenant counter");
        for start in (0..count).step_by(SEED_CHUNK) {
            chunks.push((
                tenant.id,
                counter,
                start,
                count.min(start + SEED_CHUNK),
                count,
            ));
        }
        super::set_counter(pool, tenant.id, counter + count as i64).await;
    }
    let started = std::time::Instant::now();
    let chunks = Arc::new(chunks);
    let copy_pool = pool.clone();
    drive(2, chunks.len(), 1, move |n| {
        let (pool, chunks) = (copy_pool.clone(), chunks.clone());
        async move {
            let (tenant, counter, start, end, count) = chunks[n];
            let span = Duration::days(SEED_DAYS);
            let mut text = String::with_capacity((end - start) * 500);
            for k in start..end {
                let at = spread_at(now, span, k, count);
                ReadEvent::new(k as u64).copy_line(
                    &mut text,
                    tenant,
                    id_at(at),
                    counter + 1 + k as i64,
                    at,
                );
            }
            copy_in(&pool, text.as_bytes()).await;
        }
    })
    .await;
    let loaded = started.elapsed().as_secs_f64();
    let mut conn = pool
        .acquire()
        .await
        .expect("a connection for the index builds");
    sqlx::query("SET maintenance_work_mem = '1GB'")
        .execute(&mut *conn)
        .await
        .expect("maintenance_work_mem");
    for (_, definition) in &definitions {
        sqlx::query(sqlx::AssertSqlSafe(definition.clone()))
            .execute(&mut *conn)
            .await
            .expect("rebuild an index");
    }
    drop(conn);
    sqlx::query("VACUUM ANALYZE")
        .execute(pool)
        .await
        .expect("VACUUM ANALYZE");
    eprintln!(
        "reads: seeded {} events ({} in the big tenant) in {loaded:.0} s, indexes and VACUUM ANALYZE in {:.0} s",
        scale.reads_big + scale.reads_others * (scale.reads_tenants - 1),
        scale.reads_big,
        started.elapsed().as_secs_f64() - loaded
    );
    (tenants[0].clone(), now)
}

/// The SQLite half: its table section and measurements.
async fn sqlite(bench: &Bench) -> (String, Vec<Measured>) {
    let scale = &bench.scale;
    let app = Arc::new(spawn_app(Backend::Sqlite).await);
    let tenant = create_tenants(&app, "reads-sqlite", 1, "ENTERPRISE")
        .await
        .remove(0);
    let started = std::time::Instant::now();
    let now = seed_sqlite(&app, &tenant, scale.reads_sqlite_big).await;
    eprintln!(
        "reads: seeded {} SQLite events in {:.0} s",
        scale.reads_sqlite_big,
        started.elapsed().as_secs_f64()
    );
    let raw = Database::connect(app.database_url())
        .await
        .expect("raw SQLite connection");
    let measured = measure_all(&app, &tenant, &raw, now, scale.reads_requests, scale.runs).await;
    let mut section = format!(
        "SQLite (embedded), one tenant of {} events, the same reads:\n\n",
        scale.reads_sqlite_big
    );
    section.push_str(&table(&measured));
    (section, measured)
}

/// Inserts `count` events of [`ReadEvent`] into the SQLite file, 500 per
/// statement, 20,000 per transaction; returns the seed's end.
async fn seed_sqlite(app: &TestApp, tenant: &Tenant, count: usize) -> DateTime<Utc> {
    use sea_orm::sqlx::sqlite::SqlitePoolOptions;
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect(app.database_url())
        .await
        .expect("raw SQLite pool");
    let counter: i64 = sqlx::query_scalar("SELECT event_counter FROM tenants WHERE id = ?")
        .bind(tenant.id)
        .fetch_one(&pool)
        .await
        .expect("tenant counter");
    let now = Utc::now() - Duration::minutes(1);
    let span = Duration::days(SEED_DAYS);
    let columns = COLUMNS;
    for start in (0..count).step_by(SEED_CHUNK) {
        let mut txn = pool.begin().await.expect("begin");
        for batch in (start..count.min(start + SEED_CHUNK))
            .collect::<Vec<_>>()
            .chunks(500)
        {
            let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(format!(
                "INSERT INTO audit_events ({columns}) "
            ));
            insert.push_values(batch, |mut row, &k| {
                let at = spread_at(now, span, k, count);
                row.push_bind(tenant.id)
                    .push_bind(id_at(at))
                    .push_bind(counter + 1 + k as i64);
                for value in ReadEvent::new(k as u64).sqlite_values() {
                    row.push_bind(value);
                }
                row.push_bind(at).push_bind(at);
            });
            insert
                .build()
                .execute(&mut *txn)
                .await
                .expect("insert a batch");
        }
        txn.commit().await.expect("commit");
    }
    let db = sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool.clone());
    let size = u64::try_from(counter + count as i64).expect("a counter");
    auditlog_tests::database::store_tree_frontier(&db, tenant.id, size).await;
    sqlx::query("UPDATE tenants SET event_counter = ? WHERE id = ?")
        .bind(counter + count as i64)
        .bind(tenant.id)
        .execute(&pool)
        .await
        .expect("store the counter");
    sqlx::query("ANALYZE")
        .execute(&pool)
        .await
        .expect("ANALYZE");
    now
}
