//! Every field of `AuditEventFilter`, alone and combined. Each case is checked two
//! ways: the server's answer equals the reference model applied to all of the
//! tenant's events (same events, same order), and the seeded events it returns are
//! exactly the ones listed by hand.

use std::collections::BTreeMap;

use auditlog_tests::{Backend, TestApp, backend_tests};
use serde_json::{Value, json};

use crate::filter_model::matches;
use crate::helpers::{app_with_tenant, base_time, id, ids, rfc3339, seed};

fn hour(h: i64) -> String {
    rfc3339(base_time(h * 60))
}

/// A seeded tenant: the app, the admin key, and the label (e1..e8) of each event id.
async fn seeded(backend: Backend) -> (TestApp, String, BTreeMap<String, String>) {
    let (app, tenant) = app_with_tenant(backend).await;
    let written = app.record_ok(&tenant.admin_key, seed()).await;
    let labels = written
        .iter()
        .enumerate()
        .map(|(i, event)| (id(event), format!("e{}", i + 1)))
        .collect();
    (app, tenant.admin_key, labels)
}

/// Checks one filter against the model and the hand-written expectation.
async fn check(
    app: &TestApp,
    key: &str,
    labels: &BTreeMap<String, String>,
    filter: Value,
    expected: &[&str],
) {
    let everything = app.all_events(key, Value::Null).await;
    let modelled: Vec<String> = everything
        .iter()
        .filter(|e| matches(&filter, e))
        .map(id)
        .collect();
    let answered = ids(&app.all_events(key, filter.clone()).await);
    assert_eq!(
        answered, modelled,
        "filter {filter} disagrees with the contract"
    );

    let mut seeded: Vec<&str> = answered
        .iter()
        .filter_map(|id| labels.get(id))
        .map(String::as_str)
        .collect();
    seeded.sort_unstable();
    let mut expected = expected.to_vec();
    expected.sort_unstable();
    assert_eq!(
        seeded, expected,
        "seeded events returned for filter {filter}"
    );
}

async fn each_filter_alone(backend: Backend) {
    let (app, key, labels) = seeded(backend).await;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({ "actions": ["user.login"] }), vec!["e4", "e5"]),
        (
            json!({ "actions": ["entry.create", "settings.update"] }),
            vec!["e1", "e7", "e8"],
        ),
        (
            json!({ "actionPrefix": "entry." }),
            vec!["e1", "e2", "e3", "e7"],
        ),
        (json!({ "actionPrefix": "user" }), vec!["e4", "e5"]),
        (json!({ "actorIds": ["u1"] }), vec!["e1", "e2", "e8"]),
        (
            json!({ "actorIds": ["u2", "key-42"] }),
            vec!["e3", "e4", "e7"],
        ),
        (
            json!({ "actorType": "USER" }),
            vec!["e1", "e2", "e3", "e4", "e5", "e8"],
        ),
        (json!({ "actorType": "API_KEY" }), vec!["e7"]),
        (json!({ "actorType": "SYSTEM" }), vec!["e6"]),
        (
            json!({ "targetType": "entry" }),
            vec!["e1", "e2", "e3", "e7"],
        ),
        (json!({ "targetId": "t1" }), vec!["e1", "e2"]),
        (json!({ "outcome": "FAILURE" }), vec!["e3", "e4", "e8"]),
        (
            json!({ "outcome": "SUCCESS" }),
            vec!["e1", "e2", "e5", "e6", "e7"],
        ),
        (
            json!({ "occurredAfter": hour(2) }),
            vec!["e3", "e4", "e5", "e6", "e7", "e8"],
        ),
        (json!({ "occurredBefore": hour(2) }), vec!["e1", "e2"]),
        (json!({ "ipAddress": "10.0.0.1" }), vec!["e1", "e2", "e7"]),
        (json!({ "ipAddress": "2001:db8::7" }), vec!["e4"]),
        (json!({ "search": "alice" }), vec!["e1", "e2", "e8"]),
        (
            json!({ "search": "EXAMPLE.COM" }),
            vec!["e1", "e2", "e5", "e8"],
        ),
        (json!({ "search": "notes" }), vec!["e3", "e7"]),
        (json!({ "search": "Invoice" }), vec!["e6"]),
        (json!({ "search": "LOGIN" }), vec!["e4", "e5"]),
        (json!({ "search": "no-such-thing" }), vec![]),
        (
            json!({}),
            vec!["e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8"],
        ),
    ];
    for (filter, expected) in cases {
        check(&app, &key, &labels, filter, &expected).await;
    }
}

async fn search_treats_sql_wildcards_literally(backend: Backend) {
    let (app, key, labels) = seeded(backend).await;
    check(&app, &key, &labels, json!({ "search": "_" }), &["e6"]).await;
    check(&app, &key, &labels, json!({ "search": "%" }), &[]).await;
    check(&app, &key, &labels, json!({ "search": "e%t" }), &[]).await;
}

async fn filters_combined(backend: Backend) {
    let (app, key, labels) = seeded(backend).await;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({ "actionPrefix": "entry.", "outcome": "SUCCESS", "actorIds": ["u1"] }),
            vec!["e1", "e2"],
        ),
        (
            json!({ "actions": ["user.login"], "outcome": "FAILURE" }),
            vec!["e4"],
        ),
        (
            json!({ "search": "alice", "occurredAfter": hour(1) }),
            vec!["e2", "e8"],
        ),
        (
            json!({ "targetType": "entry", "ipAddress": "10.0.0.1", "actorType": "USER" }),
            vec!["e1", "e2"],
        ),
        (
            json!({ "occurredAfter": hour(1), "occurredBefore": hour(4) }),
            vec!["e2", "e3", "e4"],
        ),
        (
            json!({ "occurredAfter": hour(3), "occurredBefore": hour(3) }),
            vec![],
        ),
        (
            json!({ "actions": ["entry.create"], "actorType": "API_KEY", "search": "release" }),
            vec!["e7"],
        ),
        (json!({ "targetId": "t1", "outcome": "FAILURE" }), vec![]),
        (
            json!({
                "actions": ["entry.create"], "actionPrefix": "entry.", "actorIds": ["u1"], "actorType": "USER",
                "targetType": "entry", "targetId": "t1", "outcome": "SUCCESS", "occurredAfter": hour(0),
                "occurredBefore": hour(1), "ipAddress": "10.0.0.1", "search": "quarterly"
            }),
            vec!["e1"],
        ),
    ];
    for (filter, expected) in cases {
        check(&app, &key, &labels, filter, &expected).await;
    }
}

backend_tests!(
    each_filter_alone,
    search_treats_sql_wildcards_literally,
    filters_combined
);
