//! Issue 17, audited reads: a person's (IdP token, browser session, viewer
//! token) reads of the log — `auditEvents`, `auditEvent`, `auditEventFacets`,
//! starting `auditEventRecorded` — are recorded as `audit_log.view` in the
//! reader's tenant, once per reader per window (`AUDITLOG_VIEW_AUDIT_INTERVAL_SECS`,
//! 0: every read), with the first read's filter; across service instances
//! too. API keys' and platform keys' reads only with `AUDITLOG_AUDIT_API_KEY_READS`.
//! A read whose view cannot be recorded is refused.

use std::time::Duration;

use auditlog_tests::oidc::JWT_RESOURCE;
use auditlog_tests::ws::WsClient;
use auditlog_tests::{Backend, TestApp, backend_tests, queries, spawn_app, spawn_app_with};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::event;
use crate::oidc::{browser_signed_in, fixture_with};

const VIEW: &str = "audit_log.view";
const TENANT_HEADER: &str = "Auditlog-Tenant";

/// The tenant's `audit_log.view` events, newest first, read with `key` (an
/// API key, whose reads are not recorded by default).
async fn views(app: &TestApp, key: &str) -> Vec<Value> {
    app.all_events(key, json!({ "actions": [VIEW] })).await
}

/// `auditEvents` with `filter` as `bearer`, asserting success.
async fn list(app: &TestApp, bearer: &str, filter: Value) {
    let answer = app
        .list_as(Some(bearer), json!({ "first": 5, "filter": filter }))
        .await;
    assert!(answer.errors().is_empty(), "{}", answer.text);
}

/// Each of the four reads once, as `bearer` (with `headers`).
async fn read_every_way(app: &TestApp, bearer: &str, headers: &[(&str, &str)], event_id: &str) {
    for (query, variables) in [
        (
            queries::LIST_EVENTS,
            json!({ "filter": { "actionPrefix": "entry." } }),
        ),
        (queries::EVENT_BY_ID, json!({ "id": event_id })),
        (queries::FACETS, json!({})),
    ] {
        let answer = app
            .graphql_with_headers(query, variables, Some(bearer), headers)
            .await;
        assert!(answer.errors().is_empty(), "{}", answer.text);
    }
    subscribe_once(app, bearer, headers).await;
}

/// Starts a subscription as `bearer` and waits for its first replayed event,
/// so the subscription's start (and its view) has happened.
async fn subscribe_once(app: &TestApp, bearer: &str, headers: &[(&str, &str)]) {
    let mut payload = json!({ "Authorization": format!("Bearer {bearer}") });
    for (name, value) in headers {
        payload[*name] = json!(value);
    }
    let mut ws = WsClient::connect(&app.ws_url(), auditlog_tests::ws::TRANSPORT_WS).await;
    ws.send(json!({ "type": "connection_init", "payload": payload }))
        .await;
    assert_eq!(ws.next_json().await["type"], "connection_ack");
    ws.subscribe(
        "1",
        queries::SUBSCRIPTION,
        json!({ "after": 0, "filter": { "actions": ["tenant.create"] } }),
    )
    .await;
    assert_eq!(ws.next_event("1").await["action"], "tenant.create");
    ws.close().await;
}

fn whats(views: &[Value]) -> Vec<&str> {
    let mut whats: Vec<&str> = views
        .iter()
        .map(|view| view["payload"]["what"].as_str().unwrap_or_default())
        .collect();
    whats.sort_unstable();
    whats
}

/// Reads by one person within a window: one view, with the first read's
/// filter; another person has a window of their own (a browser session too).
async fn a_person_is_recorded_once_per_window(backend: Backend) {
    let f = fixture_with(backend, |_| {}).await;
    let recorded = f
        .app
        .record_ok(&f.acme.admin_key, json!([event("entry.create")]))
        .await;
    let alice = f.provider.access_token("alice", JWT_RESOURCE).await;
    let first_filter = json!({ "actions": ["entry.create"], "actorType": "USER" });
    list(&f.app, &alice, first_filter.clone()).await;
    list(&f.app, &alice, json!({ "search": "other" })).await;
    read_every_way(&f.app, &alice, &[], recorded[0]["id"].as_str().unwrap()).await;

    let seen = views(&f.app, &f.acme.admin_key).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    let view = &seen[0];
    assert_eq!(
        view["actor"],
        json!({ "type": "USER", "actorId": "alice", "id": "alice", "name": "Alice Admin",
                "email": "alice@acme.test" })
    );
    assert_eq!(
        view["payload"],
        json!({ "what": "auditEvents", "filter": first_filter })
    );
    assert_eq!(view["target"]["type"], "audit_log");
    assert_eq!(view["target"]["targetId"], f.acme.id.as_str());
    assert!(!view.to_string().contains(&alice), "no token in the event");

    // Bob, signed in through the browser: his own window, no filter.
    let (_browser, cookie) = browser_signed_in(&f.app, "bob").await;
    let origin = f.app.address.clone();
    let headers = [("cookie", cookie.as_str()), ("origin", origin.as_str())];
    for _ in 0..2 {
        let answer = f
            .app
            .graphql_with_headers(queries::FACETS, json!({}), None, &headers)
            .await;
        assert!(answer.errors().is_empty(), "{}", answer.text);
    }
    let seen = views(&f.app, &f.acme.admin_key).await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0]["actor"]["actorId"], "bob");
    assert_eq!(
        seen[0]["payload"],
        json!({ "what": "auditEventFacets", "filter": null })
    );
}

/// With an interval of 0 every read is a view, each saying what it read.
async fn every_read_is_recorded_with_no_window(backend: Backend) {
    let f = fixture_with(backend, |settings| {
        settings.view_audit.view_audit_interval_secs = 0;
    })
    .await;
    let recorded = f
        .app
        .record_ok(&f.acme.admin_key, json!([event("entry.create")]))
        .await;
    let event_id = recorded[0]["id"].as_str().unwrap();
    let alice = f.provider.access_token("alice", JWT_RESOURCE).await;
    read_every_way(&f.app, &alice, &[], event_id).await;
    list(&f.app, &alice, Value::Null).await;

    let seen = views(&f.app, &f.acme.admin_key).await;
    assert_eq!(
        whats(&seen),
        [
            "auditEvent",
            "auditEventFacets",
            "auditEventRecorded",
            "auditEvents",
            "auditEvents"
        ],
        "{seen:?}"
    );
    let by_id = seen
        .iter()
        .find(|view| view["payload"]["what"] == "auditEvent")
        .unwrap();
    assert_eq!(
        by_id["payload"],
        json!({ "what": "auditEvent", "filter": null, "eventId": event_id })
    );
    let subscribed = seen
        .iter()
        .find(|view| view["payload"]["what"] == "auditEventRecorded")
        .unwrap();
    assert_eq!(
        subscribed["payload"]["filter"],
        json!({ "actions": ["tenant.create"] })
    );
    // Bad input reads nothing, so it records nothing.
    let refused = f
        .app
        .list_as(Some(&alice), json!({ "filter": { "ipAddress": "nope" } }))
        .await;
    assert_eq!(refused.error_code().as_deref(), Some("BAD_USER_INPUT"));
    assert_eq!(views(&f.app, &f.acme.admin_key).await.len(), seen.len());
}

/// Once the window has passed, the next read is recorded again.
async fn a_new_window_records_again(backend: Backend) {
    let f = fixture_with(backend, |settings| {
        settings.view_audit.view_audit_interval_secs = 1;
    })
    .await;
    let alice = f.provider.access_token("alice", JWT_RESOURCE).await;
    list(&f.app, &alice, json!({ "actions": ["first"] })).await;
    assert_eq!(views(&f.app, &f.acme.admin_key).await.len(), 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    list(&f.app, &alice, json!({ "actions": ["second"] })).await;

    let seen = views(&f.app, &f.acme.admin_key).await;
    let filters: Vec<&Value> = seen.iter().map(|view| &view["payload"]["filter"]).collect();
    assert_eq!(
        filters,
        [
            &json!({ "actions": ["second"] }),
            &json!({ "actions": ["first"] })
        ]
    );
}

/// An AUDITOR viewer token for `user-42`, scoped to `doc.*`: the token and its id.
async fn viewer_token(app: &TestApp, admin_key: &str) -> (String, String) {
    let mint = "mutation($input: ViewerTokenInput!) { createViewerToken(input: $input) \
                { token tokenId } }";
    let input = json!({ "input": { "role": "AUDITOR", "scope": { "actionPrefix": "doc." },
        "subject": { "id": "user-42", "name": "Dana Viewer", "email": "dana@example.com" } } });
    let minted = app.graphql(mint, input, Some(admin_key)).await;
    let minted = minted.field("createViewerToken");
    let field = |name: &str| minted[name].as_str().unwrap().to_owned();
    (field("token"), field("tokenId"))
}

/// A viewer token's reads are its subject's, with the token's id (never the
/// token); a scoped token is recorded though it cannot see the record.
async fn a_viewer_token_read_is_recorded_with_its_subject(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = app.create_tenant("acme", "TEAM").await;
    let (token, token_id) = viewer_token(&app, &acme.admin_key).await;
    let token = token.as_str();

    list(&app, token, json!({ "actions": ["doc.read"] })).await;
    list(&app, token, Value::Null).await;
    let seen = views(&app, &acme.admin_key).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        seen[0]["actor"],
        json!({ "type": "USER", "actorId": "user-42", "id": "user-42", "name": "Dana Viewer",
                "email": "dana@example.com" })
    );
    assert_eq!(
        seen[0]["payload"],
        json!({ "what": "auditEvents", "filter": { "actions": ["doc.read"] },
                "tokenId": token_id })
    );
    assert!(
        !seen[0].to_string().contains(token),
        "no token in the event"
    );
    let own = app.all_events(token, json!({ "actions": [VIEW] })).await;
    assert!(own.is_empty(), "outside the token's scope: {own:?}");
}

const CREATE_PLATFORM_KEY: &str = "mutation { createPlatformKey(name: \"provisioning\", \
     role: ADMIN) { secret platformKey { id } } }";

/// A platform ADMIN key (its secret and id).
async fn platform_key(app: &TestApp) -> (String, String) {
    let created = app
        .graphql(CREATE_PLATFORM_KEY, json!({}), Some(&app.operator_token))
        .await;
    let created = created.field("createPlatformKey");
    (
        created["secret"].as_str().unwrap().to_owned(),
        created["platformKey"]["id"].as_str().unwrap().to_owned(),
    )
}

/// API keys and platform keys read unrecorded by default; with
/// `AUDITLOG_AUDIT_API_KEY_READS` each key is recorded once per window.
async fn api_key_reads_are_recorded_only_when_enabled(backend: Backend) {
    for enabled in [false, true] {
        let app = spawn_app_with(backend, |settings| {
            settings.view_audit.audit_api_key_reads = enabled;
        })
        .await;
        let acme = app.create_tenant("acme", "TEAM").await;
        let recorded = app
            .record_ok(&acme.admin_key, json!([event("entry.create")]))
            .await;
        let event_id = recorded[0]["id"].as_str().unwrap();
        let (platform, platform_id) = platform_key(&app).await;
        read_every_way(&app, &acme.admin_key, &[], event_id).await;
        read_every_way(&app, &platform, &[(TENANT_HEADER, "acme")], event_id).await;

        let seen = views(&app, &acme.admin_key).await;
        if !enabled {
            assert!(seen.is_empty(), "{seen:?}");
            continue;
        }
        let mut actors: Vec<(&str, &str)> = seen
            .iter()
            .map(|view| {
                (
                    view["actor"]["type"].as_str().unwrap(),
                    view["actor"]["actorId"].as_str().unwrap(),
                )
            })
            .collect();
        actors.sort_unstable();
        let mut expected = vec![
            ("API_KEY", acme.admin_key_id.as_str()),
            ("API_KEY", platform_id.as_str()),
        ];
        expected.sort_unstable();
        assert_eq!(actors, expected, "{seen:?}");
        assert!(
            seen.iter()
                .all(|view| view["payload"]["what"] == "auditEvents"),
            "each key's first read: {seen:?}"
        );
    }
}

/// Two service instances on one database, one person reading through both
/// at once: one view for the window.
async fn two_instances_record_one_view_per_window(backend: Backend) {
    let f = fixture_with(backend, |_| {}).await;
    let replica = f
        .app
        .spawn_replica(|settings| f.provider.configure(settings))
        .await;
    let alice = f.provider.access_token("alice", JWT_RESOURCE).await;
    let reads = (0..6).map(|i| {
        let client = if i % 2 == 0 { &f.app.api } else { &replica.api };
        let args = json!({ "first": 1, "filter": { "actions": [format!("read.n{i}")] } });
        let alice = alice.as_str();
        async move { client.list_as(Some(alice), args).await }
    });
    for answer in futures::future::join_all(reads).await {
        assert!(answer.errors().is_empty(), "{}", answer.text);
    }
    for client in [&f.app.api, &replica.api] {
        let answer = client.list_as(Some(&alice), json!({ "first": 1 })).await;
        assert!(answer.errors().is_empty(), "{}", answer.text);
    }
    let seen = views(&f.app, &f.acme.admin_key).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
}

/// A view is in the reader's tenant only: another tenant's log, list or
/// permalink, shows nothing of it.
async fn views_stay_in_the_readers_tenant(backend: Backend) {
    let f = fixture_with(backend, |_| {}).await;
    let alice = f.provider.access_token("alice", JWT_RESOURCE).await;
    list(&f.app, &alice, Value::Null).await;
    let ours = views(&f.app, &f.acme.admin_key).await;
    assert_eq!(ours.len(), 1, "{ours:?}");

    assert!(views(&f.app, &f.beta.admin_key).await.is_empty());
    let carol = f.provider.access_token("carol", JWT_RESOURCE).await;
    let seen = f.app.all_events(&carol, Value::Null).await;
    assert!(
        seen.iter().all(|e| e["actor"]["actorId"] != "alice"),
        "{seen:?}"
    );
    let permalink = f.app.event(&carol, ours[0]["id"].as_str().unwrap()).await;
    assert!(
        permalink.field("auditEvent").is_null(),
        "{}",
        permalink.text
    );
    // Carol's own read went to beta's log, and to beta's only.
    let theirs = views(&f.app, &f.beta.admin_key).await;
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    assert_eq!(theirs[0]["actor"]["actorId"], "carol");
    assert_eq!(views(&f.app, &f.acme.admin_key).await.len(), 1);
}

/// A view that cannot be recorded (here: the service's role lost its
/// privileges on the marks) fails the read, is logged and counted; nothing
/// was answered unrecorded. PostgreSQL only: SQLite has no privileges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_whose_view_cannot_be_recorded_fails() {
    let app = spawn_app(Backend::Postgres).await;
    let acme = app.create_tenant("acme", "TEAM").await;
    let (token, _) = viewer_token(&app, &acme.admin_key).await;
    let superuser = auditlog_tests::database::connect(app.superuser_database_url()).await;
    let privileges = "INSERT, UPDATE ON audit_view_marks";
    superuser
        .execute_unprepared(&format!("REVOKE {privileges} FROM auditlog_app"))
        .await
        .unwrap();
    let refused = app.list_as(Some(&token), json!({ "first": 5 })).await;
    assert!(
        refused.body["data"].is_null(),
        "nothing answered: {}",
        refused.text
    );
    assert_eq!(
        refused.error_code().as_deref(),
        Some("INTERNAL_SERVER_ERROR"),
        "{}",
        refused.text
    );
    assert!(views(&app, &acme.admin_key).await.is_empty());
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("auditlog_view_audits_total{outcome=\"failed\"}"),
        "{metrics}"
    );

    superuser
        .execute_unprepared(&format!("GRANT {privileges} TO auditlog_app"))
        .await
        .unwrap();
    list(&app, &token, Value::Null).await;
    assert_eq!(views(&app, &acme.admin_key).await.len(), 1);
}

backend_tests!(
    a_person_is_recorded_once_per_window,
    every_read_is_recorded_with_no_window,
    a_new_window_records_again,
    a_viewer_token_read_is_recorded_with_its_subject,
    api_key_reads_are_recorded_only_when_enabled,
    two_instances_record_one_view_per_window,
    views_stay_in_the_readers_tenant,
);
