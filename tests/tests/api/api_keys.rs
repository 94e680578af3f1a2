//! API keys: the secret is shown once by `createApiKey` and never again; revocation
//! takes effect at once; key management audits itself with the caller as actor.

use auditlog_tests::{Backend, TestApp, backend_tests, queries, spawn_app_with};
use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{app_with_tenant, id, instant};

async fn secret_is_returned_once_and_never_listed(backend: Backend) {
    // Introspection on: the test reads the fields of `ApiKey`.
    let app = spawn_app_with(backend, |settings| settings.introspection = Some(true)).await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    let admin = tenant.admin_key.as_str();
    let before = Utc::now();
    let created = app.create_api_key(admin, "ci publisher", "PUBLISHER").await;

    assert_eq!(created.api_key["name"], "ci publisher");
    assert_eq!(created.api_key["role"], "PUBLISHER");
    assert!(
        created.api_key["revokedAt"].is_null() && created.api_key["lastUsedAt"].is_null(),
        "{}",
        created.api_key
    );
    let created_at = instant(&created.api_key["createdAt"]);
    assert!(
        created_at >= before - Duration::seconds(1)
            && created_at <= Utc::now() + Duration::seconds(1)
    );
    assert!(
        !created.prefix.is_empty() && created.prefix.len() < created.secret.len(),
        "a short public prefix"
    );
    assert!(
        created.secret.len() >= 24,
        "secrets are long enough to resist guessing"
    );

    // The new key works, with its role.
    app.record_ok(
        &created.secret,
        json!([{ "action": "deploy.start", "actor": { "type": "SYSTEM", "id": "ci" } }]),
    )
    .await;

    let listing = app.api_keys(Some(admin)).await;
    let keys = listing
        .field("apiKeys")
        .as_array()
        .cloned()
        .expect("a list");
    let listed = keys
        .iter()
        .find(|k| id(k) == created.id)
        .expect("the new key is listed");
    assert_eq!(listed["prefix"], json!(created.prefix));
    assert_eq!(listed["role"], "PUBLISHER");
    for secret in [&created.secret, &tenant.admin_key] {
        assert!(
            !listing.text.contains(secret.as_str()),
            "apiKeys exposes a secret: {}",
            listing.text
        );
    }

    // No field of ApiKey can carry the secret or its hash.
    let introspection = app
        .graphql(
            r#"{ __type(name: "ApiKey") { fields { name } } }"#,
            Value::Null,
            Some(admin),
        )
        .await;
    let fields = introspection.field("__type")["fields"]
        .to_string()
        .to_lowercase();
    assert!(
        !fields.contains("secret") && !fields.contains("hash"),
        "ApiKey fields: {fields}"
    );
}

async fn revoked_key_stops_working_at_once(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let admin = tenant.admin_key.as_str();
    let auditor = app.create_api_key(admin, "auditor", "AUDITOR").await;
    app.tenant(Some(&auditor.secret)).await.ok();

    let revoked = app.revoke_api_key(Some(admin), &auditor.id).await;
    let key = revoked.field("revokeApiKey");
    assert_eq!(key["id"], json!(auditor.id));
    assert!(!key["revokedAt"].is_null(), "revokedAt is set: {key}");
    assert!(!revoked.text.contains(&auditor.secret));

    app.tenant(Some(&auditor.secret))
        .await
        .assert_error("UNAUTHENTICATED");
    app.list(&auditor.secret, json!({ "first": 1 }))
        .await
        .assert_error("UNAUTHENTICATED");
    let keys = app.api_keys(Some(admin)).await.field("apiKeys").clone();
    let listed = keys
        .as_array()
        .expect("list")
        .iter()
        .find(|k| id(k) == auditor.id)
        .cloned()
        .expect("still listed");
    assert!(
        !listed["revokedAt"].is_null(),
        "apiKeys shows the revocation: {listed}"
    );

    // An admin may revoke its own key; the next request is unauthenticated.
    app.revoke_api_key(Some(admin), &tenant.admin_key_id)
        .await
        .ok();
    app.tenant(Some(admin))
        .await
        .assert_error("UNAUTHENTICATED");
}

async fn key_management_is_audited_with_the_caller_as_actor(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let admin = tenant.admin_key.as_str();
    let admin_prefix = app
        .api_keys(Some(admin))
        .await
        .field("apiKeys")
        .as_array()
        .expect("list")
        .iter()
        .find(|k| id(k) == tenant.admin_key_id)
        .map(|k| k["prefix"].clone())
        .expect("admin key listed");
    let created_before = audit_events(&app, admin, "api_key.create").await;
    let created = app.create_api_key(admin, "temp", "AUDITOR").await;
    let revoked_before = audit_events(&app, admin, "api_key.revoke").await;
    app.revoke_api_key(Some(admin), &created.id).await.ok();

    for (action, before) in [
        ("api_key.create", created_before),
        ("api_key.revoke", revoked_before),
    ] {
        let after = audit_events(&app, admin, action).await;
        let new: Vec<&Value> = after.iter().filter(|e| !before.contains(e)).collect();
        assert_eq!(new.len(), 1, "one new {action} event: {after:?}");
        let actor = &new[0]["actor"];
        assert_eq!(
            actor["type"], "API_KEY",
            "{action}: the calling key is the actor: {actor}"
        );
        assert!(
            actor["id"] == json!(tenant.admin_key_id) || actor["id"] == admin_prefix,
            "{action}: actor {actor}"
        );
        assert!(
            !new[0].to_string().contains(&created.secret),
            "the audit log never holds a secret"
        );
    }
}

async fn audit_events(app: &TestApp, key: &str, action: &str) -> Vec<Value> {
    app.all_events(key, json!({ "actions": [action] })).await
}

async fn a_new_tenant_starts_with_its_own_creation(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let events = app.all_events(&tenant.admin_key, Value::Null).await;
    let creation: Vec<&Value> = events
        .iter()
        .filter(|e| e["action"] == "tenant.create")
        .collect();
    assert_eq!(creation.len(), 1, "{events:?}");
    assert_eq!(creation[0]["sequence"], 1);
    // The first admin key is listed, with role ADMIN.
    let keys = app
        .graphql(queries::API_KEYS, Value::Null, Some(&tenant.admin_key))
        .await
        .field("apiKeys")
        .clone();
    let first = keys
        .as_array()
        .expect("list")
        .iter()
        .find(|k| id(k) == tenant.admin_key_id)
        .cloned()
        .expect("listed");
    assert_eq!(first["role"], "ADMIN");
}

backend_tests!(
    secret_is_returned_once_and_never_listed,
    revoked_key_stops_working_at_once,
    key_management_is_audited_with_the_caller_as_actor,
    a_new_tenant_starts_with_its_own_creation,
);
