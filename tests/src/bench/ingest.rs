//! Ingest scenarios on PostgreSQL.
//!
//! - `ingest`: `recordAuditEvents` with batches of 500 from 8 clients over 10
//!   tenants, against COPY of the same 500-row batches from 8 connections (the
//!   physical limit) and PostGraphile's best insert path (one request of 50
//!   aliased `createAuditEvent` mutations, 8 clients). Each system writes its own
//!   10 tenants of the same table; every round runs the three systems in turn.
//! - `single-event ingest`: one event per `recordAuditEvents` call from 64
//!   clients, against a single-row `INSERT` per transaction from 64 connections.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::Utc;
use serde_json::{Value, json};

use super::events::{COLUMNS, Event, id_at};
use super::report::{Goal, Row, push_versus};
use super::stats::{Run, Summary, drive};
use super::{Bench, body, copy_in};

const BATCH: usize = 500;
const CLIENTS: usize = 8;
const PEER_BATCH: usize = 50;
const SINGLE_CLIENTS: usize = 64;
/// First sequence the raw writers use: the tenant's own `tenant.create` event holds 1.
const FIRST_SEQUENCE: i64 = 100;

pub(crate) const RECORD: &str = "mutation Record($events: [AuditEventInput!]!) { \
     recordAuditEvents(events: $events) { events { id sequence } } }";

/// The service's request bodies: `batches` batches of `size` events.
pub(crate) fn record_bodies(batches: usize, size: usize, salt: u64) -> Vec<Vec<u8>> {
    (0..batches)
        .map(|b| {
            let events: Vec<Value> = (0..size)
                .map(|i| Event::new(salt + (b * size + i) as u64).graphql_input())
                .collect();
            body(RECORD, json!({ "events": events }))
        })
        .collect()
}

pub(crate) async fn batched(bench: &Bench, rows: &mut Vec<Row>, goals: &mut Vec<Goal>) {
    let scale = &bench.scale;
    let service_tenants = Arc::new(bench.tenants("ingest-svc", 10, "ENTERPRISE").await);
    let copy_tenants = Arc::new(bench.tenants("ingest-copy", 10, "ENTERPRISE").await);
    let peer_tenants = Arc::new(bench.tenants("ingest-peer", 10, "ENTERPRISE").await);
    let batches = (scale.ingest_events / BATCH).max(1);
    let peer_requests = (scale.peer_ingest_events / PEER_BATCH).max(1);
    let bodies = Arc::new(record_bodies(batches, BATCH, 0));
    let (mut service, mut copy, mut peer) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..scale.runs {
        let (app, bodies2, tenants) = (bench.app.clone(), bodies.clone(), service_tenants.clone());
        service.push(
            drive(CLIENTS, batches, BATCH, move |n| {
                let (app, body) = (app.clone(), bodies2[n].clone());
                let key = tenants[n % tenants.len()].key.clone();
                async move {
                    super::service_graphql(&app, &key, body).await;
                }
            })
            .await,
        );

        // COPY: batch n goes to tenant n % 10 with the next 500 sequences of that tenant.
        let per_tenant_run = (batches.div_ceil(10) * BATCH) as i64;
        let texts: Arc<Vec<String>> = Arc::new(
            (0..batches)
                .map(|n| {
                    let tenant = copy_tenants[n % 10].id;
                    let first =
                        FIRST_SEQUENCE + run as i64 * per_tenant_run + ((n / 10) * BATCH) as i64;
                    let mut text = String::with_capacity(BATCH * 800);
                    for i in 0..BATCH {
                        let now = Utc::now();
                        Event::new((n * BATCH + i) as u64).copy_line(
                            &mut text,
                            tenant,
                            id_at(now),
                            first + i as i64,
                            now,
                        );
                    }
                    text
                })
                .collect(),
        );
        let pool = bench.pool.clone();
        copy.push(
            drive(CLIENTS, batches, BATCH, move |n| {
                let (pool, texts) = (pool.clone(), texts.clone());
                async move { copy_in(&pool, texts[n].as_bytes()).await }
            })
            .await,
        );

        if let Some(server) = &bench.peer {
            let per_tenant_run = (peer_requests.div_ceil(10) * PEER_BATCH) as i64;
            let peer_bodies: Arc<Vec<Vec<u8>>> = Arc::new(
                (0..peer_requests)
                    .map(|n| {
                        let tenant = peer_tenants[n % 10].id;
                        let first = FIRST_SEQUENCE
                            + run as i64 * per_tenant_run
                            + ((n / 10) * PEER_BATCH) as i64;
                        peer_mutation(n, tenant, first)
                    })
                    .collect(),
            );
            let server = server.clone();
            peer.push(
                drive(CLIENTS, peer_requests, PEER_BATCH, move |n| {
                    let (server, body) = (server.clone(), peer_bodies[n].clone());
                    async move {
                        server.post(body).await;
                    }
                })
                .await,
            );
        }
    }
    let (service, copy) = (Summary::of(&service), Summary::of(&copy));
    push_versus(
        rows,
        "ingest",
        "events/s",
        ("auditlog recordAuditEvents ×500", &service, "COPY"),
        ("raw PostgreSQL COPY ×500", &copy),
    );
    goals.push(Goal::share_of(
        "ingest",
        "≥ 50 % of the COPY rate",
        &service,
        &copy,
        0.5,
    ));
    goals.push(Goal::check(
        "ingest",
        "≥ 40,000 events/s",
        service.rate,
        40_000.0,
        true,
        format!("{:.0} events/s", service.rate),
    ));
    if peer.is_empty() {
        goals.push(Goal::not_run(
            "ingest",
            "≥ 5× PostGraphile",
            "PostGraphile not started",
        ));
        return;
    }
    let peer = Summary::of(&peer);
    rows.push(Row {
        scenario: "ingest",
        system: format!("PostGraphile createAuditEvent ×{PEER_BATCH} aliases"),
        unit: "events/s",
        ratio: format!("auditlog is {:.1}×", service.rate / peer.rate),
        summary: peer.clone(),
    });
    goals.push(Goal::check(
        "ingest",
        "≥ 5× PostGraphile's best insert path",
        service.rate / peer.rate,
        5.0,
        true,
        format!("{:.1}×", service.rate / peer.rate),
    ));
}

/// One PostGraphile request: `PEER_BATCH` aliased `createAuditEvent` mutations.
fn peer_mutation(n: usize, tenant: uuid::Uuid, first: i64) -> Vec<u8> {
    let mut declarations = Vec::new();
    let mut fields = String::new();
    let mut variables = serde_json::Map::new();
    for i in 0..PEER_BATCH {
        let now = Utc::now();
        let event = Event::new((n * PEER_BATCH + i) as u64);
        declarations.push(format!("$e{i}: AuditEventInput!"));
        fields.push_str(&format!(
            "m{i}: createAuditEvent(input: {{ auditEvent: $e{i} }}) {{ clientMutationId }} "
        ));
        variables.insert(
            format!("e{i}"),
            event.postgraphile_input(tenant, id_at(now), first + i as i64, now),
        );
    }
    let query = format!("mutation({}) {{ {fields} }}", declarations.join(", "));
    body(&query, Value::Object(variables))
}

pub(crate) async fn single(bench: &Bench, rows: &mut Vec<Row>, goals: &mut Vec<Goal>) {
    let scale = &bench.scale;
    let service_tenants = Arc::new(bench.tenants("single-svc", 10, "ENTERPRISE").await);
    let raw_tenants = Arc::new(bench.tenants("single-raw", 10, "ENTERPRISE").await);
    let bodies = Arc::new(record_bodies(scale.single_events, 1, 7_000_000));
    let counters: Arc<Vec<AtomicI64>> =
        Arc::new((0..10).map(|_| AtomicI64::new(FIRST_SEQUENCE)).collect());
    let insert = Arc::new(format!(
        "INSERT INTO audit_events ({COLUMNS}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::inet, $14, $15, $16, $17, $18)"
    ));
    let (mut service, mut raw): (Vec<Run>, Vec<Run>) = (Vec::new(), Vec::new());
    for _ in 0..scale.runs {
        let (app, bodies2, tenants) = (bench.app.clone(), bodies.clone(), service_tenants.clone());
        service.push(
            drive(SINGLE_CLIENTS, scale.single_events, 1, move |n| {
                let (app, body) = (app.clone(), bodies2[n].clone());
                let key = tenants[n % 10].key.clone();
                async move {
                    super::service_graphql(&app, &key, body).await;
                }
            })
            .await,
        );
        let (pool, tenants, counters, insert) = (
            bench.pool.clone(),
            raw_tenants.clone(),
            counters.clone(),
            insert.clone(),
        );
        raw.push(
            drive(SINGLE_CLIENTS, scale.single_events, 1, move |n| {
                let (pool, insert) = (pool.clone(), insert.clone());
                let tenant = tenants[n % 10].id;
                let sequence = counters[n % 10].fetch_add(1, Ordering::Relaxed) + 1;
                async move {
                    insert_one(&pool, &insert, tenant, sequence, n as u64).await;
                }
            })
            .await,
        );
    }
    let (service, raw) = (Summary::of(&service), Summary::of(&raw));
    push_versus(
        rows,
        "single-event ingest",
        "events/s",
        (
            "auditlog recordAuditEvents ×1, 64 clients",
            &service,
            "raw INSERT",
        ),
        ("raw PostgreSQL INSERT 1 row/txn, 64 conns", &raw),
    );
    goals.push(Goal::check(
        "single-event ingest",
        "≥ 10,000 events/s",
        service.rate,
        10_000.0,
        true,
        format!("{:.0} events/s", service.rate),
    ));
    goals.push(Goal::check(
        "single-event ingest",
        "p99 < 20 ms",
        service.p99_ms,
        20.0,
        false,
        format!("{:.1} ms", service.p99_ms),
    ));
}

/// One row in its own transaction (autocommit), the same columns as COPY.
pub(crate) async fn insert_one(
    pool: &sea_orm::sqlx::PgPool,
    insert: &str,
    tenant: uuid::Uuid,
    sequence: i64,
    n: u64,
) {
    let event = Event::new(n);
    let now = Utc::now();
    let input = event.postgraphile_input(tenant, id_at(now), sequence, now);
    let text = |name: &str| input[name].as_str().map(str::to_owned);
    sea_orm::sqlx::query(sea_orm::sqlx::AssertSqlSafe(insert))
        .bind(tenant)
        .bind(id_at(now))
        .bind(sequence)
        .bind(event.action)
        .bind("user")
        .bind(text("actorId"))
        .bind(text("actorName"))
        .bind(text("actorEmail"))
        .bind("article")
        .bind(text("targetId"))
        .bind(text("targetName"))
        .bind("success")
        .bind(text("ipAddress"))
        .bind(text("userAgent"))
        .bind(None::<String>)
        .bind(sea_orm::sqlx::types::Json(&event.payload))
        .bind(now)
        .bind(now)
        .execute(pool)
        .await
        .expect("raw single-row INSERT");
}
