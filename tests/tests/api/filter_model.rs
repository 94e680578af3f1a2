//! A reference model of `AuditEventFilter`, written from the contract: the tests
//! compare the server's answer for a filter with this model applied to every event
//! of the tenant (self-audit events included), so each filter is checked against
//! both what it must return and what it must leave out.

use std::net::IpAddr;

use serde_json::Value;

use crate::helpers::instant;

/// Whether `event` (an `AuditEvent` as read back) matches `filter` (an
/// `AuditEventFilter` input; absent fields do not constrain).
pub(crate) fn matches(filter: &Value, event: &Value) -> bool {
    let constraints = [
        field_in(&filter["actions"], &event["action"]),
        filter["actionPrefix"]
            .as_str()
            .is_none_or(|prefix| text(&event["action"]).starts_with(prefix)),
        field_in(&filter["actorIds"], &event["actor"]["id"]),
        equal_if_set(&filter["actorType"], &event["actor"]["type"]),
        equal_if_set(&filter["targetType"], &event["target"]["type"]),
        equal_if_set(&filter["targetId"], &event["target"]["id"]),
        equal_if_set(&filter["outcome"], &event["outcome"]),
        filter["occurredAfter"].is_null()
            || instant(&event["occurredAt"]) >= instant(&filter["occurredAfter"]),
        filter["occurredBefore"].is_null()
            || instant(&event["occurredAt"]) < instant(&filter["occurredBefore"]),
        filter["ipAddress"]
            .as_str()
            .is_none_or(|ip| same_ip(ip, &event["context"]["ipAddress"])),
        filter["search"]
            .as_str()
            .is_none_or(|needle| search_hits(needle, event)),
    ];
    constraints.iter().all(|holds| *holds)
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

fn field_in(allowed: &Value, actual: &Value) -> bool {
    allowed
        .as_array()
        .is_none_or(|allowed| allowed.contains(actual))
}

fn equal_if_set(wanted: &Value, actual: &Value) -> bool {
    wanted.is_null() || wanted == actual
}

fn same_ip(wanted: &str, actual: &Value) -> bool {
    let parse = |s: &str| s.parse::<IpAddr>().ok();
    actual
        .as_str()
        .and_then(parse)
        .is_some_and(|actual| Some(actual) == parse(wanted))
}

/// Substring over action, actor name and email, and target name, ignoring
/// the case of ASCII letters only (`É` and `é` differ).
fn search_hits(needle: &str, event: &Value) -> bool {
    let needle = needle.to_ascii_lowercase();
    [
        &event["action"],
        &event["actor"]["name"],
        &event["actor"]["email"],
        &event["target"]["name"],
    ]
    .into_iter()
    .any(|haystack| text(haystack).to_ascii_lowercase().contains(&needle))
}
