//! The export's query parameters: `filter` (an `AuditEventFilter` as JSON,
//! read by the GraphQL input type itself, so both mean the same),
//! `afterSequence` (exclusive) and `untilSequence` (inclusive), each written as
//! a GraphQL `Sequence`, and `proofs` (`true` or `false`: each event's
//! inclusion proof against the manifest's tree head). Anything else, an unknown parameter included, is a
//! 400 `BAD_USER_INPUT`: a misspelt `afterSequence` must not silently export
//! the whole log.

use async_graphql::{InputType, Pos, ScalarType};
use serde_json::Value;

use crate::graphql::inputs::AuditEventFilter;
use crate::graphql::scalars::Sequence;
use crate::http::error::HttpError;
use crate::store::events::EventFilter;

/// What an export request asks for.
#[derive(Debug)]
pub(super) struct ExportParams {
    pub filter: EventFilter,
    /// `filter` as the client sent it (`null` if none), for the manifest and the record.
    pub filter_json: Value,
    /// Exclusive; 0 by default (the whole log).
    pub after: i64,
    /// Inclusive; `None`: the tenant's last sequence when the export starts.
    pub until: Option<i64>,
    /// Each event with its inclusion proof (NDJSON only).
    pub proofs: bool,
}

impl ExportParams {
    pub(super) fn parse(query: &str) -> Result<Self, HttpError> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            filter: Option<String>,
            #[serde(rename = "afterSequence")]
            after_sequence: Option<String>,
            #[serde(rename = "untilSequence")]
            until_sequence: Option<String>,
            proofs: Option<String>,
        }
        let raw: Raw = serde_urlencoded::from_str(query).map_err(|error| {
            bad(format!(
                "the query string: {error} (the parameters are `filter`, \
                 `afterSequence`, `untilSequence` and `proofs`)"
            ))
        })?;
        let (filter, filter_json) = match raw.filter.filter(|text| !text.is_empty()) {
            Some(text) => parse_filter(&text)?,
            None => (EventFilter::default(), Value::Null),
        };
        Ok(Self {
            filter,
            filter_json,
            after: raw
                .after_sequence
                .map(|text| parse_sequence("afterSequence", text))
                .transpose()?
                .unwrap_or(0),
            until: raw
                .until_sequence
                .map(|text| parse_sequence("untilSequence", text))
                .transpose()?,
            proofs: match raw.proofs.as_deref() {
                None | Some("false") => false,
                Some("true") => true,
                Some(_) => return Err(bad("proofs: `true` or `false`".to_owned())),
            },
        })
    }
}

fn bad(message: String) -> HttpError {
    HttpError::BadUserInput(message)
}

/// A sequence as the GraphQL `Sequence` scalar reads one (decimal digits,
/// 0 to 2^63 − 1), with its message.
fn parse_sequence(name: &str, text: String) -> Result<i64, HttpError> {
    <Sequence as ScalarType>::parse(async_graphql::Value::String(text))
        .map(|sequence| sequence.0)
        .map_err(|error| {
            let message = error.into_server_error(Pos::default()).message;
            bad(format!("{name}: {message}"))
        })
}

/// The filter through GraphQL's own `AuditEventFilter` input type and its
/// conversion (the same checks and messages as `auditEvents(filter:)`).
fn parse_filter(text: &str) -> Result<(EventFilter, Value), HttpError> {
    let json: Value =
        serde_json::from_str(text).map_err(|error| bad(format!("filter is not JSON: {error}")))?;
    let Some(fields) = json.as_object() else {
        return Err(bad(
            "filter must be a JSON object (an AuditEventFilter)".into()
        ));
    };
    let value = async_graphql::Value::from_json(json.clone())
        .map_err(|error| bad(format!("filter is not a GraphQL value: {error}")))?;
    let input = <AuditEventFilter as InputType>::parse(Some(value)).map_err(|error| {
        let message = error.into_server_error(Pos::default()).message;
        bad(format!("filter: {message}"))
    })?;
    // The input type ignores fields it does not have; its own value names
    // every field it has, so what is not there is unknown (GraphQL's
    // validation would refuse it too).
    if let async_graphql::Value::Object(known) = input.to_value()
        && let Some(unknown) = fields.keys().find(|key| !known.contains_key(key.as_str()))
    {
        return Err(bad(format!("filter has no field {unknown:?}")));
    }
    Ok((input.into_domain()?, json))
}

#[cfg(test)]
mod tests {
    use super::ExportParams;

    #[test]
    fn reads_the_parameters() {
        let params = ExportParams::parse(
            "afterSequence=5&untilSequence=9&filter=%7B%22actions%22%3A%5B%22a.b%22%5D%7D",
        )
        .unwrap();
        assert_eq!((params.after, params.until), (5, Some(9)));
        assert_eq!(params.filter.actions, Some(vec!["a.b".to_owned()]));
        let empty = ExportParams::parse("").unwrap();
        assert_eq!((empty.after, empty.until), (0, None));
    }

    #[test]
    fn refuses_what_it_does_not_know() {
        for query in [
            "aftersequence=5",
            "afterSequence=-1",
            "untilSequence=x",
            "filter=%7B",
            "filter=%5B%5D",
            "filter=%7B%22action%22%3A%22a%22%7D",
            "filter=%7B%22outcome%22%3A%22MAYBE%22%7D",
        ] {
            assert!(ExportParams::parse(query).is_err(), "{query}");
        }
    }
}
