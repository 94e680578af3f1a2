//! A viewer token's `scope` claim: the [`EventFilter`] every read through the
//! token is ANDed with (`EventFilter::and`), in its JSON form
//! (`EventFilter::to_json`: GraphQL's `AuditEventFilter` spelling) so that
//! whoever decodes a token reads it as they wrote it.
//!
//! The scope is validated like a client's filter when the token is minted
//! (`createViewerToken` converts the input first), and parsed strictly here
//! when a token is verified: an unknown field or value makes the token
//! invalid rather than silently wider.
//!
//! `search` has no place in a scope: a substring over names is no
//! authorization boundary (an actor renamed to match would leak in), and two
//! terms cannot be combined into one filter. [`ScopeError::Search`] refuses it.

use serde_json::Value;

use crate::store::events::EventFilter;

/// Why a filter cannot be a scope.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ScopeError {
    #[error(
        "scope.search is not allowed: a scope narrows by structured fields (actions, actors, targets, outcome, time, IP)"
    )]
    Search,
}

/// The claim of a validated filter (`None`: it narrows nothing, so the token
/// reads the whole tenant).
pub(crate) fn to_claim(filter: &EventFilter) -> Result<Option<Value>, ScopeError> {
    if filter.search.is_some() {
        return Err(ScopeError::Search);
    }
    Ok(filter.to_json())
}

/// The filter a verified token's claim says (`None`: the claim is not a scope
/// we mint, and the token is refused).
pub(crate) fn from_claim(claim: &Value) -> Option<EventFilter> {
    EventFilter::from_json(claim).filter(|filter| filter.search.is_none())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{IpAddress, Outcome};

    #[test]
    fn a_scope_is_the_filters_json() {
        // The round trip itself is `EventFilter::to_json`'s (tested there).
        let filter = EventFilter {
            outcome: Some(Outcome::Failure),
            ip_address: IpAddress::parse("2001:DB8::1").ok(),
            ..EventFilter::default()
        };
        let claim = to_claim(&filter).unwrap().unwrap();
        assert_eq!(Some(claim.clone()), filter.to_json());
        assert_eq!(from_claim(&claim).unwrap().ip_address, filter.ip_address);
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
