//! Fixtures and assertions shared by the test modules.

use std::sync::OnceLock;

use auditlog_tests::{Backend, TenantHandle, TestApp, spawn_app};
use chrono::{DateTime, Duration, SecondsFormat, SubsecRound, Utc};
use serde_json::{Value, json};

/// A server on `backend` with one TEAM tenant.
pub(crate) async fn app_with_tenant(backend: Backend) -> (TestApp, TenantHandle) {
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    (app, tenant)
}

/// The smallest valid event input.
pub(crate) fn event(action: &str) -> Value {
    json!({ "action": action, "actor": { "type": "USER", "id": "user-1" } })
}

/// `count` minimal events with the given action.
pub(crate) fn events(action: &str, count: usize) -> Value {
    Value::Array((0..count).map(|_| event(action)).collect())
}

/// Parses a GraphQL `DateTime`.
#[track_caller]
pub(crate) fn instant(value: &Value) -> DateTime<Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("expected a DateTime string, got {value}"));
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text} is not RFC 3339: {e}"))
        .with_timezone(&Utc)
}

/// An RFC 3339 string with millisecond precision (exact on both backends).
pub(crate) fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A fixed instant in the past, plus `minutes`: two days before this test
/// process started, on a whole minute. Recent enough to lie inside every
/// retention window (TEAM keeps 7 days; ingest refuses older events).
pub(crate) fn base_time(minutes: i64) -> DateTime<Utc> {
    static BASE: OnceLock<DateTime<Utc>> = OnceLock::new();
    let base = *BASE.get_or_init(|| {
        let two_days_ago = (Utc::now() - Duration::days(2)).trunc_subsecs(0);
        two_days_ago - Duration::seconds(two_days_ago.timestamp() % 60)
    });
    base + Duration::minutes(minutes)
}

/// Eight events, one hour apart from `base_time(0)`, labelled e1..e8 (the
/// filter and facet tests' data set).
pub(crate) fn seed() -> Value {
    let at = |hour: i64| json!(rfc3339(base_time(hour * 60)));
    json!([
        { "action": "entry.create", "occurredAt": at(0),
          "actor": { "type": "USER", "id": "u1", "name": "Alice Smith", "email": "alice@example.com" },
          "target": { "type": "entry", "id": "t1", "name": "Quarterly Report" }, "context": { "ipAddress": "10.0.0.1" } },
        { "action": "entry.update", "occurredAt": at(1),
          "actor": { "type": "USER", "id": "u1", "name": "Alice Smith", "email": "alice@example.com" },
          "target": { "type": "entry", "id": "t1", "name": "Quarterly Report" }, "context": { "ipAddress": "10.0.0.1" } },
        { "action": "entry.delete", "occurredAt": at(2), "outcome": "FAILURE",
          "actor": { "type": "USER", "id": "u2", "name": "Bob Jones", "email": "bob@corp.test" },
          "target": { "type": "entry", "id": "t2", "name": "Draft Notes" }, "context": { "ipAddress": "10.0.0.2" } },
        { "action": "user.login", "occurredAt": at(3), "outcome": "FAILURE",
          "actor": { "type": "USER", "id": "u2", "name": "Bob Jones", "email": "bob@corp.test" },
          "context": { "ipAddress": "2001:db8::7", "userAgent": "Firefox" } },
        { "action": "user.login", "occurredAt": at(4),
          "actor": { "type": "USER", "id": "u3", "name": "Carol", "email": "carol@example.com" },
          "context": { "ipAddress": "10.0.0.3" } },
        { "action": "billing.invoice_paid", "occurredAt": at(5),
          "actor": { "type": "SYSTEM", "id": "billing-cron", "name": "Billing Cron" },
          "target": { "type": "invoice", "id": "inv-9", "name": "Invoice 9" } },
        { "action": "entry.create", "occurredAt": at(6),
          "actor": { "type": "API_KEY", "id": "key-42", "name": "CI Bot" },
          "target": { "type": "entry", "id": "t3", "name": "Release NOTES" }, "context": { "ipAddress": "10.0.0.1" } },
        { "action": "settings.update", "occurredAt": at(7), "outcome": "FAILURE",
          "actor": { "type": "USER", "id": "u1", "name": "Alice Smith", "email": "alice@example.com" },
          "target": { "type": "settings", "id": "org", "name": "Org settings" }, "context": { "ipAddress": "10.0.0.9" } }
    ])
}

pub(crate) fn sequence(event: &Value) -> i64 {
    event["sequence"]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer sequence in {event}"))
}

pub(crate) fn id(value: &Value) -> String {
    auditlog_tests::str_field(value, "id")
}

pub(crate) fn ids(events: &[Value]) -> Vec<String> {
    events.iter().map(id).collect()
}

/// Asserts that two reads of the same event agree on every field; timestamps are
/// compared as instants, within a millisecond (a database may round sub-microsecond
/// digits that a write response still carries).
#[track_caller]
pub(crate) fn assert_same_event(left: &Value, right: &Value) {
    for field in [
        "id", "sequence", "action", "actor", "target", "outcome", "context", "payload",
    ] {
        assert_eq!(
            left[field], right[field],
            "field {field} differs:\n{left}\n{right}"
        );
    }
    for field in ["occurredAt", "receivedAt"] {
        let gap = (instant(&left[field]) - instant(&right[field]))
            .num_microseconds()
            .unwrap_or(i64::MAX)
            .abs();
        assert!(gap < 1000, "field {field} differs:\n{left}\n{right}");
    }
}

/// Asserts that a stored event carries exactly what `input` said, and the defaults
/// of the contract for what it left out.
#[track_caller]
pub(crate) fn assert_event_matches_input(event: &Value, input: &Value) {
    assert_eq!(event["action"], input["action"], "action of {event}");
    for field in ["type", "id", "name", "email"] {
        assert_eq!(
            event["actor"][field], input["actor"][field],
            "actor.{field} of {event}"
        );
    }
    if input["target"].is_null() {
        assert!(event["target"].is_null(), "no target was sent, got {event}");
    } else {
        for field in ["type", "id", "name"] {
            assert_eq!(
                event["target"][field], input["target"][field],
                "target.{field} of {event}"
            );
        }
    }
    let outcome = if input["outcome"].is_null() {
        json!("SUCCESS")
    } else {
        input["outcome"].clone()
    };
    assert_eq!(event["outcome"], outcome, "outcome of {event}");
    for field in ["ipAddress", "userAgent", "requestId"] {
        // An absent context may read back as null or as an object of nulls.
        assert_eq!(
            event["context"][field], input["context"][field],
            "context.{field} of {event}"
        );
    }
    assert_eq!(event["payload"], input["payload"], "payload of {event}");
    if !input["occurredAt"].is_null() {
        assert_eq!(
            instant(&event["occurredAt"]),
            instant(&input["occurredAt"]),
            "occurredAt of {event}"
        );
    }
}

/// Asserts that `response` failed with `code` and that the tenant of `key` has
/// exactly `count_before` events afterwards.
pub(crate) async fn assert_rejected(
    app: &TestApp,
    key: &str,
    response: &auditlog_tests::GqlResponse,
    codes: &[&str],
    count_before: usize,
) {
    response.assert_error_in(codes);
    assert_eq!(
        app.event_count(key).await,
        count_before,
        "a rejected request wrote events: {}",
        response.text
    );
}

/// `(id, revokedAt)` of every API key of the tenant, sorted: what a mutation on keys
/// may change (`lastUsedAt` changes on every request, so it is left out).
pub(crate) async fn key_states(app: &TestApp, admin_key: &str) -> Vec<(String, Value)> {
    let response = app.api_keys(Some(admin_key)).await;
    let keys = response
        .field("apiKeys")
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut states: Vec<(String, Value)> = keys
        .iter()
        .map(|k| (id(k), k["revokedAt"].clone()))
        .collect();
    states.sort_by(|a, b| a.0.cmp(&b.0));
    states
}
