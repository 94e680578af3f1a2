//! Every case of the contract's "Bad input" list: each returns a typed error code and
//! writes nothing (the tenant's event count, or key list, is compared before and after).

mod batches;
mod reads;
mod timestamps;
mod transport;
mod values;

/// Codes accepted where a value fails GraphQL's own input coercion (an unknown enum
/// value, a malformed `DateTime` scalar): the server may report it while validating
/// the document or while coercing variables, and either is a typed input error.
pub(crate) const COERCION_CODES: &[&str] = &["BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"];
