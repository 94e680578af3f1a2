//! `auditEventFacets`: the distinct actions and actors of the tenant, with counts.

use std::collections::BTreeMap;

use auditlog_tests::{Backend, backend_tests};
use serde_json::{Value, json};

use crate::helpers::{app_with_tenant, seed};

/// `(value, count)` pairs of the actions facet, sorted.
fn action_counts(facets: &Value) -> Vec<(String, i64)> {
    let mut counts: Vec<(String, i64)> = facets["actions"]
        .as_array()
        .expect("actions is a list")
        .iter()
        .map(|vc| {
            (
                vc["value"].as_str().expect("value").to_owned(),
                vc["count"].as_i64().expect("count"),
            )
        })
        .collect();
    counts.sort();
    counts
}

/// `(id, name, count)` triples of the actors facet, sorted.
fn actor_counts(facets: &Value) -> Vec<(String, Option<String>, i64)> {
    let mut counts: Vec<_> = facets["actors"]
        .as_array()
        .expect("actors is a list")
        .iter()
        .map(|ac| {
            let name = ac["name"].as_str().map(str::to_owned);
            (
                ac["id"].as_str().expect("id").to_owned(),
                name,
                ac["count"].as_i64().expect("count"),
            )
        })
        .collect();
    counts.sort();
    counts
}

async fn counts_every_action_and_actor(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    app.record_ok(key, seed()).await;
    app.record_ok(key, json!([{ "action": "entry.create", "actor": { "type": "USER", "id": "u3", "name": "Carol" } }]))
        .await;

    let facets = app.facets(key).await.field("auditEventFacets").clone();

    // Expected counts, from every event of the tenant (self-audit events included).
    let events = app.all_events(key, Value::Null).await;
    let mut actions: BTreeMap<String, i64> = BTreeMap::new();
    let mut actors: BTreeMap<String, (Option<String>, i64)> = BTreeMap::new();
    for event in &events {
        *actions
            .entry(event["action"].as_str().expect("action").to_owned())
            .or_default() += 1;
        let actor = actors
            .entry(event["actor"]["id"].as_str().expect("actor id").to_owned())
            .or_default();
        actor.0 = actor
            .0
            .take()
            .or_else(|| event["actor"]["name"].as_str().map(str::to_owned));
        actor.1 += 1;
    }
    let expected_actions: Vec<(String, i64)> = actions.into_iter().collect();
    assert_eq!(
        action_counts(&facets),
        expected_actions,
        "action facet of {facets}"
    );

    let answered = actor_counts(&facets);
    let counts: Vec<(String, i64)> = answered
        .iter()
        .map(|(id, _, count)| (id.clone(), *count))
        .collect();
    let expected: Vec<(String, i64)> = actors
        .iter()
        .map(|(id, (_, count))| (id.clone(), *count))
        .collect();
    assert_eq!(counts, expected, "actor facet of {facets}");

    // Spot checks by hand, and the names of actors that always carry the same name.
    let action = |name: &str| {
        expected_actions
            .iter()
            .find(|(a, _)| a == name)
            .map(|(_, c)| *c)
    };
    assert_eq!(action("entry.create"), Some(3));
    assert_eq!(action("user.login"), Some(2));
    for (id, name, count) in [
        ("u1", "Alice Smith", 3),
        ("u2", "Bob Jones", 2),
        ("billing-cron", "Billing Cron", 1),
    ] {
        let found = answered
            .iter()
            .find(|(actor, _, _)| actor == id)
            .unwrap_or_else(|| panic!("no actor {id}"));
        assert_eq!(
            (found.1.as_deref(), found.2),
            (Some(name), count),
            "actor {id} in {facets}"
        );
    }
}

async fn facets_of_a_fresh_tenant_hold_only_its_own_audit(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let facets = app
        .facets(&tenant.admin_key)
        .await
        .field("auditEventFacets")
        .clone();
    let events = app.all_events(&tenant.admin_key, Value::Null).await;
    let total: i64 = action_counts(&facets).iter().map(|(_, count)| count).sum();
    assert_eq!(
        total,
        i64::try_from(events.len()).expect("small"),
        "{facets}"
    );
    assert!(
        action_counts(&facets)
            .iter()
            .any(|(action, _)| action == "tenant.create"),
        "{facets}"
    );
}

backend_tests!(
    counts_every_action_and_actor,
    facets_of_a_fresh_tenant_hold_only_its_own_audit
);
