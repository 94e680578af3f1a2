//! Tenant isolation: tenant B tries every read path on tenant A's data (list, search,
//! permalink, facets, A's cursors, A's key ids) and learns nothing of A.

use std::collections::BTreeSet;

use auditlog_tests::{Backend, TenantHandle, TestApp, backend_tests, spawn_app};
use serde_json::{Value, json};

use crate::helpers::{event, id, ids};

/// Two tenants; A has distinctive events, B a few ordinary ones.
async fn two_tenants(backend: Backend) -> (TestApp, TenantHandle, TenantHandle, Vec<String>) {
    let app = spawn_app(backend).await;
    let a = app.create_tenant("alpha", "ENTERPRISE").await;
    let b = app.create_tenant("bravo", "TEAM").await;
    let secret_events: Vec<Value> = (0..6)
        .map(|i| {
            json!({
                "action": "secret.alpha_only",
                "actor": { "type": "USER", "id": format!("alpha-user-{i}"), "name": "Alpha Insider", "email": "insider@alpha.test" },
                "target": { "type": "vault", "id": "alpha-vault", "name": "Alpha Vault" },
                "context": { "ipAddress": "198.51.100.7" }
            })
        })
        .collect();
    app.record_ok(&a.admin_key, Value::Array(secret_events))
        .await;
    app.record_ok(
        &b.admin_key,
        json!([event("bravo.work"), event("bravo.work")]),
    )
    .await;
    let a_ids = ids(&app.all_events(&a.admin_key, Value::Null).await);
    (app, a, b, a_ids)
}

#[track_caller]
fn assert_none_of(a_ids: &[String], seen: &[String], path: &str) {
    let a: BTreeSet<&String> = a_ids.iter().collect();
    let leaked: Vec<&String> = seen.iter().filter(|id| a.contains(id)).collect();
    assert!(
        leaked.is_empty(),
        "{path} revealed tenant A's events {leaked:?}"
    );
}

async fn list_and_search_show_only_own_events(backend: Backend) {
    let (app, a, b, a_ids) = two_tenants(backend).await;
    let key = b.admin_key.as_str();
    let everything = app.all_events(key, Value::Null).await;
    assert_none_of(&a_ids, &ids(&everything), "the unfiltered list");
    assert!(
        everything.iter().any(|e| e["action"] == "bravo.work"),
        "B sees its own events"
    );

    let probes = [
        json!({ "actions": ["secret.alpha_only"] }),
        json!({ "actionPrefix": "secret." }),
        json!({ "actorIds": ["alpha-user-1"] }),
        json!({ "targetId": "alpha-vault" }),
        json!({ "targetType": "vault" }),
        json!({ "ipAddress": "198.51.100.7" }),
        json!({ "search": "alpha" }),
        json!({ "search": "insider@alpha.test" }),
    ];
    for filter in probes {
        let found = app.all_events(key, filter.clone()).await;
        assert!(found.is_empty(), "filter {filter} found {found:?}");
    }
    // B's self-audit is B's own, and A still sees all of its events.
    assert_eq!(ids(&app.all_events(&a.admin_key, Value::Null).await), a_ids);
}

async fn permalink_of_another_tenant_reads_as_null(backend: Backend) {
    let (app, a, b, a_ids) = two_tenants(backend).await;
    for a_id in &a_ids {
        let response = app.event(&b.admin_key, a_id).await;
        assert!(
            response.field("auditEvent").is_null(),
            "B read A's event {a_id}: {}",
            response.text
        );
        assert_eq!(
            app.event(&a.admin_key, a_id).await.field("auditEvent")["id"],
            json!(a_id),
            "A reads its own"
        );
    }
    let auditor = app
        .create_api_key(&b.admin_key, "bravo auditor", "AUDITOR")
        .await;
    let response = app.event(&auditor.secret, &a_ids[0]).await;
    assert!(response.field("auditEvent").is_null(), "{}", response.text);
}

async fn facets_show_only_own_actions_and_actors(backend: Backend) {
    let (app, _a, b, _) = two_tenants(backend).await;
    let facets = app
        .facets(&b.admin_key)
        .await
        .field("auditEventFacets")
        .clone();
    let text = facets.to_string();
    for secret in ["secret.alpha_only", "alpha-user", "Alpha Insider"] {
        assert!(!text.contains(secret), "B's facets reveal {secret}: {text}");
    }
    let total: i64 = facets["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(|a| a["count"].as_i64())
        .sum();
    let own = app.event_count(&b.admin_key).await;
    assert_eq!(
        total,
        i64::try_from(own).expect("small"),
        "facet counts are B's own: {facets}"
    );
}

async fn foreign_cursor_reveals_nothing(backend: Backend) {
    let (app, a, b, a_ids) = two_tenants(backend).await;
    let a_page = app.page(&a.admin_key, json!({ "first": 2 })).await;
    let cursors = [a_page.start_cursor.clone(), a_page.end_cursor.clone()];
    for cursor in cursors.into_iter().flatten() {
        for args in [
            json!({ "first": 50, "after": cursor }),
            json!({ "last": 50, "before": cursor }),
        ] {
            let response = app.list(&b.admin_key, args.clone()).await;
            if let Some(code) = response.error_code() {
                assert_eq!(code, "BAD_USER_INPUT", "{args}: {}", response.text);
                response.assert_no_data();
                continue;
            }
            let edges = response.field("auditEvents")["edges"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let seen: Vec<String> = edges.iter().map(|e| id(&e["node"])).collect();
            assert_none_of(&a_ids, &seen, "A's cursor used by B");
        }
    }
}

async fn keys_of_another_tenant_are_out_of_reach(backend: Backend) {
    let (app, a, b, _) = two_tenants(backend).await;
    let a_auditor = app
        .create_api_key(&a.admin_key, "alpha auditor", "AUDITOR")
        .await;

    let b_keys = app
        .api_keys(Some(&b.admin_key))
        .await
        .field("apiKeys")
        .clone();
    let b_key_ids: Vec<String> = b_keys.as_array().expect("list").iter().map(id).collect();
    assert!(
        !b_key_ids.contains(&a.admin_key_id) && !b_key_ids.contains(&a_auditor.id),
        "B lists A's keys"
    );

    for a_key_id in [&a.admin_key_id, &a_auditor.id] {
        let response = app.revoke_api_key(Some(&b.admin_key), a_key_id).await;
        assert!(
            response.error_code().is_some(),
            "B revoked A's key {a_key_id}: {}",
            response.text
        );
        response.assert_no_data();
    }
    // A's keys still work and are not revoked.
    app.tenant(Some(&a_auditor.secret)).await.ok();
    let a_keys = app
        .api_keys(Some(&a.admin_key))
        .await
        .field("apiKeys")
        .clone();
    assert!(
        a_keys
            .as_array()
            .expect("list")
            .iter()
            .all(|k| k["revokedAt"].is_null()),
        "{a_keys}"
    );

    // Each key sees its own tenant.
    assert_eq!(
        app.tenant(Some(&b.admin_key)).await.field("tenant")["slug"],
        "bravo"
    );
    assert_eq!(
        app.tenant(Some(&a_auditor.secret)).await.field("tenant")["slug"],
        "alpha"
    );
}

backend_tests!(
    list_and_search_show_only_own_events,
    permalink_of_another_tenant_reads_as_null,
    facets_show_only_own_actions_and_actors,
    foreign_cursor_reveals_nothing,
    keys_of_another_tenant_are_out_of_reach,
);
