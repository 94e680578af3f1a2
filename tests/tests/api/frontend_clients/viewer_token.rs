//! Apollo Client authenticated only by a viewer token (issue 16), driven the
//! way docs/integration.md describes a SaaS embedding auditlog: the operator
//! creates two platform keys; the platform ADMIN key creates the tenants and
//! mints a scoped viewer token; the platform PUBLISHER key records events
//! with `Auditlog-Tenant`. Node (`viewer-token.test.mjs`) gets the token,
//! the URLs and what this driver knows the scope must show; the PUBLISHER
//! key and the tenant's slug only for the raw requests that record live
//! events (a viewer token may not record).

use auditlog_tests::{Backend, TestApp, backend_tests, queries, spawn_app};
use serde_json::{Map, Value, json};

use super::run_node;
use crate::helpers::{base_time, rfc3339};

const CREATE_PLATFORM_KEY: &str = "mutation($name: String!, $role: PlatformRole!) { \
     createPlatformKey(name: $name, role: $role) { secret } }";
const CREATE_VIEWER_TOKEN: &str = "mutation($input: ViewerTokenInput!) { \
     createViewerToken(input: $input) { token expiresAt tokenId } }";
const TENANT_HEADER: &str = "Auditlog-Tenant";

/// The token's scope: the events about documents.
const SCOPE_TARGET_TYPE: &str = "document";

/// A platform key's secret, created by the operator.
async fn platform_key(app: &TestApp, name: &str, role: &str) -> String {
    let created = app
        .graphql(
            CREATE_PLATFORM_KEY,
            json!({ "name": name, "role": role }),
            Some(&app.operator_token),
        )
        .await;
    created.field("createPlatformKey")["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("no platform key: {}", created.text))
        .to_owned()
}

/// Creates tenant `slug` with the platform ADMIN key (no header needed).
async fn create_tenant(app: &TestApp, platform_admin: &str, slug: &str) {
    let created = app
        .graphql(
            queries::CREATE_TENANT,
            json!({ "slug": slug, "name": slug, "plan": "TEAM" }),
            Some(platform_admin),
        )
        .await;
    assert_eq!(
        created.field("createTenant")["tenant"]["slug"],
        slug,
        "{}",
        created.text
    );
}

/// Records `events` into `tenant` with the platform PUBLISHER key; returns
/// them as stored, in input order.
async fn record(app: &TestApp, publisher: &str, tenant: &str, events: &[Value]) -> Vec<Value> {
    let answer = app
        .graphql_with_headers(
            queries::RECORD_EVENTS,
            json!({ "events": events }),
            Some(publisher),
            &[(TENANT_HEADER, tenant)],
        )
        .await;
    answer.field("recordAuditEvents")["events"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("not recorded: {}", answer.text))
}

/// 40 events one minute apart, oldest first: of each five, three about a
/// `document` (in the scope: `document.update` by user-1, `document.share`
/// and `document.create` by user-2) and two outside it (`folder.create` by
/// user-9, a `user.login` of user-1 without a target), so user-1 acts both
/// inside and outside the scope.
fn tenant_events() -> Vec<Value> {
    (0..40)
        .map(|i: i64| {
            let (action, actor, target) = match i % 5 {
                0 => (
                    "folder.create",
                    "user-9",
                    Some(("folder", format!("f-{i}"))),
                ),
                1 => (
                    "document.update",
                    "user-1",
                    Some(("document", format!("d-{}", i % 3))),
                ),
                2 => (
                    "document.share",
                    "user-2",
                    Some(("document", format!("d-{}", i % 3))),
                ),
                3 => ("user.login", "user-1", None),
                _ => (
                    "document.create",
                    "user-2",
                    Some(("document", format!("d-{i}"))),
                ),
            };
            let mut event = json!({
                "action": action,
                "actor": { "type": "USER", "id": actor, "name": actor },
                "occurredAt": rfc3339(base_time(i)),
            });
            if let Some((kind, id)) = target {
                event["target"] = json!({ "type": kind, "id": id });
            }
            event
        })
        .collect()
}

fn in_scope(event: &Value) -> bool {
    event["target"]["type"] == SCOPE_TARGET_TYPE
}

/// `{ value: count }` of `key(event)` over `events`.
fn counts(events: &[&Value], key: impl Fn(&Value) -> &Value) -> Value {
    let mut counts = Map::new();
    for event in events {
        let value = key(event).as_str().unwrap_or_default().to_owned();
        let count = counts.entry(value).or_insert(json!(0));
        *count = json!(count.as_u64().unwrap_or_default() + 1);
    }
    Value::Object(counts)
}

/// Pages through the scoped log and its facets, opens permalinks inside and
/// outside the scope, and receives live events, with Apollo Client and no
/// credential but the viewer token.
async fn apollo_client_with_a_viewer_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = platform_key(&app, "provisioning", "ADMIN").await;
    let publisher = platform_key(&app, "app servers", "PUBLISHER").await;
    create_tenant(&app, &admin, "acme").await;
    create_tenant(&app, &admin, "globex").await;

    let recorded = record(&app, &publisher, "acme", &tenant_events()).await;
    // Globex's events are about documents too: only the tenant keeps them out.
    let globex_events: Vec<Value> = tenant_events().into_iter().filter(in_scope).collect();
    let globex = record(&app, &publisher, "globex", &globex_events[..5]).await;

    let minted = app
        .graphql_with_headers(
            CREATE_VIEWER_TOKEN,
            json!({ "input": {
                "role": "AUDITOR",
                "subject": { "id": "user-1", "name": "Ann Smith", "email": "ann@acme.test" },
                "expiresInSeconds": 600,
                "scope": { "targetType": SCOPE_TARGET_TYPE },
            } }),
            Some(&admin),
            &[(TENANT_HEADER, "acme")],
        )
        .await;
    let token = minted.field("createViewerToken")["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no viewer token: {}", minted.text))
        .to_owned();

    // What the scope must show, from what was recorded (not from a read).
    let (inside, outside): (Vec<&Value>, Vec<&Value>) = recorded.iter().partition(|e| in_scope(e));
    assert_eq!((inside.len(), outside.len()), (24, 16));
    let newest_first: Vec<&Value> = inside.iter().rev().map(|e| &e["sequence"]).collect();
    let expected = json!({
        "sequences": newest_first,
        "actions": counts(&inside, |e| &e["action"]),
        "actors": counts(&inside, |e| &e["actor"]["actorId"]),
        "inScopeId": inside[0]["id"],
        "outOfScopeIds": outside.iter().map(|e| &e["id"]).collect::<Vec<_>>(),
        "otherTenantIds": globex.iter().map(|e| &e["id"]).collect::<Vec<_>>(),
    });

    run_node(
        "viewer-token.test.mjs",
        &[
            ("AUDITLOG_HTTP_URL", app.url("/graphql")),
            ("AUDITLOG_WS_URL", app.ws_url()),
            ("AUDITLOG_VIEWER_TOKEN", token),
            (
                "AUDITLOG_VIEWER_SCOPE_TARGET_TYPE",
                SCOPE_TARGET_TYPE.to_owned(),
            ),
            ("AUDITLOG_EXPECTED", expected.to_string()),
            ("AUDITLOG_PUBLISHER_KEY", publisher),
            ("AUDITLOG_TENANT", "acme".to_owned()),
            ("AUDITLOG_OTHER_TENANT", "globex".to_owned()),
        ],
    )
    .await
    .assert_counts(6, 0);
}

backend_tests!(apollo_client_with_a_viewer_token);
