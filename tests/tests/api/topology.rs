//! The deployment topology of `deploy/compose.yaml`, proven on one machine:
//! PostgreSQL, migrations by the `migration` binary, two `auditlog` replicas and
//! two `auditlog-worker` processes, configured as Compose configures them
//! (`AUDITLOG_AUTO_MIGRATE=false`, `AUDITLOG_IN_PROCESS_PURGE=false`, a shared
//! operator token and cursor key).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use auditlog_tests::database::{self, tenant_uuid};
use auditlog_tests::process::ServerProcess;
use auditlog_tests::queries::{RECORD_EVENTS, SUBSCRIPTION};
use auditlog_tests::ws::WsClient;
use auditlog_tests::{Backend, Client, worker};
use chrono::Utc;
use serde_json::{Value, json};
use tokio::sync::RwLock;

use crate::helpers::sequence;

const SERVER: &str = env!("CARGO_BIN_EXE_auditlog-server-for-tests");
const WORKER: &str = env!("CARGO_BIN_EXE_auditlog-worker-for-tests");
const MIGRATION: &str = env!("CARGO_BIN_EXE_migration-for-tests");
const OPERATOR: &str = "topology-operator-token-of-at-least-32-characters";

fn replica_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AUDITLOG_AUTO_MIGRATE", "false"),
        ("AUDITLOG_IN_PROCESS_PURGE", "false"),
        ("AUDITLOG_OPERATOR_TOKEN", OPERATOR),
        (
            "AUDITLOG_CURSOR_KEY",
            "topology-cursor-key-of-at-least-32-characters",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compose_topology_on_one_machine() {
    let database = Backend::Postgres.create_database().await;
    let url = database.url.clone();

    // 1. Migrations by the migration binary as the schema owner, as the one-shot
    //    Compose service does; everything else runs as the service's own role.
    let migrated = tokio::process::Command::new(MIGRATION)
        .arg("up")
        .env("DATABASE_URL", &database.owner_url)
        .output()
        .await
        .expect("run migration up");
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );

    // 2. Two replicas, sharing nothing but the database and the configuration.
    let env = replica_env();
    let mut replica_a = ServerProcess::start(SERVER, &url, &env).await;
    let mut replica_b = ServerProcess::start(SERVER, &url, &env).await;
    // The image's HEALTHCHECK command: healthy replicas pass, a closed port fails.
    for (address, healthy) in [
        (replica_a.address.clone(), true),
        ("http://127.0.0.1:1".to_owned(), false),
    ] {
        let check = tokio::process::Command::new(SERVER)
            .arg("healthcheck")
            .env("AUDITLOG_LISTEN", address.trim_start_matches("http://"))
            .output()
            .await
            .expect("run healthcheck");
        assert_eq!(check.status.success(), healthy, "healthcheck of {address}");
    }
    let (client_a, client_b) = (replica_a.client(OPERATOR), replica_b.client(OPERATOR));
    let team = client_a.create_tenant("team-co", "TEAM").await;
    let (team_id, team_key) = (team.id, team.admin_key);
    let big_key = client_b
        .create_tenant("big-co", "ENTERPRISE")
        .await
        .admin_key;

    // 3. Recorded through either replica, readable through both; a subscriber on
    //    A receives what B records, in sequence order.
    let mut ws = WsClient::connect_and_init(&replica_a.ws_url(), &big_key).await;
    ws.subscribe("tail", SUBSCRIPTION, json!({ "after": 1 }))
        .await;
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.next_json().await["type"], "pong");
    let batch = json!([
        { "action": "entry.create", "actor": { "type": "USER", "id": "u" } },
        { "action": "entry.update", "actor": { "type": "USER", "id": "u" } },
    ]);
    let via_b = client_b.record(&big_key, batch.clone()).await.body;
    let via_a = client_a.record(&big_key, batch).await.body;
    let mut recorded: Vec<Value> = Vec::new();
    for response in [&via_b, &via_a] {
        recorded.extend(
            response["data"]["recordAuditEvents"]["events"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
    }
    assert_eq!(recorded.len(), 4, "{via_b} {via_a}");
    for event in &recorded {
        for replica in [&client_a, &client_b] {
            let id = event["id"].as_str().unwrap_or_default();
            let read = replica.event(&big_key, id).await.body;
            assert_eq!(
                read["data"]["auditEvent"]["sequence"], event["sequence"],
                "{read}"
            );
        }
    }
    let received: Vec<i64> = {
        let mut received = Vec::new();
        for _ in 0..4 {
            received.push(sequence(&ws.next_event("tail").await));
        }
        received
    };
    assert_eq!(received, vec![2, 3, 4, 5]);

    // 4. Two workers on a one-second schedule purge each expired event once and
    //    report once per tenant.
    let db = database::connect(&url).await;
    let team = tenant_uuid(&team_id);
    let big = {
        let read = client_a.tenant(Some(&big_key)).await.body;
        tenant_uuid(read["data"]["tenant"]["id"].as_str().unwrap_or_default())
    };
    // TEAM keeps 7 days, ENTERPRISE 90: both tenants have expired events.
    let days_ago = |days| Utc::now() - chrono::Duration::days(days);
    database::plant(&db, team, "entry.expired", days_ago(10), 500).await;
    database::plant(&db, big, "entry.expired", days_ago(100), 300).await;
    database::plant(&db, big, "entry.kept", days_ago(30), 20).await;
    let worker_env = [
        ("AUDITLOG_PURGE_SCHEDULE", "* * * * * *"),
        ("AUDITLOG_PURGE_BATCH_SIZE", "50"),
    ];
    let workers = [
        worker::spawn(WORKER, "run", &url, &worker_env),
        worker::spawn(WORKER, "run", &url, &worker_env),
    ];
    let mut waited = 0;
    while database::stored_count_with_action(&db, team, "entry.expired").await
        + database::stored_count_with_action(&db, big, "entry.expired").await
        > 0
    {
        assert!(waited < 600, "the workers did not purge within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    }
    // Let both workers run at least one more pass each: nothing more to report.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    for (key, deleted) in [(&team_key, 500), (&big_key, 300)] {
        let reports = client_b
            .list(
                key,
                json!({ "first": 50, "filter": { "actions": ["retention.purge"] } }),
            )
            .await
            .body;
        let reports = reports["data"]["auditEvents"]["edges"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            reports.len(),
            1,
            "one retention.purge per tenant: {reports:?}"
        );
        assert_eq!(reports[0]["node"]["payload"]["deleted"], deleted);
    }
    assert_eq!(
        database::stored_count_with_action(&db, big, "entry.kept").await,
        20,
        "unexpired events stay"
    );
    for worker in &workers {
        worker::terminate(worker).await;
    }

    // 5. Rolling restart under continuous ingestion with idempotency keys and retries.
    let addresses = Arc::new(RwLock::new(vec![
        replica_a.address.clone(),
        replica_b.address.clone(),
    ]));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for client_index in 0..4 {
        let (addresses, stop, key) = (addresses.clone(), stop.clone(), big_key.clone());
        clients.push(tokio::spawn(async move {
            let http = Client::new("", OPERATOR).with_timeout(Duration::from_secs(30));
            let mut acknowledged: BTreeMap<String, (String, i64)> = BTreeMap::new();
            let mut attempt = 0usize;
            let mut batch_index = 0;
            while !stop.load(Ordering::Relaxed) {
                let keys: Vec<String> = (0..5).map(|i| format!("c{client_index}-b{batch_index}-e{i}")).collect();
                let events: Vec<Value> = keys
                    .iter()
                    .map(|k| json!({ "action": "entry.rolling", "actor": { "type": "USER", "id": "roller" }, "idempotencyKey": k }))
                    .collect();
                loop {
                    attempt += 1;
                    let target = {
                        let list = addresses.read().await;
                        list[attempt % list.len()].clone()
                    };
                    let response = http
                        .at(target)
                        .try_graphql(RECORD_EVENTS, json!({ "events": events }), Some(&key))
                        .await;
                    // Connection refused/reset and 502/503 are retryable; anything
                    // else must be a success.
                    let Ok(response) = response else { continue };
                    if matches!(response.status.as_u16(), 502 | 503) {
                        continue;
                    }
                    // Not JSON (a broken response): retry.
                    let body = response.body;
                    if body.is_null() {
                        continue;
                    }
                    assert!(body["errors"].is_null(), "non-retryable error: {body}");
                    for (k, event) in keys.iter().zip(body["data"]["recordAuditEvents"]["events"].as_array().expect("events")) {
                        let stored = (event["id"].as_str().unwrap_or_default().to_owned(), sequence(event));
                        if let Some(previous) = acknowledged.insert(k.clone(), stored.clone()) {
                            assert_eq!(previous, stored, "a retried key must return the original event");
                        }
                    }
                    break;
                }
                batch_index += 1;
            }
            acknowledged
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for which in 0..2 {
        let replica = if which == 0 {
            &mut replica_a
        } else {
            &mut replica_b
        };
        let old = replica.address.clone();
        replica.terminate().await;
        assert_eq!(
            replica.wait().await,
            Some(0),
            "a replica exits 0 after SIGTERM"
        );
        addresses.write().await.retain(|address| *address != old);
        *replica = ServerProcess::start(SERVER, &url, &env).await;
        addresses.write().await.push(replica.address.clone());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = BTreeMap::new();
    for client in clients {
        acknowledged.extend(client.await.expect("client task"));
    }
    assert!(
        acknowledged.len() >= 40,
        "too little ingestion to prove anything: {}",
        acknowledged.len()
    );

    // Every acknowledged event is stored exactly once; the tenant's sequences are gapless.
    let stored = database::stored_with_action(&db, big, "entry.rolling").await;
    assert_eq!(
        stored.len(),
        acknowledged.len(),
        "stored events vs acknowledged events"
    );
    let stored_ids: std::collections::BTreeSet<String> =
        stored.iter().map(|e| e.id.to_string()).collect();
    for (key, (id, _)) in &acknowledged {
        assert!(
            stored_ids.contains(id),
            "acknowledged event {key} ({id}) is missing"
        );
    }
    let mut sequences: Vec<i64> = stored.iter().map(|e| e.sequence).collect();
    sequences.sort_unstable();
    let first = sequences.first().copied().unwrap_or(6);
    assert_eq!(
        sequences,
        (first..first + sequences.len() as i64).collect::<Vec<_>>(),
        "gapless"
    );
}
