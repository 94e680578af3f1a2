//! `NewEvent`: one validated event of a `recordAuditEvents` batch, ready to store.
//!
//! Validation is total: a `NewEvent` exists only if every field is acceptable, so
//! the store never sees bad input and a batch is rejected before anything is
//! written. Errors name the field so the GraphQL layer can point at `events[i].field`.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Action, ActorType, IpAddress, Outcome};

/// Largest accepted payload, serialized as JSON.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
/// How far in the future `occurredAt` may lie (clock skew allowance).
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(5);
const MAX_SHORT_TEXT: usize = 256;
const MAX_LONG_TEXT: usize = 1024;

/// The client-supplied fields of an event, as received (unvalidated).
#[derive(Clone, Debug, Default)]
pub struct RawEvent {
    pub action: String,
    pub actor_type: Option<ActorType>,
    pub actor_id: String,
    pub actor_name: Option<String>,
    pub actor_email: Option<String>,
    pub target: Option<RawTarget>,
    pub outcome: Outcome,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    /// The HTTP request's `x-request-id`: `request_id` when the event names
    /// none. Not part of the fingerprint, because a retry is a new HTTP request
    /// that may well carry a new id.
    pub transport_request_id: Option<String>,
    pub payload: Option<Value>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub idempotency_key: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct RawTarget {
    pub target_type: String,
    pub id: Option<String>,
    pub name: Option<String>,
}

#[derive(Clone, Debug)]
pub struct NewEvent {
    pub action: Action,
    pub actor_type: ActorType,
    pub actor_id: String,
    pub actor_name: Option<String>,
    pub actor_email: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub target_name: Option<String>,
    pub outcome: Outcome,
    pub ip_address: Option<IpAddress>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub payload: Option<Value>,
    /// Truncated to microseconds, the precision both databases store.
    pub occurred_at: DateTime<Utc>,
    pub idempotency_key: Option<String>,
    /// Fingerprint of the client-supplied fields; tells a retry from a key reuse.
    /// Only events with an idempotency key have one (nothing else compares it).
    pub request_hash: Option<String>,
}

/// Why one event was refused: the offending field (GraphQL spelling) and a reason.
#[derive(Debug, PartialEq, Eq)]
pub struct NewEventError {
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> NewEventError {
    NewEventError {
        field,
        message: message.into(),
    }
}

impl NewEvent {
    pub fn parse(raw: RawEvent, now: DateTime<Utc>) -> Result<Self, NewEventError> {
        let request_hash = raw.idempotency_key.is_some().then(|| fingerprint(&raw));
        let action = Action::parse(&raw.action).map_err(|reason| invalid("action", reason))?;
        let actor_type = raw
            .actor_type
            .ok_or_else(|| invalid("actor.type", "is required"))?;
        let actor_id = required_text("actor.id", raw.actor_id, MAX_SHORT_TEXT)?;
        let actor_name = optional_text("actor.name", raw.actor_name, MAX_SHORT_TEXT)?;
        let actor_email = optional_text("actor.email", raw.actor_email, MAX_SHORT_TEXT)?;
        let (target_type, target_id, target_name) = match raw.target {
            None => (None, None, None),
            Some(target) => (
                Some(required_text(
                    "target.type",
                    target.target_type,
                    MAX_SHORT_TEXT,
                )?),
                optional_text("target.id", target.id, MAX_SHORT_TEXT)?,
                optional_text("target.name", target.name, MAX_SHORT_TEXT)?,
            ),
        };
        let ip_address = raw
            .ip_address
            .map(|ip| IpAddress::parse(&ip))
            .transpose()
            .map_err(|reason| invalid("context.ipAddress", reason))?;
        let user_agent = optional_text("context.userAgent", raw.user_agent, MAX_LONG_TEXT)?;
        let request_id = optional_text(
            "context.requestId",
            raw.request_id.or(raw.transport_request_id),
            MAX_SHORT_TEXT,
        )?;
        if let Some(payload) = &raw.payload {
            let size = serde_json::to_vec(payload)
                .map(|bytes| bytes.len())
                .unwrap_or(usize::MAX);
            if size > MAX_PAYLOAD_BYTES {
                return Err(invalid(
                    "payload",
                    format!("is {size} bytes; the limit is {MAX_PAYLOAD_BYTES} bytes (64 KiB)"),
                ));
            }
            if contains_nul(payload) {
                return Err(invalid("payload", "contains a NUL character (\\u0000)"));
            }
        }
        let occurred_at = raw.occurred_at.unwrap_or(now).trunc_subsecs(6);
        let occurred_at = super::timestamp::storable(occurred_at)
            .map_err(|reason| invalid("occurredAt", reason))?;
        if occurred_at > now + MAX_CLOCK_SKEW {
            return Err(invalid(
                "occurredAt",
                format!(
                    "{} is more than 5 minutes in the future",
                    occurred_at.to_rfc3339()
                ),
            ));
        }
        let idempotency_key = optional_text("idempotencyKey", raw.idempotency_key, MAX_SHORT_TEXT)?;
        Ok(Self {
            action,
            actor_type,
            actor_id,
            actor_name,
            actor_email,
            target_type,
            target_id,
            target_name,
            outcome: raw.outcome,
            ip_address,
            user_agent,
            request_id,
            payload: raw.payload,
            occurred_at,
            idempotency_key,
            request_hash,
        })
    }
}

fn required_text(field: &'static str, value: String, max: usize) -> Result<String, NewEventError> {
    if value.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    optional_text(field, Some(value), max).map(|value| value.unwrap_or_default())
}

fn optional_text(
    field: &'static str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, NewEventError> {
    match value {
        Some(text) if text.chars().count() > max => {
            Err(invalid(field, format!("is longer than {max} characters")))
        }
        Some(text) if text.chars().any(|c| c == '\0') => {
            Err(invalid(field, "contains a NUL character"))
        }
        other => Ok(other),
    }
}

/// Whether a key or string anywhere in `value` contains NUL, which PostgreSQL's
/// `jsonb` cannot store. Recursion is bounded by the JSON parsers' nesting limits.
fn contains_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(contains_nul),
        Value::Object(map) => map
            .iter()
            .any(|(key, item)| key.contains('\0') || contains_nul(item)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// SHA-256 over a canonical rendering of the client-supplied fields (object keys
/// sorted), so the same event sent twice hashes the same whatever its key order.
fn fingerprint(raw: &RawEvent) -> String {
    let target = raw
        .target
        .as_ref()
        .map(|t| (&t.target_type, &t.id, &t.name));
    let canonical = serde_json::json!([
        raw.action,
        raw.actor_type.map(ActorType::as_db),
        raw.actor_id,
        raw.actor_name,
        raw.actor_email,
        target,
        raw.outcome.as_db(),
        raw.ip_address,
        raw.user_agent,
        raw.request_id,
        raw.payload.as_ref().map(sorted),
        raw.occurred_at.map(|at| at.trunc_subsecs(6).to_rfc3339()),
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// A copy of `value` whose objects list their keys in sorted order.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Array(
                entries
                    .into_iter()
                    .map(|(key, value)| {
                        Value::Array(vec![Value::String(key.clone()), sorted(value)])
                    })
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw() -> RawEvent {
        RawEvent {
            action: "entry.create".into(),
            actor_type: Some(ActorType::User),
            actor_id: "u1".into(),
            ..RawEvent::default()
        }
    }

    #[test]
    fn fills_occurred_at_and_accepts_minimal_event() {
        let now = Utc::now();
        let event = NewEvent::parse(raw(), now).expect("valid");
        assert_eq!(event.occurred_at, now.trunc_subsecs(6));
        assert_eq!(event.outcome, Outcome::Success);
    }

    #[test]
    fn rejects_each_bad_field() {
        let now = Utc::now();
        let cases: Vec<(RawEvent, &str)> = vec![
            (
                RawEvent {
                    action: "Bad".into(),
                    ..raw()
                },
                "action",
            ),
            (
                RawEvent {
                    actor_id: " ".into(),
                    ..raw()
                },
                "actor.id",
            ),
            (
                RawEvent {
                    ip_address: Some("1.2.3".into()),
                    ..raw()
                },
                "context.ipAddress",
            ),
            (
                RawEvent {
                    occurred_at: Some(now + Duration::minutes(6)),
                    ..raw()
                },
                "occurredAt",
            ),
            (
                RawEvent {
                    payload: Some(json!("x".repeat(MAX_PAYLOAD_BYTES))),
                    ..raw()
                },
                "payload",
            ),
            (
                RawEvent {
                    payload: Some(json!({ "nested": [{ "k": "a\u{0}b" }] })),
                    ..raw()
                },
                "payload",
            ),
            (
                RawEvent {
                    payload: Some(json!({ "k\u{0}": 1 })),
                    ..raw()
                },
                "payload",
            ),
        ];
        for (event, field) in cases {
            assert_eq!(
                NewEvent::parse(event, now).map(|_| ()).unwrap_err().field,
                field
            );
        }
    }

    #[test]
    fn fingerprint_ignores_key_order_but_not_values() {
        let a = RawEvent {
            payload: Some(json!({"a": 1, "b": {"c": 2, "d": 3}})),
            ..raw()
        };
        let b = RawEvent {
            payload: Some(json!({"b": {"d": 3, "c": 2}, "a": 1})),
            ..raw()
        };
        let c = RawEvent {
            payload: Some(json!({"a": 2})),
            ..raw()
        };
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&a), fingerprint(&c));
    }
}
