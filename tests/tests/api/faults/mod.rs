//! Surviving faults (the durability part of the hardening issue): the real
//! `auditlog` binary under SIGKILL and SIGTERM, a PostgreSQL cluster crashed
//! with `pg_ctl stop -m immediate` while clients keep ingesting, `UNAVAILABLE`
//! while the database is down, readiness, and the start-up durability checks.
//!
//! The crash tests run against a dedicated cluster of their own
//! ([`auditlog_tests::postgres::DedicatedCluster`], `fsync=on`), never the
//! shared one. Their clients behave as the README tells clients to: every
//! batch carries idempotency keys and is retried, unchanged, until it is
//! acknowledged.

mod chaos;
mod durability;
mod readiness;
mod shutdown;
mod unavailable;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use auditlog_tests::Client;
use auditlog_tests::postgres::DedicatedCluster;
use auditlog_tests::process::{ServerProcess, send_signal};
use auditlog_tests::queries::RECORD_EVENTS;
use entity::audit_events;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tokio::sync::RwLock;
use tokio::task::JoinHandle;
use uuid::Uuid;

pub(crate) const SERVER: &str = env!("CARGO_BIN_EXE_auditlog-server-for-tests");
pub(crate) const OPERATOR: &str = "faults-operator-token-of-at-least-32-characters";

/// The service's environment in these tests: production mode (the default),
/// durability checks on (`fsync=on` on the dedicated cluster; SQLite is FULL).
pub(crate) fn server_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AUDITLOG_OPERATOR_TOKEN", OPERATOR),
        ("AUDITLOG_IN_PROCESS_PURGE", "false"),
        (
            "AUDITLOG_CURSOR_KEY",
            "faults-cursor-key-of-at-least-32-characters",
        ),
        ("AUDITLOG_ALLOW_UNSAFE_DURABILITY", "false"),
    ]
}

/// A PostgreSQL cluster of the calling test's own, which it may crash.
pub(crate) async fn dedicated_cluster() -> Arc<DedicatedCluster> {
    let cluster = tokio::task::spawn_blocking(DedicatedCluster::start)
        .await
        .expect("start the dedicated cluster");
    Arc::new(cluster)
}

/// `extensions.code` of the first error of a GraphQL body.
pub(crate) fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// A client of `process` as the operator, giving up on a request after 15 s.
pub(crate) fn client(process: &ServerProcess) -> Client {
    process
        .client(OPERATOR)
        .with_timeout(Duration::from_secs(15))
}

/// `GET path` (`/readyz`, `/healthz`); the status and JSON body (`Null` if not JSON).
pub(crate) async fn get(client: &Client, path: &str) -> (u16, Value) {
    let response = client.get(path, "*/*", None).await;
    (response.status.as_u16(), response.body)
}

/// Creates an ENTERPRISE tenant; returns its id and admin key.
pub(crate) async fn create_tenant(client: &Client, slug: &str) -> (Uuid, String) {
    let created = client.create_tenant(slug, "ENTERPRISE").await;
    (
        Uuid::parse_str(&created.id).expect("uuid"),
        created.admin_key,
    )
}

/// Starts the server, and keeps a client of its current address where the
/// ingesting clients read it.
pub(crate) struct Service {
    pub process: ServerProcess,
    pub target: Arc<RwLock<Client>>,
    database_url: String,
}

impl Service {
    pub(crate) async fn start(database_url: &str) -> Service {
        let process = ServerProcess::start(SERVER, database_url, &server_env()).await;
        let target = Arc::new(RwLock::new(client(&process)));
        Service {
            process,
            target,
            database_url: database_url.to_owned(),
        }
    }

    /// A client of the current process (as the operator, 15 s per request).
    pub(crate) async fn client(&self) -> Client {
        self.target.read().await.clone()
    }

    /// SIGKILL, then a new process on the same database (a new port).
    pub(crate) async fn kill_and_restart(&mut self) {
        send_signal(&self.process.child, "KILL").await;
        self.process.wait().await;
        self.process = ServerProcess::start(SERVER, &self.database_url, &server_env()).await;
        let moved = self.target.read().await.at(self.process.address.clone());
        *self.target.write().await = moved;
    }
}

/// What one tenant's clients were told: idempotency key → event id.
pub(crate) type Acknowledged = BTreeMap<String, String>;

/// What one client task returns: its acknowledged events and the error codes
/// (`<status> <code>`, or `transport`) it saw on the way.
type ClientOutcome = (Acknowledged, Vec<String>);

/// Clients recording batches of keyed events, each batch retried until acknowledged.
pub(crate) struct Ingestion {
    stop: Arc<AtomicBool>,
    clients: Vec<(Uuid, JoinHandle<ClientOutcome>)>,
}

/// Attempts per batch before a client gives up (a hang guard: about 2 minutes).
const MAX_ATTEMPTS: usize = 1200;

impl Ingestion {
    pub(crate) fn start(
        target: &Arc<RwLock<Client>>,
        tenants: &[(Uuid, String)],
        clients_per_tenant: usize,
    ) -> Ingestion {
        let stop = Arc::new(AtomicBool::new(false));
        let mut clients = Vec::new();
        for (tenant_index, (tenant, key)) in tenants.iter().enumerate() {
            for client_index in 0..clients_per_tenant {
                let (target, stop, key) = (target.clone(), stop.clone(), key.clone());
                let prefix = format!("t{tenant_index}-c{client_index}");
                clients.push((*tenant, tokio::spawn(run_client(target, stop, key, prefix))));
            }
        }
        Ingestion { stop, clients }
    }

    /// Stops the clients after their batch in flight; per tenant, what was
    /// acknowledged, and every error code the clients saw.
    pub(crate) async fn finish(self) -> (BTreeMap<Uuid, Acknowledged>, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        let mut acknowledged: BTreeMap<Uuid, Acknowledged> = BTreeMap::new();
        let mut codes = Vec::new();
        for (tenant, client) in self.clients {
            let (acked, seen) = client.await.expect("client task");
            acknowledged.entry(tenant).or_default().extend(acked);
            codes.extend(seen);
        }
        (acknowledged, codes)
    }
}

async fn run_client(
    target: Arc<RwLock<Client>>,
    stop: Arc<AtomicBool>,
    key: String,
    prefix: String,
) -> ClientOutcome {
    let mut acknowledged = Acknowledged::new();
    let mut codes = Vec::new();
    let mut batch = 0;
    while !stop.load(Ordering::Relaxed) {
        let keys: Vec<String> = (0..5).map(|i| format!("{prefix}-b{batch}-e{i}")).collect();
        let events: Vec<Value> = keys
            .iter()
            .map(|k| json!({ "action": "entry.fault", "actor": { "type": "USER", "id": "chaos" }, "idempotencyKey": k }))
            .collect();
        let mut attempts = 0;
        loop {
            attempts += 1;
            assert!(
                attempts <= MAX_ATTEMPTS,
                "batch {prefix}-b{batch} was never acknowledged"
            );
            let client = target.read().await.clone();
            let response = client
                .try_graphql(RECORD_EVENTS, json!({ "events": events }), Some(&key))
                .await
                .map(|response| (response.status.as_u16(), response.body));
            match response {
                Ok((200, body)) if body["errors"].is_null() => {
                    let stored = body["data"]["recordAuditEvents"]["events"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    assert_eq!(stored.len(), keys.len(), "{body}");
                    for (k, event) in keys.iter().zip(&stored) {
                        let id = event["id"].as_str().unwrap_or_default().to_owned();
                        if let Some(previous) = acknowledged.insert(k.clone(), id.clone()) {
                            assert_eq!(
                                previous, id,
                                "a retried key must return the original event"
                            );
                        }
                    }
                    break;
                }
                Ok((status, body)) => {
                    codes.push(format!("{status} {}", error_code(&body).unwrap_or("-")));
                }
                // The service is being killed or restarted: retry.
                Err(_) => codes.push("transport".into()),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        batch += 1;
    }
    (acknowledged, codes)
}

/// Every acknowledged event is stored exactly once (under its original id), no
/// idempotency key is stored twice, and each tenant's sequences are 1..=N.
pub(crate) async fn verify(database_url: &str, acknowledged: &BTreeMap<Uuid, Acknowledged>) {
    let db = auditlog_tests::database::connect(database_url).await;
    for (tenant, acked) in acknowledged {
        let rows = audit_events::Entity::find()
            .filter(audit_events::Column::TenantId.eq(*tenant))
            .all(&db)
            .await
            .expect("read the tenant's events");
        let mut sequences: Vec<i64> = rows.iter().map(|row| row.sequence).collect();
        sequences.sort_unstable();
        assert_eq!(
            sequences,
            (1..=rows.len() as i64).collect::<Vec<_>>(),
            "sequences of tenant {tenant} are not gapless"
        );
        let mut by_key: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for row in &rows {
            if let Some(key) = &row.idempotency_key {
                by_key.entry(key).or_default().push(row.id.to_string());
            }
        }
        for (key, ids) in &by_key {
            assert_eq!(
                ids.len(),
                1,
                "idempotency key {key} is stored {} times",
                ids.len()
            );
        }
        for (key, id) in acked {
            assert_eq!(
                by_key.get(key.as_str()),
                Some(&vec![id.clone()]),
                "acknowledged event {key} ({id}) is not stored exactly once"
            );
        }
    }
}
