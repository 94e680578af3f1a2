//! Read scenarios on PostgreSQL, on events seeded with COPY straight into
//! `audit_events` (the scale's `seed_total` over `seed_tenants` tenants, one with
//! `seed_big`; each tenant's events spread evenly over the last 80 days, inserted
//! in time order with UUIDv7 ids, then `VACUUM ANALYZE`).
//!
//! - `filtered first page`: the big tenant, `action = entry.update`, the last 30
//!   days, first 50, newest first, 4 clients: the service, the same SQL through
//!   sqlx (what the service issues: every column, `LIMIT 51`, the retention
//!   bound), and PostGraphile's `allAuditEvents` with the connection filter.
//! - `deep page`: the big tenant, no filter; a cursor at `deep_position` obtained
//!   by paging through the API (first 500); page 1 against the page after that
//!   cursor, plus the keyset SQL at that position.

use std::sync::Arc;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use sea_orm::sqlx::{self, Row as _};
use serde_json::{Value, json};

use super::events::{Event, FILTER_ACTION, id_at, spread_at};
use super::report::{Goal, Row};
use super::stats::{Summary, drive};
use super::{Bench, Tenant, body, copy_in};

const CLIENTS: usize = 4;
const SEED_CHUNK: usize = 20_000;
/// The service's default retention on ENTERPRISE; the seeded span lies inside it.
const RETENTION_DAYS: i64 = 90;
const SEED_DAYS: i64 = 80;

const PAGE: &str = "query Page($first: Int!, $after: String, $filter: AuditEventFilter) { \
     auditEvents(first: $first, after: $after, filter: $filter) { edges { cursor node { \
     id sequence action occurredAt actor { type actorId name } target { type targetId name } payload } } \
     pageInfo { hasNextPage endCursor } } }";

const PEER_PAGE: &str = "query Page($tenant: UUID!, $action: String!, $from: Datetime!, $to: Datetime!) { \
     allAuditEvents(first: 50, orderBy: [OCCURRED_AT_DESC, ID_DESC], filter: { \
     tenantId: { equalTo: $tenant }, action: { equalTo: $action }, \
     occurredAt: { greaterThanOrEqualTo: $from, lessThan: $to } }) { edges { cursor node { \
     id sequence action occurredAt actorType actorId actorName targetType targetId targetName payload } } \
     pageInfo { hasNextPage endCursor } } }";

const COLUMNS_READ: &str = "tenant_id, id, sequence, action, actor_type, actor_id, actor_name, \
     actor_email, target_type, target_id, target_name, outcome, ip_address, user_agent, request_id, \
     payload, occurred_at, received_at, idempotency_key, request_hash";

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Seeds the page scenarios' events; returns the big tenant.
pub(crate) async fn seed(bench: &Bench) -> Tenant {
    let scale = &bench.scale;
    let tenants = bench
        .tenants("page", scale.seed_tenants, "ENTERPRISE")
        .await;
    let others = (scale.seed_total - scale.seed_big) / (scale.seed_tenants - 1).max(1);
    let now = Utc::now() - Duration::minutes(1);
    let mut chunks = Vec::new();
    for (index, tenant) in tenants.iter().enumerate() {
        let count = if index == 0 { scale.seed_big } else { others };
        let counter: i64 = sqlx::query_scalar("SELECT event_counter FROM tenants WHERE id = $1")
            .bind(tenant.id)
            .fetch_one(&bench.pool)
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
        super::set_counter(&bench.pool, tenant.id, counter + count as i64).await;
    }
    let chunks = Arc::new(chunks);
    let pool = bench.pool.clone();
    let run = drive(2, chunks.len(), 1, move |n| {
        let (pool, chunks) = (pool.clone(), chunks.clone());
        async move {
            let (tenant, counter, start, end, count) = chunks[n];
            let span = Duration::days(SEED_DAYS);
            let mut text = String::with_capacity((end - start) * 800);
            for k in start..end {
                let at = spread_at(now, span, k, count);
                Event::new(k as u64 * 31 + counter as u64).copy_line(
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
    sqlx::query("VACUUM ANALYZE audit_events")
        .execute(&bench.pool)
        .await
        .expect("VACUUM ANALYZE");
    eprintln!(
        "seeded {} events over {} tenants ({} in the big one) in {:.1} s",
        scale.seed_big + others * (scale.seed_tenants - 1),
        scale.seed_tenants,
        scale.seed_big,
        run.seconds
    );
    tenants[0].clone()
}

pub(crate) async fn filtered(
    bench: &Bench,
    big: &Tenant,
    rows: &mut Vec<Row>,
    goals: &mut Vec<Goal>,
) {
    let requests = bench.scale.page_requests;
    let now = Utc::now();
    let (from, to) = (now - Duration::days(30), now);
    let service_body = body(
        PAGE,
        json!({ "first": 50, "filter": { "actions": [FILTER_ACTION],
                "occurredAfter": rfc3339(from), "occurredBefore": rfc3339(to) } }),
    );
    let peer_body = body(
        PEER_PAGE,
        json!({ "tenant": big.id, "action": FILTER_ACTION, "from": rfc3339(from), "to": rfc3339(to) }),
    );
    let sql = Arc::new(format!(
        "SELECT {COLUMNS_READ} FROM audit_events WHERE tenant_id = $1 AND action IN ($2) \
         AND occurred_at >= $3 AND occurred_at < $4 AND occurred_at >= $5 \
         ORDER BY occurred_at DESC, id DESC LIMIT 51"
    ));
    let (mut service, mut raw, mut peer) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..bench.scale.runs {
        service.push(service_pages(bench, &big.key, &service_body, requests).await);
        let (pool, sql, tenant) = (bench.pool.clone(), sql.clone(), big.id);
        raw.push(
            drive(CLIENTS, requests, 1, move |_| {
                let (pool, sql) = (pool.clone(), sql.clone());
                async move {
                    let now = Utc::now();
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                        .bind(tenant)
                        .bind(FILTER_ACTION)
                        .bind(from)
                        .bind(to)
                        .bind(now - Duration::days(RETENTION_DAYS))
                        .fetch_all(&pool)
                        .await
                        .expect("raw page");
                    assert_eq!(rows.len(), 51);
                }
            })
            .await,
        );
        if let Some(server) = &bench.peer {
            let (server, b) = (server.clone(), peer_body.clone());
            peer.push(
                drive(CLIENTS, requests, 1, move |_| {
                    let (server, b) = (server.clone(), b.clone());
                    async move {
                        let data = server.post(b).await;
                        assert_eq!(
                            data["allAuditEvents"]["edges"].as_array().map(Vec::len),
                            Some(50)
                        );
                    }
                })
                .await,
            );
        }
    }
    let (service, raw) = (Summary::of(&service), Summary::of(&raw));
    let scenario = "filtered first page";
    rows.push(Row {
        scenario,
        system: "auditlog auditEvents(first: 50, filter)".into(),
        unit: "pages/s",
        ratio: format!("p50 {:.2}× raw SQL", service.p50_ms / raw.p50_ms),
        summary: service.clone(),
    });
    rows.push(Row {
        scenario,
        system: "raw SQL (the service's query)".into(),
        unit: "pages/s",
        ratio: "baseline".into(),
        summary: raw.clone(),
    });
    goals.push(Goal::check(
        scenario,
        "p50 ≤ 1.5× the raw SQL round trip",
        service.p50_ms / raw.p50_ms,
        1.5,
        false,
        format!("{:.2}×", service.p50_ms / raw.p50_ms),
    ));
    goals.push(Goal::check(
        scenario,
        "≥ 5,000 pages/s",
        service.rate,
        5_000.0,
        true,
        format!("{:.0} pages/s", service.rate),
    ));
    if peer.is_empty() {
        goals.push(Goal::not_run(
            scenario,
            "ahead of PostGraphile",
            "PostGraphile not started",
        ));
        return;
    }
    let peer = Summary::of(&peer);
    rows.push(Row {
        scenario,
        system: "PostGraphile allAuditEvents(first: 50, filter)".into(),
        unit: "pages/s",
        ratio: format!("auditlog p50 {:.2}× of it", service.p50_ms / peer.p50_ms),
        summary: peer.clone(),
    });
    goals.push(Goal::check(
        scenario,
        "ahead of PostGraphile (p50 and rate)",
        (peer.p50_ms / service.p50_ms).min(service.rate / peer.rate),
        1.0,
        true,
        format!(
            "p50 {:.2} vs {:.2} ms, {:.0} vs {:.0} pages/s",
            service.p50_ms, peer.p50_ms, service.rate, peer.rate
        ),
    ));
}

pub(crate) async fn deep(bench: &Bench, big: &Tenant, rows: &mut Vec<Row>, goals: &mut Vec<Goal>) {
    let scenario = "deep page";
    let position = bench
        .scale
        .deep_position
        .min(bench.scale.seed_big.saturating_sub(100));
    // Walk to the position through the API, 500 at a time, keeping only the cursor.
    let walk = "query Walk($after: String) { auditEvents(first: 500, after: $after) { \
                pageInfo { endCursor } } }";
    let mut cursor = Value::Null;
    let started = std::time::Instant::now();
    for _ in 0..position / 500 {
        let data = bench
            .graphql(&big.key, body(walk, json!({ "after": cursor })))
            .await;
        cursor = data["auditEvents"]["pageInfo"]["endCursor"].clone();
    }
    let reached = position / 500 * 500;
    eprintln!(
        "deep page: walked to position {reached} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let at: (DateTime<Utc>, uuid::Uuid) = {
        let row = sqlx::query(
            "SELECT occurred_at, id FROM audit_events WHERE tenant_id = $1 \
             ORDER BY occurred_at DESC, id DESC OFFSET $2 LIMIT 1",
        )
        .bind(big.id)
        .bind(reached as i64 - 1)
        .fetch_one(&bench.pool)
        .await
        .expect("the row at the deep position");
        (row.get(0), row.get(1))
    };
    let first = body(PAGE, json!({ "first": 50 }));
    let deep = body(PAGE, json!({ "first": 50, "after": cursor }));
    let sql = Arc::new(format!(
        "SELECT {COLUMNS_READ} FROM audit_events WHERE tenant_id = $1 AND occurred_at >= $2 \
         AND (occurred_at, id) < ($3, $4) ORDER BY occurred_at DESC, id DESC LIMIT 51"
    ));
    let requests = bench.scale.page_requests;
    let (mut page1, mut deep_runs, mut raw) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..bench.scale.runs {
        for (body, runs) in [(&first, &mut page1), (&deep, &mut deep_runs)] {
            runs.push(service_pages(bench, &big.key, body, requests).await);
        }
        let (pool, sql, tenant) = (bench.pool.clone(), sql.clone(), big.id);
        raw.push(
            drive(CLIENTS, requests, 1, move |_| {
                let (pool, sql) = (pool.clone(), sql.clone());
                async move {
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                        .bind(tenant)
                        .bind(Utc::now() - Duration::days(RETENTION_DAYS))
                        .bind(at.0)
                        .bind(at.1)
                        .fetch_all(&pool)
                        .await
                        .expect("raw deep page");
                    assert_eq!(rows.len(), 51);
                }
            })
            .await,
        );
    }
    let (page1, deep, raw) = (
        Summary::of(&page1),
        Summary::of(&deep_runs),
        Summary::of(&raw),
    );
    rows.push(Row {
        scenario,
        system: "auditlog page 1 (first: 50)".into(),
        unit: "pages/s",
        ratio: "baseline".into(),
        summary: page1.clone(),
    });
    rows.push(Row {
        scenario,
        system: format!("auditlog page after position {reached}"),
        unit: "pages/s",
        ratio: format!("p50 {:.2}× page 1", deep.p50_ms / page1.p50_ms),
        summary: deep.clone(),
    });
    rows.push(Row {
        scenario,
        system: format!("raw keyset SQL at position {reached}"),
        unit: "pages/s",
        ratio: format!("auditlog deep p50 {:.2}× it", deep.p50_ms / raw.p50_ms),
        summary: raw,
    });
    let ratio = deep.p50_ms / page1.p50_ms;
    goals.push(Goal {
        scenario,
        goal: "same latency as page 1 (± 20 %)".into(),
        measured: format!("p50 {:.2}× page 1", ratio),
        status: if (0.8..=1.2).contains(&ratio) {
            "met".into()
        } else {
            format!("missed by {:.0} %", ((ratio - 1.0).abs() - 0.2) * 100.0)
        },
    });
}

/// `requests` requests of the service's page `body` from [`CLIENTS`] clients,
/// each checked to return a full page of 50 events.
async fn service_pages(
    bench: &Bench,
    key: &str,
    body: &[u8],
    requests: usize,
) -> super::stats::Run {
    let (app, key, body) = (bench.app.clone(), key.to_owned(), body.to_vec());
    drive(CLIENTS, requests, 1, move |_| {
        let (app, key, body) = (app.clone(), key.clone(), body.clone());
        async move {
            let data = super::service_graphql(&app, &key, body).await;
            assert_eq!(
                data["auditEvents"]["edges"].as_array().map(Vec::len),
                Some(50)
            );
        }
    })
    .await
}
