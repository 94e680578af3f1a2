//! `documents`: what the document cache (`graphql::documents`, issue 14) saves
//! on every request. The same frontend-sized query (a page of 10 events with
//! every field, through a fragment, with `__typename` everywhere as Apollo
//! Client sends it) against two services on the same PostgreSQL cluster: one
//! with `AUDITLOG_DOCUMENT_CACHE_BYTES` at its default, one with 0 (every
//! request scanned, parsed, checked and validated afresh). Each serves a
//! tenant of 10 events; runs alternate between the two, 4 clients each. A third
//! row sends the query as an automatic persisted query: its hash only.

use std::sync::Arc;

use auditlog_tests::{Backend, Client, spawn_app_with};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::report::{Goal, Row};
use super::stats::{Run, Summary, drive};
use super::{Bench, body, create_tenants, service_graphql};

const CLIENTS: usize = 4;
const EVENTS: usize = 10;

const QUERY: &str = "query RecentEvents($first: Int!, $filter: AuditEventFilter) { \
     auditEvents(first: $first, filter: $filter) { __typename \
     edges { __typename cursor node { ...EventRow } } \
     pageInfo { __typename hasNextPage endCursor } } } \
     fragment EventRow on AuditEvent { __typename id sequence action outcome occurredAt receivedAt \
     actor { __typename type actorId name email } target { __typename type targetId name } \
     context { __typename ipAddress userAgent requestId } payload }";

pub(crate) async fn documents(bench: &Bench, rows: &mut Vec<Row>, goals: &mut Vec<Goal>) {
    let uncached = Arc::new(
        spawn_app_with(Backend::Postgres, |settings| {
            settings.query_limits.document_cache_bytes = 0;
        })
        .await,
    );
    let cached_key = seeded_tenant(&bench.app, "doc-cached").await;
    let uncached_key = seeded_tenant(&uncached, "doc-uncached").await;
    let variables = json!({ "first": EVENTS, "filter": { "actionPrefix": "bench." } });
    let with_text = body(QUERY, variables.clone());
    let hash = hex::encode(Sha256::digest(QUERY.as_bytes()));
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let registered = json!({ "query": QUERY, "variables": variables, "extensions": extensions });
    service_graphql(&bench.app, &cached_key, registered.to_string().into_bytes()).await;
    let hash_only = json!({ "variables": variables, "extensions": extensions })
        .to_string()
        .into_bytes();

    let requests = bench.scale.page_requests;
    let (mut on, mut off, mut persisted) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..bench.scale.runs {
        on.push(pages(bench.app.clone(), &cached_key, &with_text, requests).await);
        off.push(pages(uncached.clone(), &uncached_key, &with_text, requests).await);
        persisted.push(pages(bench.app.clone(), &cached_key, &hash_only, requests).await);
    }
    let (on, off, persisted) = (Summary::of(&on), Summary::of(&off), Summary::of(&persisted));
    let scenario = "document cache";
    let saved_ms = off.p50_ms - on.p50_ms;
    rows.push(Row {
        scenario,
        system: format!("auditlog page of {EVENTS}, document cache on (default)"),
        unit: "pages/s",
        ratio: format!(
            "p50 {:.2}× off ({saved_ms:.2} ms saved per request)",
            on.p50_ms / off.p50_ms
        ),
        summary: on.clone(),
    });
    rows.push(Row {
        scenario,
        system: format!("auditlog page of {EVENTS}, persisted query (hash only)"),
        unit: "pages/s",
        ratio: format!("p50 {:.2}× off", persisted.p50_ms / off.p50_ms),
        summary: persisted.clone(),
    });
    rows.push(Row {
        scenario,
        system: format!("auditlog page of {EVENTS}, AUDITLOG_DOCUMENT_CACHE_BYTES=0"),
        unit: "pages/s",
        ratio: "baseline".into(),
        summary: off.clone(),
    });
    goals.push(Goal::check(
        scenario,
        "a repeated query costs less than a new one (p50 < 1× cache off)",
        on.p50_ms / off.p50_ms,
        1.0,
        false,
        format!("{:.2}×", on.p50_ms / off.p50_ms),
    ));
}

/// A new tenant holding [`EVENTS`] events; returns its ADMIN key.
async fn seeded_tenant(app: &Client, name: &str) -> String {
    let tenant = create_tenants(app, name, 1, "ENTERPRISE").await.remove(0);
    let events: Vec<Value> = (0..EVENTS)
        .map(|n| {
            json!({
                "action": format!("bench.page.n{n}"),
                "actor": { "type": "USER", "id": format!("user-{n}"), "name": "Ada", "email": "ada@example.com" },
                "target": { "type": "document", "id": format!("doc-{n}"), "name": "Plan" },
                "context": { "ipAddress": "203.0.113.7", "userAgent": "bench", "requestId": "r" },
                "payload": { "n": n },
            })
        })
        .collect();
    let record = "mutation Record($events: [AuditEventInput!]!) { \
                  recordAuditEvents(events: $events) { events { id } } }";
    service_graphql(app, &tenant.key, body(record, json!({ "events": events }))).await;
    tenant.key
}

/// `requests` POSTs of `request` from [`CLIENTS`] clients; each must answer a
/// full page.
async fn pages(
    app: Arc<auditlog_tests::TestApp>,
    key: &str,
    request: &[u8],
    requests: usize,
) -> Run {
    let (key, request) = (key.to_owned(), request.to_vec());
    drive(CLIENTS, requests, 1, move |_| {
        let (app, key, request) = (app.clone(), key.clone(), request.clone());
        async move {
            let data = service_graphql(&app, &key, request).await;
            assert_eq!(
                data["auditEvents"]["edges"].as_array().map(Vec::len),
                Some(EVENTS),
                "a full page"
            );
        }
    })
    .await
}
