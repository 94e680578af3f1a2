//! Platform keys: one key for every tenant, the tenant named per request by
//! `Auditlog-Tenant`. Every operation × each platform role, with no header,
//! an unknown, a foreign and the own tenant; a revoked key; the platform log.

use auditlog_tests::ws::{TRANSPORT_WS, WsClient};
use auditlog_tests::{Backend, GqlResponse, TestApp, backend_tests, queries, spawn_app};
use serde_json::{Value, json};

use crate::helpers::{event, id};

const CREATE_PLATFORM_KEY: &str = "mutation($name: String!, $role: PlatformRole!) { \
     createPlatformKey(name: $name, role: $role) { secret platformKey { id name role prefix \
     createdAt lastUsedAt revokedAt } } }";
const REVOKE_PLATFORM_KEY: &str =
    "mutation($id: ID!) { revokePlatformKey(id: $id) { id revokedAt } }";
const PLATFORM_KEYS: &str = "query { platformKeys { id name role prefix revokedAt } }";
const PLATFORM_LOG: &str = "query($filter: AuditEventFilter) { platformAuditEvents(first: 50, \
     filter: $filter) { edges { node { action actor { type actorId name } target { type targetId name } \
     payload } } } }";
const TENANT_HEADER: &str = "Auditlog-Tenant";

struct PlatformKey {
    id: String,
    secret: String,
}

async fn create_platform_key(app: &TestApp, name: &str, role: &str) -> PlatformKey {
    let created = app
        .graphql(
            CREATE_PLATFORM_KEY,
            json!({ "name": name, "role": role }),
            Some(&app.operator_token),
        )
        .await;
    let created = created.field("createPlatformKey");
    PlatformKey {
        id: id(&created["platformKey"]),
        secret: created["secret"].as_str().expect("a secret").to_owned(),
    }
}

/// `query` with `key` as bearer, naming `tenant` (if any) in the header.
async fn as_key(
    app: &TestApp,
    key: &str,
    tenant: Option<&str>,
    query: &str,
    variables: Value,
) -> GqlResponse {
    let headers: Vec<(&str, &str)> = tenant.map(|t| (TENANT_HEADER, t)).into_iter().collect();
    app.graphql_with_headers(query, variables, Some(key), &headers)
        .await
}

fn record(action: &str) -> Value {
    json!({ "events": [event(action)] })
}

async fn the_operator_manages_platform_keys_and_their_secret_is_shown_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    let created = app
        .graphql(
            CREATE_PLATFORM_KEY,
            json!({ "name": "billing app", "role": "PUBLISHER" }),
            Some(&app.operator_token),
        )
        .await;
    let key = &created.field("createPlatformKey")["platformKey"];
    let secret = created.field("createPlatformKey")["secret"]
        .as_str()
        .expect("a secret")
        .to_owned();
    assert_eq!(key["role"], "PUBLISHER");
    let prefix = key["prefix"].as_str().expect("a prefix");
    assert!(
        prefix.starts_with("alp_") && secret.starts_with(prefix),
        "{key}"
    );
    assert!(
        key["revokedAt"].is_null() && key["lastUsedAt"].is_null(),
        "{key}"
    );

    let listed = app
        .graphql(PLATFORM_KEYS, json!({}), Some(&app.operator_token))
        .await;
    assert!(!listed.text.contains(&secret), "the secret is never listed");
    assert_eq!(listed.field("platformKeys")[0]["id"], key["id"]);

    // Tenant credentials and platform keys themselves may not manage them.
    for bearer in [tenant.admin_key.as_str(), secret.as_str()] {
        for (query, variables) in [
            (CREATE_PLATFORM_KEY, json!({ "name": "x", "role": "ADMIN" })),
            (PLATFORM_KEYS, json!({})),
            (REVOKE_PLATFORM_KEY, json!({ "id": key["id"] })),
            (PLATFORM_LOG, json!({})),
        ] {
            let answer = app.graphql(query, variables, Some(bearer)).await;
            assert_eq!(
                answer.error_code().as_deref(),
                Some("FORBIDDEN"),
                "{}",
                answer.text
            );
        }
    }
}

async fn a_publisher_key_records_for_the_named_tenant_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = app.create_tenant("acme", "TEAM").await;
    let globex = app.create_tenant("globex", "TEAM").await;
    let key = create_platform_key(&app, "ingest", "PUBLISHER").await;

    let no_header = as_key(
        &app,
        &key.secret,
        None,
        queries::RECORD_EVENTS,
        record("a.b"),
    )
    .await;
    assert_eq!(
        no_header.error_code().as_deref(),
        Some("TENANT_REQUIRED"),
        "{}",
        no_header.text
    );
    for unknown in [
        "initech",
        "00000000-0000-4000-8000-000000000000",
        "not a slug!",
    ] {
        let answer = as_key(
            &app,
            &key.secret,
            Some(unknown),
            queries::RECORD_EVENTS,
            record("a.b"),
        )
        .await;
        assert_eq!(
            answer.error_code().as_deref(),
            Some("TENANT_NOT_FOUND"),
            "{}",
            answer.text
        );
    }

    // By slug and by id.
    for (named, action) in [
        (acme.slug.as_str(), "deploy.by_slug"),
        (acme.id.as_str(), "deploy.by_id"),
    ] {
        let answer = as_key(
            &app,
            &key.secret,
            Some(named),
            queries::RECORD_EVENTS,
            record(action),
        )
        .await;
        assert!(answer.errors().is_empty(), "{}", answer.text);
    }
    let acme_actions: Vec<Value> = app
        .all_events(&acme.admin_key, json!({}))
        .await
        .into_iter()
        .map(|e| e["action"].clone())
        .collect();
    assert!(
        acme_actions.contains(&json!("deploy.by_slug")),
        "{acme_actions:?}"
    );
    assert!(
        acme_actions.contains(&json!("deploy.by_id")),
        "{acme_actions:?}"
    );
    let globex_events = app.all_events(&globex.admin_key, json!({})).await;
    assert!(
        globex_events
            .iter()
            .all(|e| !e["action"].as_str().unwrap_or("").starts_with("deploy.")),
        "another tenant sees nothing: {globex_events:?}"
    );

    // A publisher reads nothing, manages nothing, creates no tenant.
    for (query, variables) in [
        (queries::LIST_EVENTS, json!({})),
        (queries::API_KEYS, json!({})),
        (
            queries::CREATE_API_KEY,
            json!({ "name": "x", "role": "ADMIN" }),
        ),
    ] {
        let answer = as_key(&app, &key.secret, Some(&acme.slug), query, variables).await;
        assert_eq!(
            answer.error_code().as_deref(),
            Some("FORBIDDEN"),
            "{}",
            answer.text
        );
    }
    let create = as_key(
        &app,
        &key.secret,
        None,
        queries::CREATE_TENANT,
        json!({ "slug": "hooli", "name": "Hooli", "plan": "TEAM" }),
    )
    .await;
    assert_eq!(
        create.error_code().as_deref(),
        Some("FORBIDDEN"),
        "{}",
        create.text
    );
}

async fn an_admin_key_does_what_a_tenant_admin_does_in_the_named_tenant(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = app.create_tenant("acme", "TEAM").await;
    let globex = app.create_tenant("globex", "TEAM").await;
    app.record_ok(&globex.admin_key, json!([event("globex.secret")]))
        .await;
    let key = create_platform_key(&app, "admin console", "ADMIN").await;

    let recorded = as_key(
        &app,
        &key.secret,
        Some("acme"),
        queries::RECORD_EVENTS,
        record("entry.create"),
    )
    .await;
    assert!(recorded.errors().is_empty(), "{}", recorded.text);
    let listed = as_key(
        &app,
        &key.secret,
        Some("acme"),
        queries::LIST_EVENTS,
        json!({}),
    )
    .await;
    let actions: Vec<&str> = listed.field("auditEvents")["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|edge| edge["node"]["action"].as_str())
        .collect();
    assert!(actions.contains(&"entry.create"), "{actions:?}");
    assert!(!actions.contains(&"globex.secret"), "{actions:?}");

    // A key created by the platform key: the self-audit event names it.
    let created = as_key(
        &app,
        &key.secret,
        Some("acme"),
        queries::CREATE_API_KEY,
        json!({ "name": "ci", "role": "PUBLISHER" }),
    )
    .await;
    assert!(created.errors().is_empty(), "{}", created.text);
    let audit = app
        .all_events(&acme.admin_key, json!({ "actions": ["api_key.create"] }))
        .await;
    let actor = &audit.last().expect("api_key.create is recorded")["actor"];
    assert_eq!(actor["type"], "API_KEY");
    assert_eq!(actor["actorId"], json!(key.id));
    assert_eq!(actor["name"], "admin console");

    // Tenants: created and moved without a tenant header.
    let tenant = as_key(
        &app,
        &key.secret,
        None,
        queries::CREATE_TENANT,
        json!({ "slug": "hooli", "name": "Hooli", "plan": "TEAM" }),
    )
    .await;
    assert!(tenant.errors().is_empty(), "{}", tenant.text);
    let hooli_id = id(&tenant.field("createTenant")["tenant"]);
    let moved = as_key(
        &app,
        &key.secret,
        None,
        queries::CHANGE_TENANT_PLAN,
        json!({ "id": hooli_id, "plan": "ENTERPRISE" }),
    )
    .await;
    assert!(moved.errors().is_empty(), "{}", moved.text);
    assert_eq!(moved.field("changeTenantPlan")["plan"], "ENTERPRISE");

    // Both are in the platform log too, naming the key and the tenant.
    let log = app
        .graphql(
            PLATFORM_LOG,
            json!({ "filter": { "actionPrefix": "tenant." } }),
            Some(&app.operator_token),
        )
        .await;
    let entries: Vec<(Value, Value, Value)> = log.field("platformAuditEvents")["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| {
            let node = &edge["node"];
            (
                node["action"].clone(),
                node["actor"]["actorId"].clone(),
                node["target"]["targetId"].clone(),
            )
        })
        .collect();
    for action in ["tenant.create", "tenant.plan_change"] {
        assert!(
            entries.contains(&(json!(action), json!(key.id), json!(hooli_id))),
            "{action} by the key on hooli: {entries:?}"
        );
    }
}

async fn a_tenant_credential_may_only_name_its_own_tenant(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = app.create_tenant("acme", "TEAM").await;
    let globex = app.create_tenant("globex", "TEAM").await;
    for own in [acme.slug.as_str(), acme.id.as_str()] {
        let answer = as_key(
            &app,
            &acme.admin_key,
            Some(own),
            queries::LIST_EVENTS,
            json!({}),
        )
        .await;
        assert!(answer.errors().is_empty(), "{}", answer.text);
    }
    for other in [globex.slug.as_str(), globex.id.as_str(), "initech"] {
        for (query, variables) in [
            (queries::LIST_EVENTS, json!({})),
            (queries::RECORD_EVENTS, record("a.b")),
        ] {
            let answer = as_key(&app, &acme.admin_key, Some(other), query, variables).await;
            assert_eq!(
                answer.error_code().as_deref(),
                Some("FORBIDDEN"),
                "{}",
                answer.text
            );
        }
    }
    let globex_events = app.all_events(&globex.admin_key, json!({})).await;
    assert!(
        globex_events.iter().all(|e| e["action"] != "a.b"),
        "nothing was recorded in another tenant"
    );
}

async fn a_revoked_platform_key_stops_at_once_and_the_platform_log_records_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = app.create_tenant("acme", "TEAM").await;
    let key = create_platform_key(&app, "rotating", "ADMIN").await;
    let before = as_key(
        &app,
        &key.secret,
        Some("acme"),
        queries::RECORD_EVENTS,
        record("a.b"),
    )
    .await;
    assert!(before.errors().is_empty(), "{}", before.text);

    let revoked = app
        .graphql(
            REVOKE_PLATFORM_KEY,
            json!({ "id": key.id }),
            Some(&app.operator_token),
        )
        .await;
    assert!(!revoked.field("revokePlatformKey")["revokedAt"].is_null());
    for tenant in [None, Some("acme")] {
        let after = as_key(
            &app,
            &key.secret,
            tenant,
            queries::RECORD_EVENTS,
            record("a.b"),
        )
        .await;
        assert_eq!(
            after.error_code().as_deref(),
            Some("UNAUTHENTICATED"),
            "{}",
            after.text
        );
    }

    let log = app
        .graphql(PLATFORM_LOG, json!({}), Some(&app.operator_token))
        .await;
    let nodes: Vec<&Value> = log.field("platformAuditEvents")["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| &edge["node"])
        .collect();
    let actions: Vec<&str> = nodes.iter().filter_map(|n| n["action"].as_str()).collect();
    assert_eq!(
        actions,
        ["platform_key.revoke", "platform_key.create"],
        "{}",
        log.text
    );
    assert!(
        nodes
            .iter()
            .all(|n| n["target"]["targetId"] == json!(key.id))
    );
    assert!(
        !log.text.contains(&key.secret),
        "the log never holds the secret"
    );

    // The platform log is no tenant's: not in acme's log, not nameable.
    let acme_events = app.all_events(&acme.admin_key, json!({})).await;
    assert!(acme_events.iter().all(|e| {
        !e["action"]
            .as_str()
            .unwrap_or("")
            .starts_with("platform_key.")
    }));
    let other = create_platform_key(&app, "other", "ADMIN").await;
    for named in ["_platform", "00000000-0000-7000-8000-000000000001"] {
        let answer = as_key(
            &app,
            &other.secret,
            Some(named),
            queries::LIST_EVENTS,
            json!({}),
        )
        .await;
        assert_eq!(
            answer.error_code().as_deref(),
            Some("TENANT_NOT_FOUND"),
            "{}",
            answer.text
        );
    }
}

/// A WebSocket opened with `connection_init` `{Authorization, Auditlog-Tenant}`.
async fn socket(app: &TestApp, bearer: &str, tenant: Option<&str>) -> WsClient {
    let mut payload = json!({ "Authorization": format!("Bearer {bearer}") });
    if let Some(tenant) = tenant {
        payload["Auditlog-Tenant"] = json!(tenant);
    }
    let mut ws = WsClient::connect(&app.ws_url(), TRANSPORT_WS).await;
    ws.send(json!({ "type": "connection_init", "payload": payload }))
        .await;
    ws
}

async fn on_a_websocket_the_tenant_is_named_in_connection_init(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = app.create_tenant("acme", "TEAM").await;
    let globex = app.create_tenant("globex", "TEAM").await;
    let key = create_platform_key(&app, "console", "ADMIN").await;

    let mut ws = socket(&app, &key.secret, Some("acme")).await;
    assert_eq!(ws.next_json().await["type"], "connection_ack");
    ws.subscribe("1", queries::SUBSCRIPTION, json!({})).await;
    app.record_ok(&globex.admin_key, json!([event("globex.secret")]))
        .await;
    app.record_ok(&acme.admin_key, json!([event("acme.visible")]))
        .await;
    assert_eq!(ws.next_event("1").await["action"], "acme.visible");
    ws.close().await;

    // No tenant, an unknown one: closed 4403 with the reason.
    for (tenant, reason) in [
        (None, "Tenant required"),
        (Some("initech"), "Tenant not found"),
    ] {
        let mut ws = socket(&app, &key.secret, tenant).await;
        let (code, text) = ws.close_frame().await;
        assert_eq!(code, 4403, "{text}");
        assert!(text.starts_with(reason), "{text}");
    }
    // A tenant credential naming another tenant.
    let mut ws = socket(&app, &acme.admin_key, Some(&globex.slug)).await;
    let (code, text) = ws.close_frame().await;
    assert_eq!(code, 4403, "{text}");
    assert!(text.starts_with("Forbidden"), "{text}");
}

backend_tests!(
    on_a_websocket_the_tenant_is_named_in_connection_init,
    the_operator_manages_platform_keys_and_their_secret_is_shown_once,
    a_publisher_key_records_for_the_named_tenant_only,
    an_admin_key_does_what_a_tenant_admin_does_in_the_named_tenant,
    a_tenant_credential_may_only_name_its_own_tenant,
    a_revoked_platform_key_stops_at_once_and_the_platform_log_records_it,
);
