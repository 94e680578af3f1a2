//! A viewer token's `scope` claim: the [`EventFilter`] every read through the
//! token is ANDed with (`EventFilter::and`), spelled as GraphQL's
//! `AuditEventFilter` input (the same field names, enum values in upper case,
//! times in RFC 3339) so that whoever decodes a token reads it as they wrote it.
//!
//! The scope is validated like a client's filter when the token is minted
//! (`createViewerToken` converts the input first), and parsed strictly here
//! when a token is verified: an unknown field or value makes the token
//! invalid rather than silently wider.
//!
//! `search` has no place in a scope: a substring over names is no
//! authorization boundary (an actor renamed to match would leak in), and two
//! terms cannot be combined into one filter. [`ScopeError::Search`] refuses it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::{ActorType, IpAddress, Outcome};
use crate::store::events::EventFilter;

/// Why a filter cannot be a scope.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ScopeError {
    #[error(
        "scope.search is not allowed: a scope narrows by structured fields (actions, actors, targets, outcome, time, IP)"
    )]
    Search,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WireScope {
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
}

/// The claim of a validated filter (`None`: it narrows nothing, so the token
/// reads the whole tenant).
pub(crate) fn to_claim(filter: &EventFilter) -> Result<Option<Value>, ScopeError> {
    if filter.search.is_some() {
        return Err(ScopeError::Search);
    }
    let upper = |text: &str| text.to_ascii_uppercase();
    let wire = WireScope {
        actions: filter.actions.clone(),
        action_prefix: filter.action_prefix.clone(),
        actor_ids: filter.actor_ids.clone(),
        actor_type: filter.actor_type.map(|t| upper(t.as_db())),
        target_type: filter.target_type.clone(),
        target_id: filter.target_id.clone(),
        outcome: filter.outcome.map(|o| upper(o.as_db())),
        occurred_after: filter.occurred_after,
        occurred_before: filter.occurred_before,
        ip_address: filter.ip_address.as_ref().map(IpAddress::canonical),
    };
    let value = serde_json::to_value(wire).unwrap_or(Value::Null);
    Ok(value
        .as_object()
        .is_some_and(|fields| !fields.is_empty())
        .then_some(value))
}

/// The filter a verified token's claim says (`None`: the claim is not a scope
/// we mint, and the token is refused).
pub(crate) fn from_claim(claim: &Value) -> Option<EventFilter> {
    let wire: WireScope = serde_json::from_value(claim.clone()).ok()?;
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
        search: None,
        retained_since: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_reads_back_as_it_was_written() {
        let filter = EventFilter {
            actions: Some(vec!["doc.update".into()]),
            actor_type: Some(ActorType::ApiKey),
            outcome: Some(Outcome::Failure),
            ip_address: IpAddress::parse("2001:DB8::1").ok(),
            occurred_after: DateTime::from_timestamp(1_700_000_000, 123_000),
            ..EventFilter::default()
        };
        let claim = to_claim(&filter).unwrap().unwrap();
        assert_eq!(claim["actorType"], "API_KEY");
        assert_eq!(claim["outcome"], "FAILURE");
        assert_eq!(claim["ipAddress"], "2001:db8::1");
        let back = from_claim(&claim).unwrap();
        assert_eq!(back.actions, filter.actions);
        assert_eq!(back.actor_type, filter.actor_type);
        assert_eq!(back.outcome, filter.outcome);
        assert_eq!(back.ip_address, filter.ip_address);
        assert_eq!(back.occurred_after, filter.occurred_after);
    }

    #[test]
    fn an_empty_filter_is_no_scope_and_search_is_refused() {
        assert_eq!(to_claim(&EventFilter::default()), Ok(None));
        let search = EventFilter {
            search: Some("x".into()),
            ..EventFilter::default()
        };
        assert_eq!(to_claim(&search), Err(ScopeError::Search));
    }

    #[test]
    fn unknown_fields_and_values_are_not_a_scope() {
        assert!(from_claim(&serde_json::json!({"search": "x"})).is_none());
        assert!(from_claim(&serde_json::json!({"outcome": "MAYBE"})).is_none());
        assert!(from_claim(&serde_json::json!("actions")).is_none());
    }
}
