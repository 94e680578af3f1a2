//! Reads from a PostgreSQL hot standby (`AUDITLOG_READ_DATABASE_URL`), made
//! for each test with `pg_basebackup -R` from a primary of its own
//! ([`auditlog_tests::postgres::ReplicatedCluster`]). PostgreSQL only: SQLite
//! has no replicas.
//!
//! Which server answered is told apart by pausing the standby's replay: an
//! event recorded then is on the primary only, so a list without it was
//! served by the standby, and one with it by the primary. Nothing waits a
//! fixed time: every change of state is polled for, with a deadline.

use std::future::Future;
use std::time::Duration;

use auditlog_tests::prometheus::sample;
use auditlog_tests::{TenantHandle, TestApp, spawn_app_with_standby, str_field};
use entity::store::tenant_scope;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, RuntimeErr,
    Statement,
};
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::events;

/// Longest a test waits for the standby to change state or catch up.
const DEADLINE: Duration = Duration::from_secs(60);

/// A lag bound no test reaches: the standby is bypassed only for being down.
const PATIENT_MS: u64 = 600_000;

/// Polls `check` until it returns `Some`, failing with `what` after [`DEADLINE`].
async fn eventually<T, F: Future<Output = Option<T>>>(what: &str, check: impl Fn() -> F) -> T {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `/readyz`: its HTTP status and body.
async fn readyz(app: &TestApp) -> (u16, Value) {
    let response = app.get("/readyz", "*/*", None).await;
    (response.status.as_u16(), response.body)
}

/// Waits until `/readyz` reports the standby in `state`, and returns its body.
async fn standby_becomes(app: &TestApp, state: &str) -> Value {
    eventually(
        &format!("/readyz says the standby is {state}"),
        || async move {
            let (status, body) = readyz(app).await;
            assert_eq!(
                status, 200,
                "the service stays ready whatever the standby: {body}"
            );
            (body["standby"]["state"] == state).then_some(body)
        },
    )
    .await
}

/// The ids of every event the tenant's list shows.
async fn listed(app: &TestApp, tenant: &TenantHandle) -> Vec<String> {
    app.all_events(&tenant.admin_key, Value::Null)
        .await
        .iter()
        .map(|event| str_field(event, "id"))
        .collect()
}

/// Waits until the tenant's list shows every one of `ids`.
async fn listed_eventually(app: &TestApp, tenant: &TenantHandle, ids: &[String]) {
    eventually("the list shows the events", || async move {
        let shown = listed(app, tenant).await;
        ids.iter().all(|id| shown.contains(id)).then_some(())
    })
    .await;
}

fn ids(recorded: &[Value]) -> Vec<String> {
    recorded
        .iter()
        .map(|event| str_field(event, "id"))
        .collect()
}

/// The actions of the tenant's `auditEventFacets`.
async fn facet_actions(app: &TestApp, tenant: &TenantHandle) -> Vec<String> {
    let response = app.facets(&tenant.admin_key).await;
    response.field("auditEventFacets")["actions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|facet| str_field(facet, "value"))
        .collect()
}

/// An app whose standby has replayed everything so far and serves reads.
async fn app_with_standby(max_lag_ms: u64) -> (TestApp, TenantHandle) {
    let app = spawn_app_with_standby(|settings| {
        settings.read_replica.read_max_lag_ms = max_lag_ms;
    })
    .await;
    let tenant = app.create_tenant("replica", "TEAM").await;
    let first = app
        .record_ok(&tenant.admin_key, events("before.pause", 1))
        .await;
    standby_becomes(&app, "ok").await;
    listed_eventually(&app, &tenant, &ids(&first)).await;
    (app, tenant)
}

/// Lists and facets come from the standby: while its replay is paused they
/// miss a new event, whose permalink opens all the same (from the primary);
/// once replay resumes, the list shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_come_from_the_standby_and_permalinks_fall_back_to_the_primary() {
    let (app, tenant) = app_with_standby(PATIENT_MS).await;
    app.replication().pause_replay().await;

    let recorded = app
        .record_ok(&tenant.admin_key, events("during.pause", 1))
        .await;
    let id = str_field(&recorded[0], "id");
    assert!(
        !listed(&app, &tenant).await.contains(&id),
        "the list comes from the paused standby, which has not replayed the event"
    );
    assert!(
        !facet_actions(&app, &tenant)
            .await
            .contains(&"during.pause".to_owned())
    );
    let permalink = app.event(&tenant.admin_key, &id).await;
    assert_eq!(
        permalink.field("auditEvent")["id"],
        id,
        "a permalink the standby lacks is looked up on the primary"
    );
    let (_, body) = readyz(&app).await;
    assert_eq!(body["standby"]["state"], "ok", "{body}");

    app.replication().resume_replay().await;
    listed_eventually(&app, &tenant, std::slice::from_ref(&id)).await;
    assert!(
        facet_actions(&app, &tenant)
            .await
            .contains(&"during.pause".to_owned())
    );

    let metrics = app.metrics().await;
    for server in ["standby", "primary"] {
        let series = format!("auditlog_db_reads_total{{server=\"{server}\"}}");
        assert!(
            sample(&metrics, &series).is_some_and(|count| count >= 1.0),
            "{series} in\n{metrics}"
        );
    }
    assert!(
        metrics.contains("auditlog_db_standby_lag_seconds"),
        "the lag gauge in\n{metrics}"
    );
}

/// A standby further behind than `AUDITLOG_READ_MAX_LAG_MS` is bypassed:
/// with replay paused and events recorded, `/readyz` says it lags and the
/// list (from the primary) shows the new events; after resuming it serves again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_standby_is_bypassed() {
    let (app, tenant) = app_with_standby(200).await;
    app.replication().pause_replay().await;

    let mut recorded = Vec::new();
    for batch in 0..3 {
        recorded.extend(
            app.record_ok(&tenant.admin_key, events(&format!("lag.batch{batch}"), 5))
                .await,
        );
    }
    let body = standby_becomes(&app, "lagging").await;
    assert_eq!(body["status"], "ready", "{body}");
    let lag_ms = body["standby"]["lag_ms"].as_u64();
    assert!(lag_ms.is_none_or(|lag| lag > 200), "{body}");
    let shown = listed(&app, &tenant).await;
    assert!(
        ids(&recorded).iter().all(|id| shown.contains(id)),
        "the primary serves the list while the standby lags"
    );

    app.replication().resume_replay().await;
    standby_becomes(&app, "ok").await;
    listed_eventually(&app, &tenant, &ids(&recorded)).await;
}

/// A stopped standby is bypassed: reads right after the stop (before the
/// background check noticed) and after it succeed from the primary,
/// `/readyz` reports it unreachable and stays 200; started again, it serves
/// again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_standby_is_bypassed_without_errors() {
    let (app, tenant) = app_with_standby(PATIENT_MS).await;
    app.replication().stop_standby().await;

    let recorded = app
        .record_ok(&tenant.admin_key, events("standby.down", 2))
        .await;
    let shown = listed(&app, &tenant).await;
    assert!(ids(&recorded).iter().all(|id| shown.contains(id)));
    assert!(
        facet_actions(&app, &tenant)
            .await
            .contains(&"standby.down".to_owned())
    );
    let permalink = app.event(&tenant.admin_key, &ids(&recorded)[0]).await;
    assert_eq!(permalink.field("auditEvent")["id"], ids(&recorded)[0]);

    let body = standby_becomes(&app, "unreachable").await;
    assert_eq!(body["status"], "ready", "{body}");
    assert_eq!(body["checks"]["database"], "ok", "{body}");
    assert!(body["standby"]["lag_ms"].is_null(), "{body}");
    assert_eq!(listed(&app, &tenant).await, shown);

    app.replication().start_standby().await;
    standby_becomes(&app, "ok").await;
    assert_eq!(listed(&app, &tenant).await, shown);
}

/// One connection to `url`.
async fn connect(url: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url.to_owned());
    options.max_connections(1).sqlx_logging(false);
    Database::connect(options)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"))
}

fn sql(text: &str) -> Statement {
    Statement::from_string(DbBackend::Postgres, text)
}

fn sqlstate(error: &DbErr) -> Option<String> {
    let (DbErr::Exec(RuntimeErr::SqlxError(error)) | DbErr::Query(RuntimeErr::SqlxError(error))) =
        error
    else {
        return None;
    };
    error
        .as_database_error()
        .and_then(|database| database.code())
        .map(|code| code.into_owned())
}

/// The tenant ids of the events a transaction scoped to `tenant` sees on `db`.
async fn event_tenants_seen_as(db: &DatabaseConnection, tenant: Uuid) -> Vec<Uuid> {
    let txn = tenant_scope::begin(db, tenant)
        .await
        .unwrap_or_else(|e| panic!("a tenant transaction on the standby: {e}"));
    let rows = txn
        .query_all_raw(sql("SELECT tenant_id FROM audit_events"))
        .await
        .unwrap_or_else(|e| panic!("reading audit_events on the standby: {e}"));
    let refused = txn
        .execute_raw(sql(
            "INSERT INTO instance_settings (key, value) VALUES ('x', 'y')",
        ))
        .await
        .expect_err("a write on the standby must fail");
    assert_eq!(sqlstate(&refused).as_deref(), Some("25006"), "{refused}");
    rows.iter()
        .map(|row| row.try_get_by_index::<Uuid>(0).unwrap())
        .collect()
}

/// Another tenant sees none of the first tenant's events on either server
/// (list, permalink, facets), and on the standby row-level security is in
/// force: as the service's role, a query without the tenant setting fails,
/// and one scoped to a tenant sees its rows only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_stay_apart_on_the_standby() {
    let (app, alpha) = app_with_standby(PATIENT_MS).await;
    let bravo = app.create_tenant("bravo", "TEAM").await;
    let secret = ids(&app
        .record_ok(&alpha.admin_key, events("alpha.secret", 3))
        .await);
    let own = ids(&app
        .record_ok(&bravo.admin_key, events("bravo.work", 2))
        .await);
    listed_eventually(&app, &alpha, &secret).await;
    listed_eventually(&app, &bravo, &own).await;

    // Paused, bravo's reads are known to come from the standby (they miss `late`).
    app.replication().pause_replay().await;
    let late = ids(&app
        .record_ok(&bravo.admin_key, events("bravo.late", 1))
        .await);
    let shown = listed(&app, &bravo).await;
    assert!(!shown.contains(&late[0]), "served by the standby");
    assert!(shown.iter().all(|id| !secret.contains(id)), "{shown:?}");
    let actions = facet_actions(&app, &bravo).await;
    assert!(!actions.contains(&"alpha.secret".to_owned()), "{actions:?}");
    // Absent on the standby, then on the primary: null either way.
    for id in &secret {
        let permalink = app.event(&bravo.admin_key, id).await;
        assert!(
            permalink.field("auditEvent").is_null(),
            "{}",
            permalink.text
        );
    }
    app.replication().resume_replay().await;
    listed_eventually(&app, &bravo, &late).await;
    let shown = listed(&app, &bravo).await;
    assert!(shown.iter().all(|id| !secret.contains(id)), "{shown:?}");

    // Straight to the standby, as the service's role.
    let standby = connect(&app.replication().standby_url()).await;
    let unscoped = standby
        .query_all_raw(sql("SELECT count(*) FROM audit_events"))
        .await
        .expect_err("a query without app.tenant_id must fail on the standby too");
    assert_eq!(sqlstate(&unscoped).as_deref(), Some("42704"), "{unscoped}");
    let (alpha_id, bravo_id) = (
        Uuid::parse_str(&alpha.id).unwrap(),
        Uuid::parse_str(&bravo.id).unwrap(),
    );
    let seen = event_tenants_seen_as(&standby, bravo_id).await;
    assert!(seen.iter().all(|tenant| *tenant == bravo_id), "{seen:?}");
    // Its own `tenant.create`, two events and the late one.
    assert_eq!(seen.len(), 4, "bravo's events on the standby");
    let seen = event_tenants_seen_as(&standby, alpha_id).await;
    assert!(seen.iter().all(|tenant| *tenant == alpha_id), "{seen:?}");
    assert_eq!(
        seen.len(),
        5,
        "alpha's tenant.create, first and secret events"
    );
    let _ = standby.close().await;
    assert_eq!(readyz(&app).await.1["standby"]["state"], "ok");
}
