//! The read path applies the retention window before any purge: lists, the
//! permalink, facets and subscription replay never return an expired event,
//! unless the tenant is on legal hold. Ingest refuses events already expired.

use auditlog_tests::database::{self, tenant_uuid};
use auditlog_tests::ws::WsClient;
use auditlog_tests::{Backend, backend_tests, spawn_app};
use entity::domain::ActorType;
use entity::domain::new_event::RawEvent;
use serde_json::{Value, json};

use super::days_ago;
use crate::helpers::{ids, rfc3339};

/// The action names and counts of the facets, as a sorted list.
fn action_counts(facets: &Value) -> Vec<(String, i64)> {
    let mut counts: Vec<_> = facets["actions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|f| {
            (
                f["value"].as_str().unwrap_or_default().to_owned(),
                f["count"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    counts.sort();
    counts
}

async fn reads_hide_expired_events_before_any_purge(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("team-co", "TEAM").await;
    let db = database::connect(app.database_url()).await;
    let tenant_id = tenant_uuid(&tenant.id);
    let expired = database::plant(&db, tenant_id, "entry.old", days_ago(8), 3).await;
    let kept = database::plant(&db, tenant_id, "entry.recent", days_ago(6), 2).await;
    let key = &tenant.admin_key;

    let listed = app.all_events(key, Value::Null).await;
    let listed_ids = ids(&listed);
    for id in &expired {
        assert!(!listed_ids.contains(&id.to_string()), "expired {id} listed");
        let response = app.event(key, &id.to_string()).await;
        assert!(
            response.field("auditEvent").is_null(),
            "expired event readable by id: {}",
            response.text
        );
    }
    for id in &kept {
        assert!(listed_ids.contains(&id.to_string()), "kept {id} missing");
        assert_eq!(
            app.event(key, &id.to_string()).await.field("auditEvent")["id"],
            id.to_string()
        );
    }
    // A filter reaching back past the cutoff still stops at it.
    let filtered = app
        .all_events(
            key,
            json!({ "occurredAfter": rfc3339(days_ago(30)), "actionPrefix": "entry." }),
        )
        .await;
    assert_eq!(filtered.len(), kept.len());

    let facets = app.facets(key).await.field("auditEventFacets").clone();
    assert_eq!(
        action_counts(&facets),
        vec![("entry.recent".into(), 2), ("tenant.create".into(), 1)]
    );
    let actors = facets["actors"].as_array().cloned().unwrap_or_default();
    let planted = actors.iter().find(|a| a["id"] == "planted-user");
    assert_eq!(planted.map(|a| a["count"].clone()), Some(json!(2)));

    // Subscription replay from the very beginning skips the expired events.
    let mut ws = WsClient::connect_and_init(&app.ws_url(), key).await;
    ws.subscribe(
        "replay",
        "subscription { auditEventRecorded(afterSequence: 0) { id action } }",
        Value::Null,
    )
    .await;
    let mut replayed = Vec::new();
    for _ in 0..3 {
        replayed.push(ws.next_event("replay").await["action"].clone());
    }
    assert_eq!(
        replayed,
        vec![
            json!("tenant.create"),
            json!("entry.recent"),
            json!("entry.recent")
        ]
    );
    ws.close().await;

    // Nothing was deleted: the window is applied on read.
    assert_eq!(database::stored_count(&db, tenant_id).await, 6);
}

async fn legal_hold_keeps_expired_events_visible(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("team-co", "TEAM").await;
    let db = database::connect(app.database_url()).await;
    let expired = database::plant(&db, tenant_uuid(&tenant.id), "entry.old", days_ago(8), 2).await;
    let key = &tenant.admin_key;
    let expired_id = expired[0].to_string();

    app.operator_legal_hold(&tenant.id, true, Some("litigation"))
        .await
        .field("setLegalHold");
    let listed = ids(&app
        .all_events(key, json!({ "actions": ["entry.old"] }))
        .await);
    assert_eq!(listed.len(), 2, "on hold, nothing expires");
    assert_eq!(
        app.event(key, &expired_id).await.field("auditEvent")["id"],
        expired_id.as_str()
    );

    app.operator_legal_hold(&tenant.id, false, None)
        .await
        .field("setLegalHold");
    assert!(
        app.all_events(key, json!({ "actions": ["entry.old"] }))
            .await
            .is_empty()
    );
    assert!(
        app.event(key, &expired_id)
            .await
            .field("auditEvent")
            .is_null()
    );
}

async fn ingest_rejects_events_outside_the_window(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("team-co", "TEAM").await;
    let key = &tenant.admin_key;
    let event = |days: i64| {
        json!({ "action": "entry.create", "actor": { "type": "USER", "id": "u1" },
                "occurredAt": rfc3339(days_ago(days)) })
    };
    let before = app.event_count(key).await;
    let response = app.record(key, json!([event(1), event(8), event(2)])).await;
    response.assert_error("BAD_USER_INPUT");
    assert_eq!(response.error_extensions()["index"], 1);
    let message = response.error_message();
    assert!(
        message.starts_with("events[1].occurredAt") && message.contains("7 days"),
        "names the event and the window: {message}"
    );
    assert_eq!(app.event_count(key).await, before, "all or nothing");

    // Inside the window it is accepted; on legal hold nothing is outside it.
    app.record_ok(key, json!([event(6)])).await;
    app.operator_legal_hold(&tenant.id, true, None)
        .await
        .field("setLegalHold");
    app.record_ok(key, json!([event(400)])).await;
}

async fn a_retry_of_an_expired_event_does_not_return_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("team-co", "TEAM").await;
    let db = database::connect(app.database_url()).await;
    // Sent 8 days ago without `occurredAt`, with an idempotency key.
    let raw = RawEvent {
        action: "entry.create".into(),
        actor_type: Some(ActorType::User),
        actor_id: "u1".into(),
        idempotency_key: Some("req-1".into()),
        ..RawEvent::default()
    };
    database::plant_raw(&db, tenant_uuid(&tenant.id), raw, days_ago(8)).await;
    let retry = json!([{ "action": "entry.create", "actor": { "type": "USER", "id": "u1" },
                         "idempotencyKey": "req-1" }]);
    let before = app.event_count(&tenant.admin_key).await;
    let response = app.record(&tenant.admin_key, retry).await;
    response.assert_error("CONFLICT");
    assert!(
        response.error_message().contains("expired"),
        "{}",
        response.text
    );
    assert_eq!(app.event_count(&tenant.admin_key).await, before);
}

backend_tests!(
    reads_hide_expired_events_before_any_purge,
    legal_hold_keeps_expired_events_visible,
    ingest_rejects_events_outside_the_window,
    a_retry_of_an_expired_event_does_not_return_it,
);
