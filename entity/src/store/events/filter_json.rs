//! The JSON form of an [`EventFilter`], spelled as GraphQL's
//! `AuditEventFilter` input: the same field names, enum values in upper
//! case, times in RFC 3339, the IP address canonical. Viewer tokens carry it
//! as their `scope` claim, log streams store it (`log_streams.filter`), and
//! whoever reads either reads it as it was written.
//!
//! Parsing is strict: an unknown field or value is no filter at all
//! (`None`), never a silently wider one. `retained_since` is the caller's
//! retention window, set per read, so it is never part of the JSON.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::EventFilter;
use crate::domain::{ActorType, IpAddress, Outcome};

#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WireFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    actions: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    action_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    actor_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    actor_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    occurred_after: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    occurred_before: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ip_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    search: Option<String>,
}

impl EventFilter {
    /// The filter as a JSON object; `None` when it narrows nothing.
    pub fn to_json(&self) -> Option<Value> {
        let upper = |text: &str| text.to_ascii_uppercase();
        let wire = WireFilter {
            actions: self.actions.clone(),
            action_prefix: self.action_prefix.clone(),
            actor_ids: self.actor_ids.clone(),
            actor_type: self.actor_type.map(|t| upper(t.as_db())),
            target_type: self.target_type.clone(),
            target_id: self.target_id.clone(),
            outcome: self.outcome.map(|o| upper(o.as_db())),
            occurred_after: self.occurred_after,
            occurred_before: self.occurred_before,
            ip_address: self.ip_address.as_ref().map(IpAddress::canonical),
            search: self.search.clone(),
        };
        let value = serde_json::to_value(wire).ok()?;
        value
            .as_object()
            .is_some_and(|fields| !fields.is_empty())
            .then_some(value)
    }

    /// The filter `value` spells, or `None` if it is not one [`Self::to_json`]
    /// writes.
    pub fn from_json(value: &Value) -> Option<EventFilter> {
        let wire: WireFilter = serde_json::from_value(value.clone()).ok()?;
        let lower = |text: &str| text.to_ascii_lowercase();
        let actor_type = match wire.actor_type {
            Some(raw) => Some(ActorType::from_db(&lower(&raw))?),
            None => None,
        };
        let outcome = match wire.outcome {
            Some(raw) => Some(Outcome::from_db(&lower(&raw))?),
            None => None,
        };
        let ip_address = match wire.ip_address {
            Some(raw) => Some(IpAddress::parse(&raw).ok()?),
            None => None,
        };
        Some(EventFilter {
            actions: wire.actions,
            action_prefix: wire.action_prefix,
            actor_ids: wire.actor_ids,
            actor_type,
            target_type: wire.target_type,
            target_id: wire.target_id,
            outcome,
            occurred_after: wire.occurred_after,
            occurred_before: wire.occurred_before,
            ip_address,
            search: wire.search,
            retained_since: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_reads_back_as_it_was_written() {
        let filter = EventFilter {
            actions: Some(vec!["doc.update".into()]),
            actor_type: Some(ActorType::ApiKey),
            outcome: Some(Outcome::Failure),
            ip_address: IpAddress::parse("2001:DB8::1").ok(),
            occurred_after: DateTime::from_timestamp(1_700_000_000, 123_000),
            search: Some("Ann".into()),
            ..EventFilter::default()
        };
        let json = filter.to_json().unwrap();
        assert_eq!(json["actorType"], "API_KEY");
        assert_eq!(json["outcome"], "FAILURE");
        assert_eq!(json["ipAddress"], "2001:db8::1");
        let back = EventFilter::from_json(&json).unwrap();
        assert_eq!(back.actions, filter.actions);
        assert_eq!(back.actor_type, filter.actor_type);
        assert_eq!(back.outcome, filter.outcome);
        assert_eq!(back.ip_address, filter.ip_address);
        assert_eq!(back.occurred_after, filter.occurred_after);
        assert_eq!(back.search, filter.search);
        assert!(EventFilter::default().to_json().is_none());
    }

    #[test]
    fn unknown_fields_and_values_are_no_filter() {
        assert!(EventFilter::from_json(&serde_json::json!({"tenant": "x"})).is_none());
        assert!(EventFilter::from_json(&serde_json::json!({"outcome": "MAYBE"})).is_none());
        assert!(EventFilter::from_json(&serde_json::json!("actions")).is_none());
    }
}
