//! Custom scalars: `DateTime` ([`Timestamp`]), and for 64-bit integers
//! `Sequence` (a position in a tenant's log) and `Count` (a number of events).
//!
//! `DateTime` is ours rather than async-graphql's chrono scalar because that
//! one accepts any value in validation and refuses a bad instant only when a
//! resolver reads it: `occurredAfter: "yesterday"` in `variables` would be a
//! field error with `data`, where the GraphQL spec (variable coercion) and an
//! unknown enum value make it a request error (HTTP 400, no `data`).
//!
//! GraphQL's `Int` is 32-bit and graphql-js based clients and gateways reject
//! larger values, while sequences never restart and counts grow with the log.
//! Both scalars hold a non-negative 64-bit integer (0 ..= 2^63 − 1, what a
//! PostgreSQL/SQLite `BIGINT` holds) and share one encoding:
//!
//! - **Output**: a JSON number while the value is at most 2^53 − 1
//!   (JavaScript's `Number.MAX_SAFE_INTEGER`), so a client reads it with no
//!   custom scalar handling; above that, a JSON string of decimal digits, so no
//!   client silently rounds it. At 100 events a second a tenant needs ~2.8
//!   million years to pass 2^53: the string form is there for correctness, not
//!   expected in practice.
//! - **Input**: a JSON/GraphQL integer, or a string of decimal digits (so a
//!   client can send back exactly what it received). Negative numbers,
//!   fractions, other strings and values above 2^63 − 1 are refused with a
//!   `BAD_USER_INPUT` error. `is_valid` keeps its default (accept), so the
//!   refusal comes from `parse` with a message naming the range, not from
//!   validation's generic "Invalid value for argument".

use async_graphql::{InputValueError, InputValueResult, Number, Scalar, ScalarType, Value};
use chrono::{DateTime, Utc};

/// The largest integer a JavaScript `Number` holds exactly: 2^53 − 1.
pub(crate) const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// An instant, the GraphQL `DateTime`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Timestamp(pub DateTime<Utc>);

impl From<DateTime<Utc>> for Timestamp {
    fn from(instant: DateTime<Utc>) -> Self {
        Self(instant)
    }
}

/// An instant, as an RFC 3339 string with its offset, e.g.
/// `2026-01-31T12:00:00Z` or `2026-01-31T13:00:00+01:00`. Returned in UTC
/// (`Z`), with fractional seconds when not zero. A value that is not such a
/// string is refused before anything runs (`BAD_USER_INPUT`).
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339"
)]
impl ScalarType for Timestamp {
    fn parse(value: Value) -> InputValueResult<Self> {
        <DateTime<Utc> as ScalarType>::parse(value)
            .map(Timestamp)
            .map_err(InputValueError::propagate)
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(text) if text.parse::<DateTime<Utc>>().is_ok())
    }

    fn to_value(&self) -> Value {
        self.0.to_value()
    }
}

/// A position in a tenant's audit log (1, 2, 3, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Sequence(pub i64);

/// A number of events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Count(pub i64);

/// A position in a tenant's audit log: a non-negative 64-bit integer, 1, 2, 3,
/// ... without gaps. Serialized as a JSON number while it is at most
/// 2^53 − 1 (JavaScript's `Number.MAX_SAFE_INTEGER`), above that as a JSON
/// string of decimal digits (sequences will not reach 2^53 in practice).
/// Accepted as an integer or a string of decimal digits, 0 to 2^63 − 1.
#[Scalar(name = "Sequence")]
impl ScalarType for Sequence {
    fn parse(value: Value) -> InputValueResult<Self> {
        parse_u63(value)
            .map(Sequence)
            .map_err(InputValueError::custom)
    }

    fn to_value(&self) -> Value {
        encode(self.0)
    }
}

/// A number of events: a non-negative 64-bit integer. Serialized as a JSON
/// number while it is at most 2^53 − 1 (JavaScript's
/// `Number.MAX_SAFE_INTEGER`), above that as a JSON string of decimal digits
/// (counts will not reach 2^53 in practice). Accepted as an integer or a
/// string of decimal digits, 0 to 2^63 − 1.
#[Scalar(name = "Count")]
impl ScalarType for Count {
    fn parse(value: Value) -> InputValueResult<Self> {
        parse_u63(value).map(Count).map_err(refused)
    }

    fn to_value(&self) -> Value {
        encode(self.0)
    }
}

/// The refusal: "Failed to parse "Sequence": ...", which `super::error_codes`
/// codes `BAD_USER_INPUT` (async-graphql drops extensions set here).
fn refused<T: async_graphql::InputType>(message: String) -> InputValueError<T> {
    InputValueError::custom(message)
}

const RANGE: &str = "an integer from 0 to 9223372036854775807 (2^63 − 1), \
                     as a number or a string of decimal digits";

fn parse_u63(value: Value) -> Result<i64, String> {
    match value {
        Value::Number(number) => {
            if let Some(n) = number.as_i64() {
                if n < 0 {
                    Err(format!("{n} is negative: expected {RANGE}"))
                } else {
                    Ok(n)
                }
            } else if number.as_u64().is_some() {
                Err(format!("{number} is too large: expected {RANGE}"))
            } else {
                Err(format!("{number} is not an integer: expected {RANGE}"))
            }
        }
        Value::String(text) => {
            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "{text:?} is not a string of decimal digits: expected {RANGE}"
                ));
            }
            text.parse::<i64>()
                .map_err(|_| format!("{text:?} is too large: expected {RANGE}"))
        }
        other => Err(format!("{other} is not an integer: expected {RANGE}")),
    }
}

fn encode(n: i64) -> Value {
    if (0..=MAX_SAFE_INTEGER).contains(&n) {
        Value::Number(Number::from(n))
    } else {
        Value::String(n.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: Value) -> Result<i64, String> {
        <Sequence as ScalarType>::parse(value)
            .map(|s| s.0)
            .map_err(|e| e.into_server_error(Default::default()).message)
    }

    fn json(n: i64) -> serde_json::Value {
        Sequence(n).to_value().into_json().unwrap()
    }

    #[test]
    fn serializes_safe_integers_as_numbers_and_larger_as_strings() {
        assert_eq!(json(0), serde_json::json!(0));
        assert_eq!(json(1 << 32), serde_json::json!(4_294_967_296_i64));
        assert_eq!(
            json(MAX_SAFE_INTEGER),
            serde_json::json!(9_007_199_254_740_991_i64)
        );
        assert_eq!(
            json(MAX_SAFE_INTEGER + 1),
            serde_json::json!("9007199254740992")
        );
        assert_eq!(json(i64::MAX), serde_json::json!("9223372036854775807"));
        assert_eq!(
            Count(MAX_SAFE_INTEGER + 1).to_value(),
            Value::from("9007199254740992")
        );
        assert_eq!(Count(7).to_value(), Value::from(7));
    }

    #[test]
    fn parses_integers_and_digit_strings() {
        assert_eq!(parse(Value::from(0)), Ok(0));
        assert_eq!(parse(Value::from(1_i64 << 32)), Ok(1 << 32));
        assert_eq!(parse(Value::from(MAX_SAFE_INTEGER)), Ok(MAX_SAFE_INTEGER));
        assert_eq!(
            parse(Value::from(MAX_SAFE_INTEGER + 1)),
            Ok(MAX_SAFE_INTEGER + 1)
        );
        assert_eq!(
            parse(Value::from("9007199254740992")),
            Ok(MAX_SAFE_INTEGER + 1)
        );
        assert_eq!(parse(Value::from("42")), Ok(42));
        assert_eq!(parse(Value::from("9223372036854775807")), Ok(i64::MAX));
        // What the server writes is what it reads back.
        for n in [0, 5, MAX_SAFE_INTEGER, MAX_SAFE_INTEGER + 1, i64::MAX] {
            assert_eq!(parse(Sequence(n).to_value()), Ok(n));
        }
    }

    #[test]
    fn refuses_negatives_fractions_out_of_range_and_other_strings() {
        let negative = parse(Value::from(-1)).unwrap_err();
        assert!(negative.contains("-1 is negative"), "{negative}");
        let fraction = parse(Value::from(1.5)).unwrap_err();
        assert!(fraction.contains("not an integer"), "{fraction}");
        let huge = parse(Value::from(u64::MAX)).unwrap_err();
        assert!(huge.contains("too large"), "{huge}");
        let huge_text = parse(Value::from("9223372036854775808")).unwrap_err();
        assert!(huge_text.contains("too large"), "{huge_text}");
        for text in ["", "-1", "+1", "1.0", "1e3", " 1", "0x10", "abc"] {
            let error = parse(Value::from(text)).unwrap_err();
            assert!(
                error.contains("not a string of decimal digits"),
                "{text:?}: {error}"
            );
        }
        assert!(parse(Value::Boolean(true)).is_err());
        assert!(parse(Value::Null).is_err());
        assert!(<Count as ScalarType>::parse(Value::from(-3)).is_err());
        assert_eq!(
            <Count as ScalarType>::parse(Value::from("3")).ok(),
            Some(Count(3))
        );
    }
}
