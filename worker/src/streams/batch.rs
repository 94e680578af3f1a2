//! What a delivery carries, per destination kind.
//!
//! - WEBHOOK (`application/json`): `{"type": "audit_events.batch",
//!   "timestamp", "tenant", "stream", "firstSequence", "lastSequence",
//!   "treeHead", "events": [...]}`. `firstSequence..=lastSequence` is the
//!   range of the tenant's log the batch accounts for, events the filter
//!   left out included: one batch's `lastSequence + 1` is the next one's
//!   `firstSequence`, so a receiver sees any gap. Each event is the object
//!   whose RFC 8785 bytes are its Merkle leaf (`entity::domain::merkle::leaf`),
//!   so a receiver can hash it and check it against `treeHead` (the latest
//!   signed head that covers `lastSequence`).
//! - SPLUNK_HEC: one HEC event object per audit event, concatenated
//!   (`{"time", "host", "source": "auditlog", "sourcetype", "index",
//!   "event", "fields": {tenant, action, actor_id, outcome, sequence}}`),
//!   `time` in epoch seconds with milliseconds from `occurredAt`.

use chrono::{DateTime, Utc};
use entity::audit_events;
use entity::domain::merkle::leaf::{leaf_object, timestamp};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::tree_heads::HeadJson;

/// The Splunk sourcetype when the stream names none.
pub const DEFAULT_SOURCETYPE: &str = "auditlog:event";

/// One batch, before it is encoded for a destination.
#[derive(Debug)]
pub struct Batch<'a> {
    pub tenant_id: Uuid,
    pub stream_id: Uuid,
    pub first_sequence: i64,
    pub last_sequence: i64,
    pub events: &'a [audit_events::Model],
    pub tree_head: Option<HeadJson>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WebhookBody<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    timestamp: String,
    tenant: String,
    stream: String,
    first_sequence: i64,
    last_sequence: i64,
    tree_head: Option<&'a HeadJson>,
    events: Vec<Value>,
}

/// The webhook body of `batch`.
pub fn webhook_body(batch: &Batch<'_>, now: DateTime<Utc>) -> Result<Vec<u8>, String> {
    let events = batch
        .events
        .iter()
        .map(leaf_object)
        .collect::<Result<Vec<_>, _>>()?;
    let body = WebhookBody {
        kind: "audit_events.batch",
        timestamp: timestamp(now),
        tenant: batch.tenant_id.to_string(),
        stream: batch.stream_id.to_string(),
        first_sequence: batch.first_sequence,
        last_sequence: batch.last_sequence,
        tree_head: batch.tree_head.as_ref(),
        events,
    };
    serde_json::to_vec(&body).map_err(|error| error.to_string())
}

/// The body of `testLogStream`'s webhook delivery: no events, its own type,
/// so a receiver that checks ranges ignores it.
pub fn webhook_test_body(tenant_id: Uuid, stream_id: Uuid, now: DateTime<Utc>) -> Vec<u8> {
    json!({
        "type": "audit_events.test",
        "timestamp": timestamp(now),
        "tenant": tenant_id.to_string(),
        "stream": stream_id.to_string(),
        "events": [],
    })
    .to_string()
    .into_bytes()
}

/// Where a Splunk event says it came from.
#[derive(Clone, Debug)]
pub struct SplunkFields<'a> {
    pub host: &'a str,
    pub index: Option<&'a str>,
    pub sourcetype: Option<&'a str>,
}

/// The HEC body of `batch`: one event object per audit event, each on its line.
pub fn splunk_body(batch: &Batch<'_>, fields: &SplunkFields<'_>) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    for row in batch.events {
        let event = leaf_object(row)?;
        let mut object = json!({
            "time": epoch_millis(row.occurred_at),
            "host": fields.host,
            "source": "auditlog",
            "sourcetype": fields.sourcetype.unwrap_or(DEFAULT_SOURCETYPE),
            "event": event,
            "fields": {
                "tenant": batch.tenant_id.to_string(),
                "action": row.action,
                "actor_id": row.actor_id,
                "outcome": event["outcome"],
                "sequence": row.sequence.to_string(),
            },
        });
        if let Some(index) = fields.index {
            object["index"] = Value::from(index);
        }
        serde_json::to_writer(&mut body, &object).map_err(|error| error.to_string())?;
        body.push(b'\n');
    }
    Ok(body)
}

/// The HEC body of a test delivery: one event saying so.
pub fn splunk_test_body(tenant_id: Uuid, fields: &SplunkFields<'_>, now: DateTime<Utc>) -> Vec<u8> {
    let mut object = json!({
        "time": epoch_millis(now),
        "host": fields.host,
        "source": "auditlog",
        "sourcetype": fields.sourcetype.unwrap_or(DEFAULT_SOURCETYPE),
        "event": {"type": "audit_events.test", "tenant": tenant_id.to_string()},
        "fields": {"tenant": tenant_id.to_string(), "action": "log_stream.test"},
    });
    if let Some(index) = fields.index {
        object["index"] = Value::from(index);
    }
    let mut body = object.to_string().into_bytes();
    body.push(b'\n');
    body
}

/// Epoch seconds with three decimals (HEC's `time`).
fn epoch_millis(at: DateTime<Utc>) -> Value {
    let millis = at.timestamp_millis();
    // Exact in f64 for any date the schema stores; serde_json prints the
    // shortest form (`1700000000.123`).
    Value::from(millis as f64 / 1000.0)
}

/// This machine's name for HEC's `host` (`/proc/sys/kernel/hostname`,
/// else `HOSTNAME`, else `auditlog`).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "auditlog".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hec_time_is_epoch_seconds_with_milliseconds() {
        let at = DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap();
        assert_eq!(epoch_millis(at).to_string(), "1700000000.123");
    }
}
