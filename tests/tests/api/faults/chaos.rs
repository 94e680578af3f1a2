//! Acknowledged means durable: continuous keyed ingestion while the service is
//! SIGKILLed and the database crashed (`pg_ctl stop -m immediate`) several
//! times, once both together; at the end every acknowledged event is stored
//! exactly once and the sequences are gapless.

use std::time::Duration;

use auditlog_tests::Backend;

use super::{Ingestion, Service, create_tenant, verify};

/// Error codes a client may see while the service or the database is down:
/// transport errors (service killed) and `UNAVAILABLE` (database down).
fn assert_only_retryable(codes: &[String]) {
    let unexpected: Vec<&String> = codes
        .iter()
        .filter(|code| *code != "transport" && *code != "503 UNAVAILABLE")
        .collect();
    assert!(
        unexpected.is_empty(),
        "non-retryable errors: {unexpected:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_acknowledged_events_survive_killed_service_and_crashed_database() {
    let cluster = super::dedicated_cluster().await;
    let url = cluster.url();
    let mut service = Service::start(&url).await;
    let client = service.client().await;
    let tenants = vec![
        create_tenant(&client, "chaos-a").await,
        create_tenant(&client, "chaos-b").await,
    ];
    let ingestion = Ingestion::start(&service.target, &tenants, 2);

    for round in 0..3u64 {
        tokio::time::sleep(Duration::from_millis(300 + 150 * round)).await;
        service.kill_and_restart().await;
        tokio::time::sleep(Duration::from_millis(250 + 100 * round)).await;
        let crashed = cluster.clone();
        tokio::task::spawn_blocking(move || crashed.stop_immediate())
            .await
            .expect("pg_ctl stop");
        // The same service process stays up and answers UNAVAILABLE meanwhile
        // (certainly in the last round, which outlasts the 2 s acquire timeout).
        tokio::time::sleep(Duration::from_millis(400 + 1100 * round)).await;
        let restarted = cluster.clone();
        tokio::task::spawn_blocking(move || restarted.start_server())
            .await
            .expect("pg_ctl start");
    }
    // Both down at once: the service is killed while the database is crashed,
    // and its replacement starts before the database is back.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let crashed = cluster.clone();
    tokio::task::spawn_blocking(move || crashed.stop_immediate())
        .await
        .expect("pg_ctl stop");
    let restarted = cluster.clone();
    tokio::join!(service.kill_and_restart(), async move {
        tokio::time::sleep(Duration::from_millis(700)).await;
        tokio::task::spawn_blocking(move || restarted.start_server())
            .await
            .expect("pg_ctl start");
    });
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let (acknowledged, codes) = ingestion.finish().await;

    let total: usize = acknowledged.values().map(|acked| acked.len()).sum();
    assert!(
        total >= 100,
        "too little ingestion to prove anything: {total}"
    );
    assert!(
        codes.iter().any(|code| code == "503 UNAVAILABLE"),
        "the clients never saw the database down: {codes:?}"
    );
    assert_only_retryable(&codes);
    verify(&cluster.superuser_url(), &acknowledged).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_acknowledged_events_survive_a_killed_service() {
    let database = Backend::Sqlite.create_database().await;
    let mut service = Service::start(&database.url).await;
    let client = service.client().await;
    let tenants = vec![create_tenant(&client, "chaos-embedded").await];
    let ingestion = Ingestion::start(&service.target, &tenants, 3);
    for round in 0..3u64 {
        tokio::time::sleep(Duration::from_millis(300 + 150 * round)).await;
        service.kill_and_restart().await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (acknowledged, codes) = ingestion.finish().await;
    let total: usize = acknowledged.values().map(|acked| acked.len()).sum();
    assert!(
        total >= 50,
        "too little ingestion to prove anything: {total}"
    );
    assert_only_retryable(&codes);
    verify(&database.url, &acknowledged).await;
}
