//! An exported `AuditEvent` (one NDJSON line, as the API returns it) back to
//! its leaf bytes, as `docs/verifying.md` defines the leaf: the API's field
//! names mapped to the leaf's (`actor.actorId` → `actor.id`, `target.targetId`
//! → `target.id`), absent values as `null`, timestamps re-formatted to six
//! fractional digits. The bytes are JCS (`serde_json_canonicalizer`).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

/// The leaf bytes of `event`, or what is missing or malformed in it.
pub(super) fn leaf_bytes(event: &Value) -> Result<Vec<u8>, String> {
    let text = |value: &Value, name: &str| -> Result<Value, String> {
        match value.get(name) {
            None | Some(Value::Null) => Ok(Value::Null),
            Some(Value::String(s)) => Ok(Value::String(s.clone())),
            Some(_) => Err(format!("{name} is not a string")),
        }
    };
    let required = |value: &Value, name: &str| -> Result<Value, String> {
        match text(value, name)? {
            Value::Null => Err(format!("{name} is missing")),
            present => Ok(present),
        }
    };
    let actor = event.get("actor").ok_or("actor is missing")?;
    let actor_id = match text(actor, "actorId")? {
        Value::Null => required(actor, "id")?,
        id => id,
    };
    let target = match event.get("target") {
        None | Some(Value::Null) => Value::Null,
        Some(target) => json!({
            "type": required(target, "type")?,
            "id": match text(target, "targetId")? { Value::Null => text(target, "id")?, id => id },
            "name": text(target, "name")?,
        }),
    };
    let null = Value::Null;
    let context = event.get("context").unwrap_or(&null);
    let leaf = json!({
        "id": required(event, "id")?,
        "sequence": sequence(event)?,
        "action": required(event, "action")?,
        "actor": {
            "type": required(actor, "type")?,
            "id": actor_id,
            "name": text(actor, "name")?,
            "email": text(actor, "email")?,
        },
        "target": target,
        "outcome": required(event, "outcome")?,
        "context": {
            "ipAddress": text(context, "ipAddress")?,
            "userAgent": text(context, "userAgent")?,
            "requestId": text(context, "requestId")?,
        },
        "payload": event.get("payload").cloned().unwrap_or(Value::Null),
        "occurredAt": timestamp(event, "occurredAt")?,
        "receivedAt": timestamp(event, "receivedAt")?,
    });
    serde_json_canonicalizer::to_vec(&leaf).map_err(|error| error.to_string())
}

/// The event's `sequence` (a number, or a string of digits above 2^53).
pub(super) fn sequence(event: &Value) -> Result<u64, String> {
    match event.get("sequence") {
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| "sequence is not a positive integer".to_owned()),
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| "sequence is not a positive integer".to_owned()),
        _ => Err("sequence is missing".to_owned()),
    }
}

fn timestamp(event: &Value, name: &str) -> Result<String, String> {
    let text = event
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{name} is missing"))?;
    let at: DateTime<Utc> = DateTime::parse_from_rfc3339(text)
        .map_err(|_| format!("{name} is not RFC 3339"))?
        .to_utc();
    Ok(at.to_rfc3339_opts(SecondsFormat::Micros, true))
}
