//! In-process purge passes (`auditlog_worker::purge::Purger`, the code the
//! worker and the service run): exactly the expired events of each tenant go,
//! per plan and configured days; legal hold; batches; concurrency; interruption.

use std::collections::BTreeSet;
use std::time::Duration;

use auditlog_tests::database::{self, purge_settings, purger, tenant_uuid};
use auditlog_tests::{Backend, TestApp, backend_tests, prometheus, spawn_app, spawn_app_with};
use sea_orm::DatabaseConnection;
use serde_json::Value;
use uuid::Uuid;

use super::{days_ago, events_with_action};
use crate::helpers::instant;

/// Ages (days) of the planted events, two of each, all a day or more away from
/// every period used (7, 30, 90).
const AGES: [i64; 8] = [1, 6, 8, 29, 31, 89, 91, 400];

/// Plants two events at each of [`AGES`]; returns `(age, id)` pairs.
async fn plant_ages(db: &DatabaseConnection, tenant: Uuid) -> Vec<(i64, Uuid)> {
    let mut planted = Vec::new();
    for age in AGES {
        for id in database::plant(db, tenant, &format!("entry.age_{age}"), days_ago(age), 2).await {
            planted.push((age, id));
        }
    }
    planted
}

/// The planted ids younger than `days`, plus every other stored event (self-audit).
fn expected_after_purge(
    planted: &[(i64, Uuid)],
    before: &BTreeSet<Uuid>,
    days: i64,
) -> BTreeSet<Uuid> {
    let expired: BTreeSet<Uuid> = planted
        .iter()
        .filter(|(age, _)| *age >= days)
        .map(|(_, id)| *id)
        .collect();
    before.difference(&expired).copied().collect()
}

/// The single `retention.purge` event of the tenant, read through the API.
async fn only_purge_report(app: &TestApp, key: &str) -> Value {
    let reports = events_with_action(app, key, "retention.purge").await;
    assert_eq!(reports.len(), 1, "one report per pass: {reports:?}");
    reports[0].clone()
}

async fn a_pass_deletes_exactly_the_expired_events_of_each_tenant(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = database::connect(app.database_url()).await;
    let team = app.create_tenant("team-co", "TEAM").await;
    let enterprise = app.create_tenant("big-co", "ENTERPRISE").await;
    let custom = app.create_tenant("custom-co", "ENTERPRISE").await;
    app.set_retention(Some(&custom.admin_key), 30)
        .await
        .field("setRetentionPolicy");

    let mut cases = Vec::new();
    for (tenant, days) in [(&team, 7), (&enterprise, 90), (&custom, 30)] {
        let id = tenant_uuid(&tenant.id);
        let planted = plant_ages(&db, id).await;
        let before = database::stored_ids(&db, id).await;
        cases.push((tenant, id, days, planted, before));
    }

    let report = purger(&db, purge_settings(1000)).run_pass().await.unwrap();
    assert_eq!(report.tenants, 3);
    assert_eq!(report.tenants_purged, 3);
    assert_eq!(report.events_deleted, 12 + 4 + 8);

    for (tenant, id, days, planted, before) in &cases {
        let expected = expected_after_purge(planted, before, *days);
        let after = database::stored_ids(&db, *id).await;
        let deleted = before.len() - expected.len();
        // The report itself is the one new event.
        assert_eq!(after.len(), expected.len() + 1, "tenant {}", tenant.slug);
        assert!(
            expected.is_subset(&after),
            "a kept event of {} was deleted",
            tenant.slug
        );

        let report = only_purge_report(&app, &tenant.admin_key).await;
        assert_eq!(report["actor"]["type"], "SYSTEM");
        assert_eq!(report["actor"]["id"], "retention-worker");
        assert_eq!(report["target"]["id"], tenant.id.as_str());
        let payload = &report["payload"];
        assert_eq!(payload["deleted"], deleted);
        assert_eq!(payload["retentionDays"], *days);
        let cutoff = instant(&payload["cutoff"]);
        let expected_cutoff = days_ago(*days);
        assert!(
            (expected_cutoff - cutoff).num_seconds().abs() < 120,
            "{payload}"
        );
        assert!(payload["plan"].is_string());
    }

    // Idempotent: a second pass deletes and records nothing.
    let again = purger(&db, purge_settings(1000)).run_pass().await.unwrap();
    assert_eq!((again.events_deleted, again.reports_recorded), (0, 0));
    for (tenant, ..) in &cases {
        only_purge_report(&app, &tenant.admin_key).await;
    }
}

async fn a_tenant_with_nothing_expired_is_left_alone(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = database::connect(app.database_url()).await;
    let busy = app.create_tenant("busy-co", "TEAM").await;
    let quiet = app.create_tenant("quiet-co", "TEAM").await;
    database::plant(&db, tenant_uuid(&busy.id), "entry.old", days_ago(10), 5).await;
    // Same ages, but this tenant's events are all recent.
    let recent = database::plant(&db, tenant_uuid(&quiet.id), "entry.new", days_ago(2), 5).await;
    let quiet_before = database::stored_ids(&db, tenant_uuid(&quiet.id)).await;

    let report = purger(&db, purge_settings(2)).run_pass().await.unwrap();
    assert_eq!((report.tenants_purged, report.events_deleted), (1, 5));
    assert_eq!(
        database::stored_ids(&db, tenant_uuid(&quiet.id)).await,
        quiet_before,
        "another tenant's purge touched this one"
    );
    assert_eq!(recent.len(), 5);
    assert!(
        events_with_action(&app, &quiet.admin_key, "retention.purge")
            .await
            .is_empty()
    );
    assert_eq!(
        only_purge_report(&app, &busy.admin_key).await["payload"]["deleted"],
        5
    );
}

async fn legal_hold_stops_purging_and_lifting_it_resumes(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = database::connect(app.database_url()).await;
    let held = app.create_tenant("held-co", "TEAM").await;
    let free = app.create_tenant("free-co", "TEAM").await;
    let held_id = tenant_uuid(&held.id);
    database::plant(&db, held_id, "entry.old", days_ago(30), 20).await;
    database::plant(&db, tenant_uuid(&free.id), "entry.old", days_ago(30), 20).await;
    app.operator_legal_hold(&held.id, true, Some("litigation"))
        .await
        .field("setLegalHold");
    let before = database::stored_count(&db, held_id).await;

    let report = purger(&db, purge_settings(7)).run_pass().await.unwrap();
    assert_eq!(report.tenants_on_hold, 1);
    assert_eq!(report.events_deleted, 20, "only the other tenant");
    assert_eq!(database::stored_count(&db, held_id).await, before);
    assert!(
        events_with_action(&app, &held.admin_key, "retention.purge")
            .await
            .is_empty()
    );

    app.operator_legal_hold(&held.id, false, None)
        .await
        .field("setLegalHold");
    let report = purger(&db, purge_settings(7)).run_pass().await.unwrap();
    assert_eq!(report.events_deleted, 20);
    assert_eq!(
        database::stored_with_action(&db, held_id, "entry.old")
            .await
            .len(),
        0
    );
    assert_eq!(
        only_purge_report(&app, &held.admin_key).await["payload"]["deleted"],
        20
    );
}

async fn concurrent_passes_purge_each_event_exactly_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = database::connect(app.database_url()).await;
    let mut tenants = Vec::new();
    for slug in ["t-one", "t-two", "t-three", "t-four"] {
        let tenant = app.create_tenant(slug, "TEAM").await;
        let id = tenant_uuid(&tenant.id);
        database::plant(&db, id, "entry.old", days_ago(20), 300).await;
        let kept = database::plant(&db, id, "entry.new", days_ago(1), 10).await;
        tenants.push((tenant, id, kept));
    }
    let first = purger(&db, purge_settings(25));
    let second = purger(&db, purge_settings(25));
    let (a, b) = tokio::join!(first.run_pass(), second.run_pass());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.events_deleted + b.events_deleted, 4 * 300, "{a:?} {b:?}");
    assert_eq!(a.reports_recorded + b.reports_recorded, 4);
    for (tenant, id, kept) in &tenants {
        assert!(
            database::stored_with_action(&db, *id, "entry.old")
                .await
                .is_empty()
        );
        let stored = database::stored_ids(&db, *id).await;
        assert!(kept.iter().all(|id| stored.contains(id)));
        assert_eq!(
            only_purge_report(&app, &tenant.admin_key).await["payload"]["deleted"],
            300
        );
    }
}

async fn a_stopped_pass_reports_its_batches_and_the_next_completes(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = database::connect(app.database_url()).await;
    let tenant = app.create_tenant("big-co", "TEAM").await;
    let id = tenant_uuid(&tenant.id);
    database::plant(&db, id, "entry.old", days_ago(10), 3000).await;
    let kept = database::plant(&db, id, "entry.new", days_ago(1), 50).await;

    let stopped = purger(&db, purge_settings(5));
    let stopper = stopped.clone();
    let pass = tokio::spawn(async move { stopped.run_pass().await });
    // Stop once some batches have committed.
    while database::stored_count_with_action(&db, id, "entry.old").await == 3000 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stopper.stop();
    let first = pass.await.unwrap().unwrap();
    assert!(
        first.events_deleted > 0 && first.events_deleted < 3000,
        "{first:?}"
    );
    assert_eq!(first.reports_recorded, 1, "the batches done are reported");

    let second = purger(&db, purge_settings(500)).run_pass().await.unwrap();
    assert_eq!(first.events_deleted + second.events_deleted, 3000);
    let stored = database::stored_ids(&db, id).await;
    assert!(kept.iter().all(|id| stored.contains(id)));
    let reports = events_with_action(&app, &tenant.admin_key, "retention.purge").await;
    let total: i64 = reports
        .iter()
        .map(|r| r["payload"]["deleted"].as_i64().unwrap())
        .sum();
    assert_eq!((reports.len(), total), (2, 3000));
}

async fn the_service_purges_on_its_schedule(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.in_process_purge = true;
        settings.purge.purge_schedule = "* * * * * *".into();
    })
    .await;
    let db = database::connect(app.database_url()).await;
    let tenant = app.create_tenant("team-co", "TEAM").await;
    let id = tenant_uuid(&tenant.id);
    database::plant(&db, id, "entry.old", days_ago(8), 10).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if !events_with_action(&app, &tenant.admin_key, "retention.purge")
            .await
            .is_empty()
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no purge within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        database::stored_with_action(&db, id, "entry.old")
            .await
            .is_empty()
    );
    let report = only_purge_report(&app, &tenant.admin_key).await;
    assert_eq!(report["payload"]["deleted"], 10);
    assert!(
        report["payload"]["worker"]
            .as_str()
            .is_some_and(|holder| holder.starts_with("auditlog-")),
        "{report}"
    );
    // Later ticks find nothing more to do.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        events_with_action(&app, &tenant.admin_key, "retention.purge")
            .await
            .len(),
        1
    );
    // The pass is visible to operators on /metrics (the recorder is shared by
    // every app of this test process, so counts are lower bounds).
    let metrics = app.metrics().await;
    let at_least = |series: &str, minimum: f64| {
        let value = prometheus::sample(&metrics, series);
        assert!(
            value.is_some_and(|value| value >= minimum),
            "{series} = {value:?}, expected >= {minimum}; purge series: {:#?}",
            prometheus::series_starting_with(&metrics, "auditlog_purge")
        );
    };
    at_least(r#"auditlog_purge_passes_total{outcome="completed"}"#, 1.0);
    at_least(r#"auditlog_purge_events_deleted_total{plan="team"}"#, 10.0);
    at_least("auditlog_purge_last_completed_timestamp_seconds", 1.0);
    at_least(
        r#"auditlog_purge_pass_duration_seconds_count{outcome="completed"}"#,
        1.0,
    );
}

backend_tests!(
    a_pass_deletes_exactly_the_expired_events_of_each_tenant,
    a_tenant_with_nothing_expired_is_left_alone,
    legal_hold_stops_purging_and_lifting_it_resumes,
    concurrent_passes_purge_each_event_exactly_once,
    a_stopped_pass_reports_its_batches_and_the_next_completes,
    the_service_purges_on_its_schedule,
);
