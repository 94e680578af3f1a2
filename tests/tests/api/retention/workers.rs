//! The real `auditlog-worker` binary: `run-once`, two workers started together,
//! and a worker killed (SIGKILL) mid-pass then restarted.

use std::time::Duration;

use auditlog_tests::database::{self, tenant_uuid};
use auditlog_tests::worker::{self, run_once, spawn_run_once};
use auditlog_tests::{Backend, backend_tests, prometheus, spawn_app};
use uuid::Uuid;

use super::{days_ago, events_with_action};

const WORKER: &str = env!("CARGO_BIN_EXE_auditlog-worker-for-tests");

async fn run_once_purges_per_plan_and_configured_days(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = database::connect(app.database_url()).await;
    let team = app.create_tenant("team-co", "TEAM").await;
    let enterprise = app.create_tenant("big-co", "ENTERPRISE").await;
    app.set_retention(Some(&enterprise.admin_key), 45)
        .await
        .field("setRetentionPolicy");
    let (team_id, enterprise_id) = (tenant_uuid(&team.id), tenant_uuid(&enterprise.id));
    for id in [team_id, enterprise_id] {
        database::plant(&db, id, "entry.week", days_ago(10), 4).await;
        database::plant(&db, id, "entry.quarter", days_ago(60), 3).await;
        database::plant(&db, id, "entry.fresh", days_ago(2), 2).await;
    }

    let (code, stdout) = run_once(WORKER, app.database_url(), &[]).await;
    assert_eq!(code, Some(0), "stdout: {stdout}");
    assert!(stdout.contains("10 events deleted"), "{stdout}");

    let remaining = |id: Uuid, action: &'static str| {
        let db = db.clone();
        async move { database::stored_count_with_action(&db, id, action).await }
    };
    assert_eq!(remaining(team_id, "entry.week").await, 0);
    assert_eq!(remaining(team_id, "entry.quarter").await, 0);
    assert_eq!(remaining(team_id, "entry.fresh").await, 2);
    assert_eq!(
        remaining(enterprise_id, "entry.week").await,
        4,
        "45 days keep them"
    );
    assert_eq!(remaining(enterprise_id, "entry.quarter").await, 0);
    assert_eq!(remaining(enterprise_id, "entry.fresh").await, 2);
    for (tenant, deleted) in [(&team, 7), (&enterprise, 3)] {
        let reports = events_with_action(&app, &tenant.admin_key, "retention.purge").await;
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0]["payload"]["deleted"], deleted);
        assert_eq!(reports[0]["actor"]["type"], "SYSTEM");
    }

    // Operator configuration reaches the worker: a 1-day TEAM plan.
    let (code, _) = run_once(
        WORKER,
        app.database_url(),
        &[("AUDITLOG_TEAM_RETENTION_DAYS", "1")],
    )
    .await;
    assert_eq!(code, Some(0));
    assert_eq!(remaining(team_id, "entry.fresh").await, 0);
    assert_eq!(remaining(enterprise_id, "entry.fresh").await, 2);
}

async fn two_workers_started_together_purge_each_event_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = database::connect(app.database_url()).await;
    const EXPIRED: usize = 1500;
    let mut tenants = Vec::new();
    for slug in ["t-one", "t-two", "t-three", "t-four", "t-five", "t-six"] {
        let tenant = app.create_tenant(slug, "TEAM").await;
        let id = tenant_uuid(&tenant.id);
        database::plant(&db, id, "entry.old", days_ago(9), EXPIRED).await;
        let kept = database::plant(&db, id, "entry.new", days_ago(3), 20).await;
        tenants.push((tenant, id, kept));
    }
    let env = [("AUDITLOG_PURGE_BATCH_SIZE", "100")];
    let first = spawn_run_once(WORKER, app.database_url(), &env);
    let second = spawn_run_once(WORKER, app.database_url(), &env);
    let (first, second) = tokio::join!(first.wait_with_output(), second.wait_with_output());
    let mut deleted_by_workers = 0;
    for output in [first.unwrap(), second.unwrap()] {
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert_eq!(output.status.code(), Some(0), "{stdout}");
        deleted_by_workers += stdout
            .split(", ")
            .find_map(|part| part.strip_suffix(" events deleted"))
            .and_then(|count| count.parse::<usize>().ok())
            .unwrap_or_else(|| panic!("no count in {stdout}"));
    }
    assert_eq!(
        deleted_by_workers,
        6 * EXPIRED,
        "each event deleted exactly once"
    );
    for (tenant, id, kept) in &tenants {
        assert!(
            database::stored_with_action(&db, *id, "entry.old")
                .await
                .is_empty()
        );
        let stored = database::stored_ids(&db, *id).await;
        assert!(
            kept.iter().all(|id| stored.contains(id)),
            "a kept event was deleted"
        );
        let reports = events_with_action(&app, &tenant.admin_key, "retention.purge").await;
        assert_eq!(
            reports.len(),
            1,
            "one report per tenant and pass: {reports:?}"
        );
        assert_eq!(reports[0]["payload"]["deleted"], EXPIRED);
    }
}

async fn a_killed_worker_is_completed_by_the_next_run(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = database::connect(app.database_url()).await;
    let tenant = app.create_tenant("team-co", "TEAM").await;
    let id = tenant_uuid(&tenant.id);
    const EXPIRED: usize = 20_000;
    database::plant(&db, id, "entry.old", days_ago(30), EXPIRED).await;
    let kept = database::plant(&db, id, "entry.new", days_ago(1), 100).await;
    let env = [
        ("AUDITLOG_PURGE_BATCH_SIZE", "10"),
        ("AUDITLOG_PURGE_LEASE_SECS", "1"),
    ];

    let mut victim = spawn_run_once(WORKER, app.database_url(), &env);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while database::stored_count_with_action(&db, id, "entry.old").await == EXPIRED as u64 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the worker deleted nothing"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    victim.start_kill().expect("SIGKILL the worker");
    victim.wait().await.expect("reap the worker");
    let left = database::stored_count_with_action(&db, id, "entry.old").await;
    assert!(left > 0, "killed too late: the pass had finished");
    let stored = database::stored_ids(&db, id).await;
    assert!(
        kept.iter().all(|id| stored.contains(id)),
        "a kept event was deleted"
    );

    // The killed worker's lease expires after 1 s; then a new run finishes.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (code, stdout) = run_once(
        WORKER,
        app.database_url(),
        &[("AUDITLOG_PURGE_BATCH_SIZE", "1000")],
    )
    .await;
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!("{left} events deleted")),
        "{stdout}"
    );
    assert!(
        database::stored_with_action(&db, id, "entry.old")
            .await
            .is_empty()
    );
    let stored = database::stored_ids(&db, id).await;
    assert!(
        kept.iter().all(|id| stored.contains(id)),
        "a kept event was deleted"
    );
    // Every deletion is reported, the killed worker's included.
    let reports = events_with_action(&app, &tenant.admin_key, "retention.purge").await;
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0]["payload"]["deleted"], EXPIRED);
}

async fn the_scheduled_worker_purges_and_stops_cleanly_on_sigterm(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = database::connect(app.database_url()).await;
    let tenant = app.create_tenant("team-co", "TEAM").await;
    let id = tenant_uuid(&tenant.id);
    database::plant(&db, id, "entry.old", days_ago(8), 30).await;
    let mut scheduled = worker::spawn(
        WORKER,
        "run",
        app.database_url(),
        &[
            ("AUDITLOG_PURGE_SCHEDULE", "* * * * * *"),
            ("AUDITLOG_WORKER_METRICS_LISTEN", "127.0.0.1:0"),
        ],
    );
    let metrics_url = metrics_url(&mut scheduled).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while events_with_action(&app, &tenant.admin_key, "retention.purge")
        .await
        .is_empty()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no scheduled pass within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        database::stored_count_with_action(&db, id, "entry.old").await,
        0
    );
    // The worker's own /metrics (its process, so the count is exact).
    let metrics = app
        .client
        .get(&metrics_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        prometheus::sample(
            &metrics,
            r#"auditlog_purge_events_deleted_total{plan="team"}"#
        ),
        Some(30.0),
        "{:#?}",
        prometheus::series_starting_with(&metrics, "auditlog_purge")
    );
    assert!(
        prometheus::sample(
            &metrics,
            r#"auditlog_purge_passes_total{outcome="completed"}"#
        )
        .is_some_and(|passes| passes >= 1.0),
        "{metrics}"
    );
    worker::terminate(&scheduled).await;
    let status = tokio::time::timeout(Duration::from_secs(30), scheduled.wait())
        .await
        .expect("the worker exits after SIGTERM")
        .expect("reap the worker");
    assert_eq!(status.code(), Some(0), "clean exit");
}

/// The worker's "metrics on <url>" line.
async fn metrics_url(worker: &mut tokio::process::Child) -> String {
    let stdout = worker.stdout.take().expect("the worker's stdout is piped");
    auditlog_tests::process::await_stdout_line(stdout, "auditlog-worker metrics on ").await
}

backend_tests!(
    run_once_purges_per_plan_and_configured_days,
    two_workers_started_together_purge_each_event_once,
    a_killed_worker_is_completed_by_the_next_run,
    the_scheduled_worker_purges_and_stops_cleanly_on_sigterm,
);
