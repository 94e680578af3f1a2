//! The benchmark harness of `bench` (issue 7): the shared context of one run
//! ([`Bench`]: the service on PostgreSQL, a raw driver pool and PostGraphile over
//! the same database), the sizes of each [`Scale`], and the scenario modules.
//!
//! Layout:
//! - [`stats`]: timed runs from concurrent clients, percentiles, summaries.
//! - [`events`]: realistic synthetic events in each system's input shape.
//! - [`postgraphile`]: the peer, installed and started as a child process.
//! - [`report`]: the result table, goal statuses and `BENCHMARKS.md`.
//! - one module per scenario: [`ingest`] (batched and single-event),
//!   [`documents`] (the document cache's saving per request), [`pages`]
//!   (filtered first page and deep page), [`live`], [`idle`] (live at scale),
//!   [`purge`], [`embedded`], [`export`], [`streams`], [`reads`] (every viewer read on a big tenant,
//!   with its events in [`read_events`]).

pub(crate) mod documents;
pub(crate) mod embedded;
pub(crate) mod events;
pub(crate) mod export;
pub(crate) mod idle;
pub(crate) mod ingest;
pub(crate) mod integrity;
pub(crate) mod live;
pub(crate) mod pages;
pub(crate) mod postgraphile;
pub(crate) mod purge;
pub(crate) mod read_events;
pub(crate) mod reads;
pub(crate) mod report;
pub(crate) mod stats;
pub(crate) mod streams;

use std::sync::Arc;

use auditlog_tests::{Client, TestApp};
use sea_orm::sqlx::postgres::{PgPool, PgPoolOptions};
use serde_json::Value;
use uuid::Uuid;

use postgraphile::Postgraphile;

/// Sizes of every scenario. `tiny` runs in seconds (CI), `default` in under 15
/// minutes on the 2-core development machine.
#[derive(Clone, Debug)]
pub(crate) struct Scale {
    pub name: &'static str,
    /// Repetitions of every measurement.
    pub runs: usize,
    /// Events per run recorded by the service and by COPY (batches of 500).
    pub ingest_events: usize,
    /// Events per run inserted through PostGraphile (it is much slower).
    pub peer_ingest_events: usize,
    /// Single-event requests per run.
    pub single_events: usize,
    /// Events seeded for the page scenarios, over `seed_tenants` tenants.
    pub seed_total: usize,
    /// Events of the big tenant (included in `seed_total`).
    pub seed_big: usize,
    pub seed_tenants: usize,
    /// Page requests per run and system.
    pub page_requests: usize,
    /// Position of the deep page's cursor in the big tenant.
    pub deep_position: usize,
    pub live_subscribers: usize,
    pub live_rate: usize,
    pub live_seconds: u64,
    /// Idle subscribers of the live-at-scale scenario.
    pub idle_subscribers: usize,
    /// Expired events purged per run, among `purge_total` stored.
    pub purge_expired: usize,
    pub purge_total: usize,
    /// Events per run of the embedded (SQLite) ingest.
    pub embedded_events: usize,
    /// Events of the exported tenant, and how long the slow (1 MiB/s) reader reads.
    pub export_events: usize,
    pub export_slow_seconds: u64,
    /// Reads at scale: the big tenant's events, each other tenant's, the
    /// number of tenants, requests per read, run and system, and the SQLite tenant.
    pub reads_big: usize,
    pub reads_others: usize,
    pub reads_tenants: usize,
    pub reads_requests: usize,
    pub reads_sqlite_big: usize,
    /// Integrity: leaves of the big tree, proofs per run and client pool,
    /// and tenants whose heads one signer pass signs.
    pub integrity_tree: usize,
    pub integrity_proofs: usize,
    pub integrity_tenants: usize,
    /// Streams: the backlog of the one-stream run, seconds of live load, and
    /// the tenants and streams per tenant of the many-streams run.
    pub streams_backlog: usize,
    pub streams_seconds: u64,
    pub streams_tenants: usize,
    pub streams_per_tenant: usize,
}

impl Scale {
    pub(crate) fn named(name: &str) -> Option<Scale> {
        let tiny = Scale {
            name: "tiny",
            runs: 3,
            ingest_events: 1_000,
            peer_ingest_events: 200,
            single_events: 200,
            seed_total: 6_000,
            seed_big: 3_000,
            seed_tenants: 10,
            page_requests: 40,
            deep_position: 1_000,
            live_subscribers: 20,
            live_rate: 200,
            live_seconds: 1,
            idle_subscribers: 100,
            purge_expired: 1_000,
            purge_total: 3_000,
            embedded_events: 1_000,
            export_events: 3_000,
            export_slow_seconds: 1,
            reads_big: 3_000,
            reads_others: 100,
            reads_tenants: 3,
            reads_requests: 4,
            reads_sqlite_big: 2_000,
            integrity_tree: 10_000,
            integrity_proofs: 50,
            integrity_tenants: 20,
            streams_backlog: 2_000,
            streams_seconds: 2,
            streams_tenants: 5,
            streams_per_tenant: 2,
        };
        match name {
            "tiny" => Some(tiny),
            "small" => Some(Scale {
                name: "small",
                ingest_events: 20_000,
                peer_ingest_events: 2_000,
                single_events: 4_000,
                seed_total: 300_000,
                seed_big: 120_000,
                seed_tenants: 100,
                page_requests: 1_000,
                deep_position: 60_000,
                live_subscribers: 200,
                live_rate: 1_000,
                live_seconds: 3,
                idle_subscribers: 1_000,
                purge_expired: 50_000,
                purge_total: 150_000,
                embedded_events: 20_000,
                export_events: 200_000,
                export_slow_seconds: 10,
                reads_big: 300_000,
                reads_others: 2_000,
                reads_tenants: 20,
                reads_requests: 100,
                reads_sqlite_big: 100_000,
                integrity_tree: 1_000_000,
                integrity_proofs: 500,
                integrity_tenants: 200,
                streams_backlog: 50_000,
                streams_seconds: 10,
                streams_tenants: 20,
                streams_per_tenant: 10,
                ..tiny
            }),
            "default" => Some(Scale {
                name: "default",
                ingest_events: 100_000,
                peer_ingest_events: 5_000,
                single_events: 20_000,
                seed_total: 5_000_000,
                seed_big: 2_000_000,
                seed_tenants: 100,
                page_requests: 4_000,
                deep_position: 1_000_000,
                live_subscribers: 1_000,
                live_rate: 1_000,
                live_seconds: 5,
                idle_subscribers: 10_000,
                purge_expired: 1_000_000,
                purge_total: 3_000_000,
                embedded_events: 50_000,
                export_events: 2_000_000,
                export_slow_seconds: 20,
                reads_big: 10_000_000,
                reads_others: 10_000,
                reads_tenants: 100,
                reads_requests: 200,
                reads_sqlite_big: 1_000_000,
                integrity_tree: 10_000_000,
                integrity_proofs: 1_000,
                integrity_tenants: 1_000,
                streams_backlog: 200_000,
                streams_seconds: 30,
                streams_tenants: 100,
                streams_per_tenant: 10,
                ..tiny
            }),
            _ => None,
        }
    }
}

/// A tenant created through the API, with its ADMIN key.
#[derive(Clone, Debug)]
pub(crate) struct Tenant {
    pub id: Uuid,
    pub key: String,
}

/// What every PostgreSQL scenario shares.
pub(crate) struct Bench {
    pub scale: Scale,
    /// The service on its own database of the throwaway cluster.
    pub app: Arc<TestApp>,
    /// A plain sqlx pool on the same database (the raw baseline).
    pub pool: PgPool,
    /// PostGraphile over the same database, when a scenario needs it.
    pub peer: Option<Arc<Postgraphile>>,
}

impl Bench {
    pub(crate) async fn new(scale: Scale, app: TestApp, with_peer: bool) -> Bench {
        let pool = PgPoolOptions::new()
            .max_connections(64)
            .connect(app.superuser_database_url())
            .await
            .expect("raw PostgreSQL pool");
        let peer = if with_peer {
            Some(Arc::new(
                Postgraphile::start(app.superuser_database_url()).await,
            ))
        } else {
            None
        };
        Bench {
            scale,
            app: Arc::new(app),
            pool,
            peer,
        }
    }

    /// Creates `count` tenants `<prefix>-<n>` through the API.
    pub(crate) async fn tenants(&self, prefix: &str, count: usize, plan: &str) -> Vec<Tenant> {
        create_tenants(&self.app, prefix, count, plan).await
    }

    /// POSTs a prepared GraphQL body to the service; panics on errors.
    pub(crate) async fn graphql(&self, key: &str, body: Vec<u8>) -> Value {
        service_graphql(&self.app, key, body).await
    }
}

pub(crate) async fn create_tenants(
    app: &Client,
    prefix: &str,
    count: usize,
    plan: &str,
) -> Vec<Tenant> {
    let mut tenants = Vec::with_capacity(count);
    for n in 0..count {
        let handle = app.create_tenant(&format!("{prefix}-{n}"), plan).await;
        tenants.push(Tenant {
            id: Uuid::parse_str(&handle.id).expect("tenant id"),
            key: handle.admin_key,
        });
    }
    tenants
}

/// POSTs a prepared GraphQL JSON body to the service and returns its `data`;
/// panics on errors.
pub(crate) async fn service_graphql(app: &Client, key: &str, body: Vec<u8>) -> Value {
    app.post_raw(body, "application/json", Some(key))
        .await
        .into_data()
}

/// `{"query": …, "variables": …}` as bytes.
pub(crate) fn body(query: &str, variables: Value) -> Vec<u8> {
    serde_json::json!({ "query": query, "variables": variables })
        .to_string()
        .into_bytes()
}

/// Gives a seeded tenant's Merkle tree the frontier of `counter` leaves,
/// then sets its counter to `counter` (its last sequence), as seeding writes
/// events around the event store (`database::store_tree_frontier`).
pub(crate) async fn set_counter(pool: &PgPool, tenant: Uuid, counter: i64) {
    let db = sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(pool.clone());
    let size = u64::try_from(counter).expect("a counter");
    auditlog_tests::database::store_tree_frontier(&db, tenant, size).await;
    sea_orm::sqlx::query("UPDATE tenants SET event_counter = $2 WHERE id = $1")
        .bind(tenant)
        .bind(counter)
        .execute(pool)
        .await
        .expect("store the counter");
}

/// Streams COPY text lines into `audit_events` over one pooled connection.
pub(crate) async fn copy_in(pool: &PgPool, lines: &[u8]) {
    let mut conn = pool.acquire().await.expect("a pooled connection");
    let mut copy = conn
        .copy_in_raw(&format!(
            "COPY audit_events ({}) FROM STDIN",
            events::COLUMNS
        ))
        .await
        .expect("COPY start");
    copy.send(lines).await.expect("COPY data");
    copy.finish().await.expect("COPY finish");
}
