//! What a subscriber receives: its tenant's matching events, in sequence order,
//! each once; stored ones first when it asks for `afterSequence`.

use auditlog_tests::ws::WsClient;
use auditlog_tests::{Backend, backend_tests};
use serde_json::{Value, json};

use crate::helpers::{app_with_tenant, event, events, sequence};
use auditlog_tests::queries::SUBSCRIPTION;

async fn delivers_new_events_in_order_with_every_field(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let mut ws = WsClient::connect_and_init(&app.ws_url(), &tenant.admin_key).await;
    ws.subscribe("1", SUBSCRIPTION, json!({})).await;
    // The subscription is registered once the server answers a ping sent after it.
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.next_json().await["type"], "pong");

    let full = json!({
        "action": "entry.create",
        "actor": { "type": "USER", "id": "u-1", "name": "Ann", "email": "ann@acme.test" },
        "target": { "type": "article", "id": "a-1", "name": "Launch" },
        "outcome": "FAILURE",
        "context": { "ipAddress": "203.0.113.9", "userAgent": "curl/8", "requestId": "req-1" },
        "payload": { "title": "Launch", "tags": ["a", "b"] },
    });
    let recorded = app
        .record_ok(
            &tenant.admin_key,
            json!([full, event("entry.update"), event("entry.delete")]),
        )
        .await;
    for expected in &recorded {
        let received = ws.next_event("1").await;
        for field in [
            "id", "sequence", "action", "actor", "target", "outcome", "context", "payload",
        ] {
            assert_eq!(received[field], expected[field], "{field}");
        }
    }
    ws.close().await;
}

async fn without_after_sequence_starts_with_the_next_event(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    app.record_ok(&tenant.admin_key, events("entry.old", 3))
        .await;
    let mut ws = WsClient::connect_and_init(&app.ws_url(), &tenant.admin_key).await;
    ws.subscribe("s", SUBSCRIPTION, json!({})).await;
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.next_json().await["type"], "pong");
    let new = app
        .record_ok(&tenant.admin_key, json!([event("entry.new")]))
        .await;
    let received = ws.next_event("s").await;
    assert_eq!(received["action"], "entry.new");
    assert_eq!(sequence(&received), sequence(&new[0]));
}

async fn after_sequence_replays_then_continues_live_without_gap_or_duplicate(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    // tenant.create is sequence 1; these are 2..=11.
    app.record_ok(&tenant.admin_key, events("entry.stored", 10))
        .await;
    let mut ws = WsClient::connect_and_init(&app.ws_url(), &tenant.admin_key).await;
    ws.subscribe("r", SUBSCRIPTION, json!({ "after": 5 })).await;
    let mut seen = Vec::new();
    for _ in 6..=11 {
        seen.push(sequence(&ws.next_event("r").await));
    }
    app.record_ok(&tenant.admin_key, events("entry.live", 5))
        .await;
    for _ in 12..=16 {
        seen.push(sequence(&ws.next_event("r").await));
    }
    assert_eq!(seen, (6..=16).collect::<Vec<i64>>());
    // Nothing more arrives: no duplicate at the seam.
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.next_json().await["type"], "pong");
}

async fn filters_mean_what_they_mean_for_the_list(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({ "actionPrefix": "entry." }), "entry.match"),
        (json!({ "actions": ["user.login"] }), "user.login"),
        (json!({ "actorIds": ["u-special"] }), "entry.by_special"),
        (json!({ "outcome": "FAILURE" }), "entry.failed"),
        (json!({ "targetType": "invoice" }), "invoice.paid"),
        (json!({ "search": "needle" }), "entry.with_needle"),
        (json!({ "ipAddress": "2001:db8::1" }), "entry.from_v6"),
        (json!({ "actorType": "SYSTEM" }), "system.tick"),
    ];
    let mut ws = WsClient::connect_and_init(&app.ws_url(), &tenant.admin_key).await;
    for (index, (filter, _)) in cases.iter().enumerate() {
        ws.subscribe(
            &index.to_string(),
            SUBSCRIPTION,
            json!({ "filter": filter, "after": 1 }),
        )
        .await;
    }
    let events = json!([
        { "action": "other.noise", "actor": { "type": "USER", "id": "u-1" } },
        { "action": "entry.match", "actor": { "type": "USER", "id": "u-1" }, "target": { "type": "doc" } },
        { "action": "user.login", "actor": { "type": "USER", "id": "u-1" } },
        { "action": "entry.by_special", "actor": { "type": "USER", "id": "u-special" } },
        { "action": "entry.failed", "actor": { "type": "USER", "id": "u-1" }, "outcome": "FAILURE" },
        { "action": "invoice.paid", "actor": { "type": "USER", "id": "u-1" }, "target": { "type": "invoice", "id": "i-1" } },
        { "action": "entry.with_needle", "actor": { "type": "USER", "id": "u-1", "name": "The NEEDLE maker" } },
        { "action": "entry.from_v6", "actor": { "type": "USER", "id": "u-1" }, "context": { "ipAddress": "2001:DB8:0::1" } },
        { "action": "system.tick", "actor": { "type": "SYSTEM", "id": "cron" } },
    ]);
    app.record_ok(&tenant.admin_key, events).await;
    // Each subscription's first matching event, and the list agrees with it.
    let mut first_match = vec![None; cases.len()];
    while first_match.iter().any(Option::is_none) {
        let message = ws.next_json().await;
        assert_eq!(message["type"], "next", "{message}");
        let index: usize = message["id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .expect("numeric id");
        let action = message["payload"]["data"]["auditEventRecorded"]["action"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        first_match[index].get_or_insert(action);
    }
    for (index, (filter, expected)) in cases.iter().enumerate() {
        let got = first_match[index].clone().unwrap_or_default();
        // entry.* also matches entry.by_special etc.; the first one must be the expected one.
        assert_eq!(got, *expected, "filter {filter}");
        let listed = app.all_events(&tenant.admin_key, filter.clone()).await;
        assert!(
            listed.iter().any(|e| e["action"] == *expected),
            "list with {filter} lacks {expected}"
        );
    }
}

async fn another_tenant_receives_nothing(backend: Backend) {
    let (app, acme) = app_with_tenant(backend).await;
    let other = app.create_tenant("globex", "ENTERPRISE").await;
    let mut spy = WsClient::connect_and_init(&app.ws_url(), &other.admin_key).await;
    // Replay everything the spy's tenant has, then listen live.
    spy.subscribe("spy", SUBSCRIPTION, json!({ "after": 0 }))
        .await;
    let own = spy.next_event("spy").await;
    assert_eq!(
        own["action"], "tenant.create",
        "its own creation is its only event"
    );
    app.record_ok(&acme.admin_key, events("secret.thing", 5))
        .await;
    // A marker event of the spy's own tenant arrives, with nothing of acme before it.
    app.record_ok(&other.admin_key, json!([event("marker.own")]))
        .await;
    let next = spy.next_event("spy").await;
    assert_eq!(
        next["action"], "marker.own",
        "received another tenant's event: {next}"
    );
}

async fn roles_and_arguments_are_checked(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let auditor = app
        .create_api_key(&tenant.admin_key, "auditor", "AUDITOR")
        .await;
    let mut ws = WsClient::connect_and_init(&app.ws_url(), &auditor.secret).await;
    ws.subscribe("bad", SUBSCRIPTION, json!({ "after": -1 }))
        .await;
    let error = ws.next_json().await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["payload"][0]["extensions"]["code"], "BAD_USER_INPUT");
    ws.subscribe(
        "bad-ip",
        SUBSCRIPTION,
        json!({ "filter": { "ipAddress": "nope" } }),
    )
    .await;
    let error = ws.next_json().await;
    assert_eq!(
        error["payload"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{error}"
    );
    // The auditor may subscribe.
    ws.subscribe("ok", SUBSCRIPTION, json!({ "after": 0 }))
        .await;
    assert_eq!(ws.next_event("ok").await["action"], "tenant.create");
}

backend_tests!(
    delivers_new_events_in_order_with_every_field,
    without_after_sequence_starts_with_the_next_event,
    after_sequence_replays_then_continues_live_without_gap_or_duplicate,
    filters_mean_what_they_mean_for_the_list,
    another_tenant_receives_nothing,
    roles_and_arguments_are_checked,
);
