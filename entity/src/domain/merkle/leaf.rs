//! The leaf of one event: the bytes whose `SHA-256(0x00 ‖ leaf)` enters the
//! tree. Documented in `docs/verifying.md`, which is the contract: a verifier
//! rebuilds this object from an exported `AuditEvent` and must get the same
//! bytes.
//!
//! The leaf is RFC 8785 (JCS) of one JSON object holding every stored field,
//! each key always present (`null` when not recorded): `id` (lower-case UUID),
//! `sequence` (number), `action`, `actor {type, id, name, email}` (`type` as
//! the API spells it: `USER`, `API_KEY`, `SYSTEM`), `target {type, id, name}`
//! or `null` when the event has no target, `outcome` (`SUCCESS`, `FAILURE`),
//! `context {ipAddress, userAgent, requestId}`, `payload` (any JSON or
//! `null`), `occurredAt` and `receivedAt` (RFC 3339 UTC, exactly six
//! fractional digits, `Z`: both backends store microseconds, so a row read
//! back gives the bytes its ingest hashed). `serde_json_canonicalizer` does the
//! canonicalization; nothing here formats JSON by hand.

use chrono::{DateTime, SecondsFormat, Utc};
use entity::audit_events;
use serde::Serialize;

use super::{Hash, leaf_hash};
use crate::domain::{ActorType, Outcome};

/// The leaf object of `row`, before canonicalization. Fails only on a value
/// outside the vocabulary (which the schema's CHECK constraints prevent).
pub fn leaf_object(row: &audit_events::Model) -> Result<serde_json::Value, String> {
    let actor_type = ActorType::from_db(&row.actor_type)
        .map(api_actor_type)
        .ok_or_else(|| format!("stored actor type {:?} is unknown", row.actor_type))?;
    let outcome = Outcome::from_db(&row.outcome)
        .map(api_outcome)
        .ok_or_else(|| format!("stored outcome {:?} is unknown", row.outcome))?;
    let leaf = Leaf {
        id: row.id.to_string(),
        sequence: row.sequence,
        action: &row.action,
        actor: LeafActor {
            kind: actor_type,
            id: &row.actor_id,
            name: row.actor_name.as_deref(),
            email: row.actor_email.as_deref(),
        },
        target: row.target_type.as_deref().map(|kind| LeafTarget {
            kind,
            id: row.target_id.as_deref(),
            name: row.target_name.as_deref(),
        }),
        outcome,
        context: LeafContext {
            ip_address: row.ip_address.as_deref(),
            user_agent: row.user_agent.as_deref(),
            request_id: row.request_id.as_deref(),
        },
        payload: row.payload.as_ref(),
        occurred_at: timestamp(row.occurred_at),
        received_at: timestamp(row.received_at),
    };
    serde_json::to_value(&leaf).map_err(|error| error.to_string())
}

/// The leaf bytes of `row` (JCS of [`leaf_object`]).
pub fn leaf_bytes(row: &audit_events::Model) -> Result<Vec<u8>, String> {
    let object = leaf_object(row)?;
    serde_json_canonicalizer::to_vec(&object).map_err(|error| error.to_string())
}

/// `SHA-256(0x00 ‖ leaf_bytes(row))`.
pub fn event_leaf_hash(row: &audit_events::Model) -> Result<Hash, String> {
    Ok(leaf_hash(&leaf_bytes(row)?))
}

/// The leaves' timestamp format: `2026-12-03T18:54:19.123456Z`.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn api_actor_type(kind: ActorType) -> &'static str {
    match kind {
        ActorType::User => "USER",
        ActorType::ApiKey => "API_KEY",
        ActorType::System => "SYSTEM",
    }
}

fn api_outcome(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Success => "SUCCESS",
        Outcome::Failure => "FAILURE",
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Leaf<'a> {
    id: String,
    sequence: i64,
    action: &'a str,
    actor: LeafActor<'a>,
    target: Option<LeafTarget<'a>>,
    outcome: &'static str,
    context: LeafContext<'a>,
    payload: Option<&'a serde_json::Value>,
    occurred_at: String,
    received_at: String,
}

#[derive(Serialize)]
struct LeafActor<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    name: Option<&'a str>,
    email: Option<&'a str>,
}

#[derive(Serialize)]
struct LeafTarget<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    id: Option<&'a str>,
    name: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LeafContext<'a> {
    ip_address: Option<&'a str>,
    user_agent: Option<&'a str>,
    request_id: Option<&'a str>,
}
