//! What a stream may never do: reach a private or metadata address in
//! production mode, carry another tenant's events, be seen or changed by
//! another tenant or by a non-ADMIN, or take input it cannot honour.

use auditlog_tests::receiver::{StreamReceiver, batches};
use auditlog_tests::{Backend, backend_tests, spawn_app};
use serde_json::{Value, json};

use super::{CREATE, DELIVERIES, STREAMS, app_with_streams, caught_up, create_stream, record_one};
use crate::helpers::events;

fn webhook(url: &str) -> Value {
    json!({ "name": "SIEM", "kind": "WEBHOOK", "url": url })
}

async fn production_mode_refuses_private_and_plain_targets(backend: Backend) {
    // The harness's servers run in production mode, without
    // AUDITLOG_STREAM_ALLOW_PRIVATE_TARGETS.
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    for url in [
        "http://siem.example.com/hook",
        "https://127.0.0.1/hook",
        "https://localhost:8443/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[fd00:ec2::254]/",
        "https://10.0.0.7/hook",
        "https://192.168.1.1/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://user:secret@siem.example.com/hook",
        "ftp://siem.example.com/",
        "not a url",
    ] {
        let response = app
            .graphql(
                CREATE,
                json!({ "input": webhook(url) }),
                Some(&tenant.admin_key),
            )
            .await;
        response.assert_error("BAD_USER_INPUT");
        assert!(
            response.error_message().contains("url"),
            "{url}: {}",
            response.text
        );
    }
    let listed = app
        .graphql(STREAMS, json!({}), Some(&tenant.admin_key))
        .await;
    assert_eq!(listed.field("logStreams"), &json!([]));
}

async fn a_stream_carries_only_its_tenants_events(backend: Backend) {
    let app = app_with_streams(backend).await;
    let acme = app.create_tenant("acme", "TEAM").await;
    let globex = app.create_tenant("globex", "TEAM").await;
    let receiver = StreamReceiver::start().await;
    let a = create_stream(
        &app,
        &acme.admin_key,
        webhook(&receiver.url("/acme")),
        Some(0),
    )
    .await;
    let b = create_stream(
        &app,
        &globex.admin_key,
        webhook(&receiver.url("/globex")),
        Some(0),
    )
    .await;
    app.record_ok(&acme.admin_key, events("acme.secret", 5))
        .await;
    app.record_ok(&globex.admin_key, events("globex.secret", 5))
        .await;
    let last_a = record_one(&app, &acme.admin_key, "acme.secret").await;
    let last_b = record_one(&app, &globex.admin_key, "globex.secret").await;
    for (key, stream, last) in [
        (&acme.admin_key, &a, last_a),
        (&globex.admin_key, &b, last_b),
    ] {
        let id = stream["logStream"]["id"].as_str().unwrap();
        caught_up(&app, key, id, last).await;
    }
    let requests = receiver.requests().await;
    for request in batches(&requests) {
        let (tenant, foreign) = if request["path"] == "/acme" {
            (&acme, "globex.")
        } else {
            (&globex, "acme.")
        };
        assert_eq!(request["body"]["tenant"], tenant.id.as_str());
        let text = request["body"]["events"].to_string();
        assert!(
            !text.contains(foreign),
            "another tenant's event leaked: {text}"
        );
    }
    // Another tenant can neither see nor touch a stream.
    let listed = app
        .graphql(STREAMS, json!({}), Some(&globex.admin_key))
        .await;
    let ids: Vec<&Value> = listed
        .field("logStreams")
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["id"])
        .collect();
    assert_eq!(ids, [&b["logStream"]["id"]]);
    let acme_id = a["logStream"]["id"].as_str().unwrap();
    for mutation in [
        "mutation($id: ID!) { pauseLogStream(id: $id) { id } }",
        "mutation($id: ID!) { resumeLogStream(id: $id) { id } }",
        "mutation($id: ID!) { replayLogStream(id: $id, afterSequence: 0) { id } }",
        "mutation($id: ID!) { rotateLogStreamSecret(id: $id) { signingSecret } }",
        "mutation($id: ID!) { testLogStream(id: $id) { id } }",
        "mutation($id: ID!) { deleteLogStream(id: $id) }",
        "mutation($id: ID!) { updateLogStream(id: $id, input: { name: \"x\", kind: WEBHOOK, url: \"https://siem.example.com/\" }) { id } }",
    ] {
        app.graphql(mutation, json!({ "id": acme_id }), Some(&globex.admin_key))
            .await
            .assert_error("NOT_FOUND");
    }
    app.graphql(
        DELIVERIES,
        json!({ "id": acme_id }),
        Some(&globex.admin_key),
    )
    .await
    .assert_error("NOT_FOUND");
    let still = super::stream(&app, &acme.admin_key, acme_id).await;
    assert_eq!(still["state"], "ACTIVE");
}

async fn only_admins_manage_streams_and_bad_input_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    let key = &tenant.admin_key;
    for role in ["AUDITOR", "PUBLISHER"] {
        let other = app.create_api_key(key, role, role).await;
        app.graphql(STREAMS, json!({}), Some(&other.secret))
            .await
            .assert_error("FORBIDDEN");
        app.graphql(
            CREATE,
            json!({ "input": webhook("https://siem.example.com/") }),
            Some(&other.secret),
        )
        .await
        .assert_error("FORBIDDEN");
    }
    let refused = [
        json!({ "input": { "name": "x", "kind": "WEBHOOK", "url": "https://siem.example.com/", "batchSize": 0 } }),
        json!({ "input": { "name": "x", "kind": "WEBHOOK", "url": "https://siem.example.com/", "batchSize": 1001 } }),
        json!({ "input": { "name": " ", "kind": "WEBHOOK", "url": "https://siem.example.com/" } }),
        json!({ "input": { "name": "x", "kind": "SPLUNK_HEC", "url": "https://splunk.example.com:8088" } }),
        json!({ "input": { "name": "x", "kind": "WEBHOOK", "url": "https://siem.example.com/", "splunkIndex": "main" } }),
        json!({ "input": webhook("https://siem.example.com/"), "after": 999 }),
        json!({ "input": { "name": "x", "kind": "WEBHOOK", "url": "https://siem.example.com/", "filter": { "ipAddress": "nope" } } }),
    ];
    for variables in refused {
        app.graphql(CREATE, variables.clone(), Some(key))
            .await
            .assert_error("BAD_USER_INPUT");
    }
    let created = create_stream(
        &app,
        key,
        webhook("https://siem.example.com/hook?token=abc"),
        None,
    )
    .await;
    let id = created["logStream"]["id"].as_str().unwrap();
    app.graphql(
        "mutation($id: ID!) { updateLogStream(id: $id, input: { name: \"x\", kind: SPLUNK_HEC, url: \"https://siem.example.com/\", splunkToken: \"t\" }) { id } }",
        json!({ "id": id }),
        Some(key),
    )
    .await
    .assert_error("BAD_USER_INPUT");
    app.graphql(
        "mutation($id: ID!) { replayLogStream(id: $id, afterSequence: 1000000) { id } }",
        json!({ "id": id }),
        Some(key),
    )
    .await
    .assert_error("BAD_USER_INPUT");
    app.graphql(
        "mutation { pauseLogStream(id: \"not-a-uuid\") { id } }",
        json!({}),
        Some(key),
    )
    .await
    .assert_error("BAD_USER_INPUT");
    // The self-audit event names the URL without its query (tokens live there).
    let log = app
        .all_events(key, json!({ "actions": ["log_stream.create"] }))
        .await;
    assert_eq!(log.len(), 1);
    let url = log[0]["payload"]["url"].as_str().unwrap();
    assert!(!url.contains("abc"), "{url}");
    assert!(log[0]["payload"].get("signingSecret").is_none());
    let deleted = app
        .graphql(
            "mutation($id: ID!) { deleteLogStream(id: $id) }",
            json!({ "id": id }),
            Some(key),
        )
        .await;
    assert_eq!(deleted.field("deleteLogStream"), true);
    assert_eq!(
        app.all_events(key, json!({ "actions": ["log_stream.delete"] }))
            .await
            .len(),
        1
    );
}

backend_tests!(
    production_mode_refuses_private_and_plain_targets,
    a_stream_carries_only_its_tenants_events,
    only_admins_manage_streams_and_bad_input_is_refused,
);
