//! Facets at scale (issue 15): `auditEventFacets` reads the rollups the
//! database maintains, so its counts must stay exactly what a `GROUP BY` over
//! the retained log says — through batches, idempotent replays, backdated
//! events, the purge, legal hold and plan changes, and per tenant — and the
//! rollups themselves must match the stored log row for row. With a filter it
//! counts the newest matches up to a bound and says when it stopped there.
//!
//! The expected counts come from the database directly (as the service's own
//! role, in a tenant-scoped transaction), never from the code under test.

use std::collections::BTreeMap;

use auditlog_tests::database::{self, purge_settings, purger, tenant_uuid};
use auditlog_tests::{Backend, TestApp, backend_tests, spawn_app};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::store::events::{FILTERED_FACETS_SCAN, rollup_statements};
use entity::{audit_event_facet_days, audit_event_facet_totals, audit_events};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QuerySelect, Statement,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{instant, rfc3339, seed};
use crate::retention::days_ago;

const FACETS: &str = "query($filter: AuditEventFilter) { auditEventFacets(filter: $filter) { \
     actions { value count } actors { actorId name count } exact countedEvents countedSince } }";

/// Counts per value of each facet, plus what covers them.
#[derive(Debug, Default, PartialEq)]
struct Counts {
    actions: BTreeMap<String, i64>,
    actors: BTreeMap<String, i64>,
    counted: i64,
    oldest: Option<DateTime<Utc>>,
}

impl Counts {
    fn add(&mut self, action: &str, actor: &str, occurred_at: DateTime<Utc>) {
        *self.actions.entry(action.to_owned()).or_default() += 1;
        *self.actors.entry(actor.to_owned()).or_default() += 1;
        self.counted += 1;
        self.oldest = Some(self.oldest.map_or(occurred_at, |o| o.min(occurred_at)));
    }
}

async fn facets(app: &TestApp, key: &str, filter: Value) -> Value {
    app.graphql(FACETS, json!({ "filter": filter }), Some(key))
        .await
        .field("auditEventFacets")
        .clone()
}

/// The counts an answer gives (oldest to the millisecond, as both backends
/// return it exactly at that precision for the events these tests write).
fn answered(facets: &Value) -> Counts {
    let list = |name: &str, key: &str| -> BTreeMap<String, i64> {
        facets[name]
            .as_array()
            .unwrap_or_else(|| panic!("no {name} in {facets}"))
            .iter()
            .map(|f| {
                (
                    f[key].as_str().unwrap().to_owned(),
                    f["count"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    Counts {
        actions: list("actions", "value"),
        actors: list("actors", "actorId"),
        counted: facets["countedEvents"].as_i64().unwrap(),
        oldest: (!facets["countedSince"].is_null()).then(|| instant(&facets["countedSince"])),
    }
}

/// `(action, actor id, occurred_at)` of every stored event of the tenant.
async fn stored(db: &DatabaseConnection, tenant: Uuid) -> Vec<(String, String, DateTime<Utc>)> {
    audit_events::Entity::find()
        .select_only()
        .columns([
            audit_events::Column::Action,
            audit_events::Column::ActorId,
            audit_events::Column::OccurredAt,
        ])
        .filter(audit_events::Column::TenantId.eq(tenant))
        .into_tuple()
        .all(&database::scoped(db, tenant).await)
        .await
        .unwrap()
}

/// What a plain scan of the stored log says for the window `[since, ∞)`.
async fn from_the_log(
    db: &DatabaseConnection,
    tenant: Uuid,
    since: Option<DateTime<Utc>>,
) -> Counts {
    let mut counts = Counts::default();
    for (action, actor, at) in stored(db, tenant).await {
        if since.is_none_or(|since| at >= since) {
            counts.add(&action, &actor, at);
        }
    }
    counts
}

/// Asserts the unfiltered answer equals the log's counts over the window.
#[track_caller]
fn assert_counts(facets: &Value, expected: &Counts) {
    assert_eq!(facets["exact"], true, "{facets}");
    let mut got = answered(facets);
    // The API's DateTime carries what was stored; compare to the millisecond.
    let ms = |at: Option<DateTime<Utc>>| at.map(|at| at.timestamp_millis());
    assert_eq!(ms(got.oldest), ms(expected.oldest), "oldest of {facets}");
    got.oldest = expected.oldest;
    assert_eq!(&got, expected, "answer {facets}");
}

/// Asserts the rollup rows are exactly the stored log's counts, per value and
/// per UTC day, with no zero rows left behind.
async fn assert_rollups_match_log(db: &DatabaseConnection, tenant: Uuid) {
    let mut totals: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut days: BTreeMap<(String, NaiveDate, String), i64> = BTreeMap::new();
    for (action, actor, at) in stored(db, tenant).await {
        for (facet, value) in [("action", &action), ("actor", &actor)] {
            *totals.entry((facet.into(), value.clone())).or_default() += 1;
            *days
                .entry((facet.into(), at.date_naive(), value.clone()))
                .or_default() += 1;
        }
    }
    let txn = database::scoped(db, tenant).await;
    let rolled: BTreeMap<(String, String), i64> = audit_event_facet_totals::Entity::find()
        .filter(audit_event_facet_totals::Column::TenantId.eq(tenant))
        .all(&txn)
        .await
        .unwrap()
        .into_iter()
        .map(|row| ((row.facet, row.value), row.count))
        .collect();
    assert_eq!(rolled, totals, "audit_event_facet_totals of {tenant}");
    let rolled: BTreeMap<(String, NaiveDate, String), i64> = audit_event_facet_days::Entity::find()
        .filter(audit_event_facet_days::Column::TenantId.eq(tenant))
        .all(&txn)
        .await
        .unwrap()
        .into_iter()
        .map(|row| ((row.facet, row.day, row.value), row.count))
        .collect();
    assert_eq!(rolled, days, "audit_event_facet_days of {tenant}");
}

/// Checks the unfiltered facets of `key` against the log and the rollups.
async fn assert_exact(
    app: &TestApp,
    db: &DatabaseConnection,
    key: &str,
    tenant: Uuid,
    days: Option<i64>,
) {
    let since = days.map(days_ago);
    let expected = from_the_log(db, tenant, since).await;
    assert_counts(&facets(app, key, Value::Null).await, &expected);
    assert_rollups_match_log(db, tenant).await;
}

fn event(action: &str, actor: &str, name: Option<&str>) -> Value {
    json!({ "action": action, "actor": { "type": "USER", "id": actor, "name": name } })
}

async fn counts_follow_batches_replays_and_backdated_events(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = database::connect(app.database_url()).await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    let (key, id) = (tenant.admin_key.as_str(), tenant_uuid(&tenant.id));
    assert_exact(&app, &db, key, id, Some(7)).await;

    let batch: Vec<Value> = (0..30)
        .map(|n| {
            event(
                &format!("entry.op_{}", n % 4),
                &format!("u{}", n % 7),
                Some("Alice"),
            )
        })
        .collect();
    app.record_ok(key, Value::Array(batch)).await;
    app.record_ok(
        key,
        json!([
            event("entry.op_0", "u0", Some("Alicia")),
            event("entry.op_9", "u9", None)
        ]),
    )
    .await;
    assert_exact(&app, &db, key, id, Some(7)).await;

    // Replayed idempotency keys are stored, and counted, once.
    let keyed = json!([
        { "action": "entry.keyed", "actor": { "type": "USER", "id": "u1" }, "idempotencyKey": "k-1" },
        { "action": "entry.keyed", "actor": { "type": "USER", "id": "u2" }, "idempotencyKey": "k-2" }
    ]);
    app.record_ok(key, keyed.clone()).await;
    let before = facets(&app, key, Value::Null).await;
    app.record_ok(key, keyed).await;
    assert_eq!(
        answered(&facets(&app, key, Value::Null).await),
        answered(&before)
    );
    assert_eq!(answered(&before).actions["entry.keyed"], 2);

    // Backdated events land on their own days, inside the window.
    let backdated: Vec<Value> = [3, 6, 6]
        .iter()
        .map(|days: &i64| {
            json!({ "action": "entry.backdated", "actor": { "type": "USER", "id": "u1" },
                    "occurredAt": rfc3339(days_ago(*days)) })
        })
        .collect();
    app.record_ok(key, Value::Array(backdated)).await;
    assert_exact(&app, &db, key, id, Some(7)).await;

    // The name shown is the greatest seen with the id, in byte order.
    let answer = facets(&app, key, Value::Null).await;
    let u0 = answer["actors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["actorId"] == "u0");
    assert_eq!(
        u0.map(|a| a["name"].clone()),
        Some(json!("Alicia")),
        "{answer}"
    );
    let u9 = answer["actors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["actorId"] == "u9");
    assert_eq!(u9.map(|a| a["name"].clone()), Some(Value::Null), "{answer}");
}

/// `since - 30 min` and `since + 30 min`: on the cutoff's own day unless the
/// cutoff lies within half an hour of midnight (then the whole-day path is
/// what gets tested, which is as exact).
fn around(since: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (since - Duration::minutes(30), since + Duration::minutes(30))
}

async fn the_window_and_the_purge_keep_counts_exact(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = database::connect(app.database_url()).await;
    let tenant = app.create_tenant("team-co", "TEAM").await;
    let (key, id) = (tenant.admin_key.as_str(), tenant_uuid(&tenant.id));
    for age in [1, 6, 8, 30] {
        database::plant(&db, id, &format!("entry.age_{age}"), days_ago(age), 3).await;
    }
    let (expired, kept) = around(days_ago(7));
    database::plant(&db, id, "entry.edge_expired", expired, 2).await;
    database::plant(&db, id, "entry.edge_kept", kept, 2).await;

    // Before any purge, the window alone hides the expired events.
    assert_exact(&app, &db, key, id, Some(7)).await;
    let answer = answered(&facets(&app, key, Value::Null).await);
    for hidden in ["entry.age_8", "entry.age_30", "entry.edge_expired"] {
        assert!(
            !answer.actions.contains_key(hidden),
            "{hidden} counted: {answer:?}"
        );
    }
    assert_eq!(answer.actions["entry.edge_kept"], 2);
    assert_eq!(answer.actors["planted-user"], 3 + 3 + 2);

    let report = purger(&db, purge_settings(4)).run_pass().await.unwrap();
    assert_eq!(report.events_deleted, 3 + 3 + 2);
    assert_exact(&app, &db, key, id, Some(7)).await;
    // Nothing before the cutoff's day is left in the day rollup.
    let old_days = audit_event_facet_days::Entity::find()
        .filter(audit_event_facet_days::Column::TenantId.eq(id))
        .filter(audit_event_facet_days::Column::Day.lt(days_ago(7).date_naive()))
        .all(&database::scoped(&db, id).await)
        .await
        .unwrap();
    assert!(old_days.is_empty(), "{old_days:?}");
}

async fn legal_hold_counts_expired_events_until_it_is_lifted(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = database::connect(app.database_url()).await;
    let tenant = app.create_tenant("held-co", "TEAM").await;
    let (key, id) = (tenant.admin_key.as_str(), tenant_uuid(&tenant.id));
    database::plant(&db, id, "entry.old", days_ago(8), 5).await;
    database::plant(&db, id, "entry.recent", days_ago(2), 2).await;
    app.operator_legal_hold(&tenant.id, true, Some("litigation"))
        .await
        .field("setLegalHold");

    assert_exact(&app, &db, key, id, None).await;
    assert_eq!(
        answered(&facets(&app, key, Value::Null).await).actions["entry.old"],
        5
    );
    let report = purger(&db, purge_settings(100)).run_pass().await.unwrap();
    assert_eq!(report.events_deleted, 0, "on hold");
    assert_exact(&app, &db, key, id, None).await;

    app.operator_legal_hold(&tenant.id, false, None)
        .await
        .field("setLegalHold");
    assert_exact(&app, &db, key, id, Some(7)).await;
    assert!(
        !answered(&facets(&app, key, Value::Null).await)
            .actions
            .contains_key("entry.old")
    );
    purger(&db, purge_settings(100)).run_pass().await.unwrap();
    assert_exact(&app, &db, key, id, Some(7)).await;
}

async fn plan_changes_move_the_window_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = database::connect(app.database_url()).await;
    let tenant = app.create_tenant("big-co", "ENTERPRISE").await;
    let (key, id) = (tenant.admin_key.as_str(), tenant_uuid(&tenant.id));
    let operator = Some(app.operator_token.as_str());
    database::plant(&db, id, "entry.week_old", days_ago(8), 4).await;
    database::plant(&db, id, "entry.month_old", days_ago(30), 3).await;
    database::plant(&db, id, "entry.ancient", days_ago(100), 2).await;
    let (expired, kept) = around(days_ago(7));
    database::plant(&db, id, "entry.edge_expired", expired, 1).await;
    database::plant(&db, id, "entry.edge_kept", kept, 1).await;
    let actions = |answer: Value| answered(&answer).actions;

    assert_exact(&app, &db, key, id, Some(90)).await;
    let seen = actions(facets(&app, key, Value::Null).await);
    assert_eq!(
        (seen.get("entry.week_old"), seen.get("entry.ancient")),
        (Some(&4), None)
    );

    // A shorter window applies at once, before any purge, and a longer one
    // shows again what the purge has not deleted.
    app.change_plan(operator, &tenant.id, "TEAM")
        .await
        .field("changeTenantPlan");
    assert_exact(&app, &db, key, id, Some(7)).await;
    let seen = actions(facets(&app, key, Value::Null).await);
    for hidden in ["entry.week_old", "entry.month_old", "entry.edge_expired"] {
        assert!(!seen.contains_key(hidden), "{hidden} counted: {seen:?}");
    }
    assert_eq!(seen.get("entry.edge_kept"), Some(&1));
    app.change_plan(operator, &tenant.id, "ENTERPRISE")
        .await
        .field("changeTenantPlan");
    assert_exact(&app, &db, key, id, Some(90)).await;
    assert_eq!(
        actions(facets(&app, key, Value::Null).await).get("entry.month_old"),
        Some(&3)
    );

    app.change_plan(operator, &tenant.id, "TEAM")
        .await
        .field("changeTenantPlan");
    purger(&db, purge_settings(3)).run_pass().await.unwrap();
    app.change_plan(operator, &tenant.id, "ENTERPRISE")
        .await
        .field("changeTenantPlan");
    assert_exact(&app, &db, key, id, Some(90)).await;
    assert!(!actions(facets(&app, key, Value::Null).await).contains_key("entry.week_old"));
}

async fn another_tenants_events_are_never_counted(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = database::connect(app.database_url()).await;
    let alpha = app.create_tenant("alpha", "TEAM").await;
    let bravo = app.create_tenant("bravo", "TEAM").await;
    app.record_ok(
        &alpha.admin_key,
        json!([event("alpha.work", "shared-id", Some("A"))]),
    )
    .await;
    let three = vec![event("bravo.work", "shared-id", Some("B")); 3];
    app.record_ok(&bravo.admin_key, Value::Array(three)).await;
    database::plant(&db, tenant_uuid(&alpha.id), "alpha.old", days_ago(8), 2).await;
    for tenant in [&alpha, &bravo] {
        assert_exact(
            &app,
            &db,
            &tenant.admin_key,
            tenant_uuid(&tenant.id),
            Some(7),
        )
        .await;
    }
    purger(&db, purge_settings(100)).run_pass().await.unwrap();
    for tenant in [&alpha, &bravo] {
        assert_exact(
            &app,
            &db,
            &tenant.admin_key,
            tenant_uuid(&tenant.id),
            Some(7),
        )
        .await;
    }
    let bravo_sees = facets(&app, &bravo.admin_key, Value::Null).await;
    assert!(
        !answered(&bravo_sees).actions.contains_key("alpha.work"),
        "{bravo_sees}"
    );
    let shared = bravo_sees["actors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["actorId"] == "shared-id");
    assert_eq!(
        shared.map(|a| (a["name"].clone(), a["count"].clone())),
        Some((json!("B"), json!(3)))
    );
    // A filter naming the other tenant's action finds nothing, exactly.
    let none = facets(&app, &bravo.admin_key, json!({ "actions": ["alpha.work"] })).await;
    assert_eq!(none["exact"], true);
    assert_eq!(none["countedEvents"], 0);
    assert!(
        none["countedSince"].is_null() && none["actions"] == json!([]),
        "{none}"
    );
}

async fn filtered_facets_are_exact_below_the_bound(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    let key = tenant.admin_key.as_str();
    app.record_ok(key, seed()).await;
    for filter in [
        json!({ "actions": ["entry.create", "entry.update"] }),
        json!({ "actorIds": ["u1"] }),
        json!({ "outcome": "FAILURE" }),
        json!({ "search": "report" }),
        json!({ "actionPrefix": "entry.", "occurredAfter": rfc3339(days_ago(3)) }),
        json!({ "actions": [] }),
    ] {
        let mut expected = Counts::default();
        let mut names: BTreeMap<String, Option<String>> = BTreeMap::new();
        for event in app.all_events(key, filter.clone()).await {
            let actor = event["actor"]["id"].as_str().unwrap();
            expected.add(
                event["action"].as_str().unwrap(),
                actor,
                instant(&event["occurredAt"]),
            );
            let name = event["actor"]["name"].as_str().map(str::to_owned);
            let greatest = names.entry(actor.to_owned()).or_default();
            *greatest = name.max(greatest.take());
        }
        let answer = facets(&app, key, filter.clone()).await;
        assert_counts(&answer, &expected);
        for actor in answer["actors"].as_array().unwrap() {
            let id = actor["actorId"].as_str().unwrap();
            assert_eq!(
                actor["name"].as_str(),
                names[id].as_deref(),
                "{filter}: {answer}"
            );
        }
    }
    // A filter with no fields is no filter: the exact counts of everything.
    let everything = facets(&app, key, json!({})).await;
    assert_eq!(
        answered(&everything),
        answered(&facets(&app, key, Value::Null).await)
    );
}

async fn filtered_facets_stop_at_the_bound(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = database::connect(app.database_url()).await;
    let tenant = app.create_tenant("bulk-co", "TEAM").await;
    let (key, id) = (tenant.admin_key.as_str(), tenant_uuid(&tenant.id));
    let bound = usize::try_from(FILTERED_FACETS_SCAN).unwrap();
    let newest = days_ago(2);
    database::plant(&db, id, "bulk.older", days_ago(3), 1).await;
    database::plant(&db, id, "bulk.newer", newest, bound).await;

    // One match more than the bound: the newest `bound` are counted.
    let over = facets(&app, key, json!({ "actionPrefix": "bulk." })).await;
    assert_eq!(over["exact"], false, "{over}");
    assert_eq!(over["countedEvents"], bound);
    assert_eq!(
        over["actions"],
        json!([{ "value": "bulk.newer", "count": bound }])
    );
    assert_eq!(
        instant(&over["countedSince"]).timestamp_millis(),
        newest.timestamp_millis()
    );

    // Exactly the bound: every match counted.
    let at = facets(&app, key, json!({ "actions": ["bulk.newer"] })).await;
    assert_eq!(
        (at["exact"].clone(), at["countedEvents"].clone()),
        (json!(true), json!(bound)),
        "{at}"
    );

    // Unfiltered counts are exact whatever the size.
    assert_exact(&app, &db, key, id, Some(7)).await;
}

/// The index whose range is one stretch of time of one tenant.
const TIME_INDEX: &str = "audit_events_tenant_occurred_idx";

/// Every plan node of a PostgreSQL JSON plan, depth first.
fn plan_nodes(node: &Value, into: &mut Vec<Value>) {
    into.push(node.clone());
    for child in node["Plans"].as_array().into_iter().flatten() {
        plan_nodes(child, into);
    }
}

/// The unfiltered read's statements, as the database plans them, reach
/// `audit_events` only through a time range of the `(tenant_id, occurred_at,
/// id)` index: never a scan of the log, nor of the tenant's whole part of an
/// index.
async fn unfiltered_facets_never_scan_the_log(backend: Backend) {
    let app = spawn_app(backend).await;
    let db = database::connect(app.database_url()).await;
    let tenant = app.create_tenant("plan-co", "TEAM").await;
    let id = tenant_uuid(&tenant.id);
    for age in [1, 3, 8] {
        database::plant(&db, id, &format!("entry.age_{age}"), days_ago(age), 1000).await;
    }
    let (explain, db_backend) = match backend {
        // With statistics, as autovacuum keeps them in production (only the
        // owner may ANALYZE).
        Backend::Postgres => {
            let owner = database::connect(app.owner_database_url()).await;
            owner.execute_unprepared("ANALYZE").await.unwrap();
            ("EXPLAIN (FORMAT JSON)", DbBackend::Postgres)
        }
        // Without: nothing runs ANALYZE on the embedded database.
        Backend::Sqlite => ("EXPLAIN QUERY PLAN", DbBackend::Sqlite),
    };
    let txn = database::scoped(&db, id).await;
    let mut reads_of_the_log = 0;
    for statement in rollup_statements(db_backend, id, Some(days_ago(7))) {
        let plan = Statement {
            sql: format!("{explain} {}", statement.sql),
            ..statement.clone()
        };
        let rows = txn.query_all_raw(plan).await.unwrap();
        match backend {
            Backend::Postgres => {
                let plan: Value = rows[0].try_get_by_index(0).unwrap();
                let mut nodes = Vec::new();
                plan_nodes(&plan[0]["Plan"], &mut nodes);
                for node in &nodes {
                    let on_log = node["Relation Name"] == "audit_events";
                    assert!(
                        !(on_log && node["Node Type"] == "Seq Scan"),
                        "{}\n{plan:#}",
                        statement.sql
                    );
                    if let Some(index) = node["Index Name"].as_str()
                        && index.starts_with("audit_events")
                    {
                        assert_eq!(index, TIME_INDEX, "{}\n{plan:#}", statement.sql);
                        reads_of_the_log += 1;
                    }
                }
            }
            Backend::Sqlite => {
                for row in &rows {
                    let detail: String = row.try_get_by_index(3).unwrap();
                    if detail.contains("audit_events") {
                        assert!(
                            detail.contains(&format!("{TIME_INDEX} (tenant_id=? AND occurred_at")),
                            "{}\n{detail}",
                            statement.sql
                        );
                        reads_of_the_log += 1;
                    }
                }
            }
        }
    }
    // The cutoff day's range (in both facets and the count) and the oldest event.
    assert!(reads_of_the_log >= 4, "{reads_of_the_log}");
}

backend_tests!(
    counts_follow_batches_replays_and_backdated_events,
    the_window_and_the_purge_keep_counts_exact,
    legal_hold_counts_expired_events_until_it_is_lifted,
    plan_changes_move_the_window_at_once,
    another_tenants_events_are_never_counted,
    filtered_facets_are_exact_below_the_bound,
    filtered_facets_stop_at_the_bound,
    unfiltered_facets_never_scan_the_log,
);
