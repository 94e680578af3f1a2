//! Malformed values inside otherwise well-formed requests: action names, times,
//! IP addresses, enum values and UUIDs.

use auditlog_tests::{Backend, backend_tests};
use chrono::{Duration, Utc};
use serde_json::{Value, json};

use super::COERCION_CODES;
use crate::helpers::{app_with_tenant, assert_rejected, event, key_states, rfc3339};

async fn rejects_malformed_action_names(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let count = app.event_count(key).await;
    let malformed = [
        "",
        "entry",
        "entry.",
        ".entry",
        "entry..create",
        "Entry.create",
        "entry.Create",
        "1entry.create",
        "entry.1create",
        "_entry.create",
        "entry.cre-ate",
        "entry create",
        "entry.create ",
        " entry.create",
        "entry/create",
        "éntry.create",
        "entry.create\n",
    ];
    for action in malformed {
        let response = app.record(key, json!([event(action)])).await;
        assert_rejected(&app, key, &response, &["BAD_USER_INPUT"], count).await;
    }
}

async fn accepts_well_formed_action_names(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let good = [
        "a.b",
        "entry.create",
        "billing.invoice_paid",
        "v2.api_key.rotate_all",
        "x1.y2.z3",
    ];
    let inputs: Vec<Value> = good.iter().map(|action| event(action)).collect();
    let written = app.record_ok(&tenant.admin_key, Value::Array(inputs)).await;
    let actions: Vec<&str> = written
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, good);
}

async fn rejects_occurred_at_more_than_5_minutes_ahead(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let count = app.event_count(key).await;
    for ahead in [
        Duration::minutes(6),
        Duration::hours(2),
        Duration::days(365),
    ] {
        let mut input = event("clock.skew");
        input["occurredAt"] = json!(rfc3339(Utc::now() + ahead));
        let response = app.record(key, json!([input])).await;
        assert_rejected(&app, key, &response, &["BAD_USER_INPUT"], count).await;
    }
    // A minute of clock skew is tolerated.
    let mut input = event("clock.skew");
    input["occurredAt"] = json!(rfc3339(Utc::now() + Duration::minutes(1)));
    app.record_ok(key, json!([input])).await;
}

async fn rejects_invalid_datetimes(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let count = app.event_count(key).await;
    for bad in [
        "yesterday",
        "2024-02-30T00:00:00Z",
        "2024-01-01",
        "2024-01-01 10:00:00",
        "",
    ] {
        let mut input = event("clock.read");
        input["occurredAt"] = json!(bad);
        let response = app.record(key, json!([input])).await;
        assert_rejected(&app, key, &response, COERCION_CODES, count).await;

        for field in ["occurredAfter", "occurredBefore"] {
            let response = app.list(key, json!({ "filter": { field: bad } })).await;
            response.assert_error_in(COERCION_CODES);
        }
    }
}

async fn rejects_invalid_ip_addresses(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let count = app.event_count(key).await;
    for bad in [
        "999.1.1.1",
        "not-an-ip",
        "10.0.0",
        "2001:db8:::1",
        "10.0.0.1/24",
    ] {
        let mut input = event("net.connect");
        input["context"] = json!({ "ipAddress": bad });
        let response = app.record(key, json!([input])).await;
        assert_rejected(&app, key, &response, &["BAD_USER_INPUT"], count).await;

        let response = app
            .list(key, json!({ "filter": { "ipAddress": bad } }))
            .await;
        response.assert_error("BAD_USER_INPUT");
    }
}

async fn rejects_unknown_enum_values(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let count = app.event_count(key).await;

    let mut bad_outcome = event("enum.check");
    bad_outcome["outcome"] = json!("MAYBE");
    let mut bad_actor_type = event("enum.check");
    bad_actor_type["actor"]["type"] = json!("ROBOT");
    let mut lowercase = event("enum.check");
    lowercase["outcome"] = json!("success");
    for input in [bad_outcome, bad_actor_type, lowercase] {
        let response = app.record(key, json!([input])).await;
        assert_rejected(&app, key, &response, COERCION_CODES, count).await;
    }

    // As a literal in the document, and as a filter variable.
    let literal = app
        .graphql(
            "{ auditEvents(filter: { actorType: ROBOT }) { edges { cursor } } }",
            Value::Null,
            Some(key),
        )
        .await;
    literal.assert_error_in(COERCION_CODES);
    app.list(key, json!({ "filter": { "outcome": "MAYBE" } }))
        .await
        .assert_error_in(COERCION_CODES);

    let keys_before = key_states(&app, key).await;
    app.create_api_key_as(Some(key), "bad role", "OWNER")
        .await
        .assert_error_in(COERCION_CODES);
    assert_eq!(
        key_states(&app, key).await,
        keys_before,
        "no key was created"
    );

    let operator = Some(app.operator_token.as_str());
    app.create_tenant_as(operator, "free-rider", "Free", "FREE")
        .await
        .assert_error_in(COERCION_CODES);
    // The slug is still free: the rejected call created nothing.
    app.create_tenant("free-rider", "TEAM").await;
}

async fn rejects_invalid_uuids(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    for bad in [
        "nope",
        "12345",
        "0190f6b2-7c3d-7000-8000-00000000000",
        "0190f6b2-7c3d-7000-8000-00000000000g",
    ] {
        app.event(key, bad).await.assert_error("BAD_USER_INPUT");

        let keys_before = key_states(&app, key).await;
        let count = app.event_count(key).await;
        app.revoke_api_key(Some(key), bad)
            .await
            .assert_error("BAD_USER_INPUT");
        assert_eq!(
            key_states(&app, key).await,
            keys_before,
            "no key was revoked"
        );
        assert_eq!(
            app.event_count(key).await,
            count,
            "a rejected revocation audits nothing"
        );
    }
}

backend_tests!(
    rejects_malformed_action_names,
    accepts_well_formed_action_names,
    rejects_occurred_at_more_than_5_minutes_ahead,
    rejects_invalid_datetimes,
    rejects_invalid_ip_addresses,
    rejects_unknown_enum_values,
    rejects_invalid_uuids,
);
