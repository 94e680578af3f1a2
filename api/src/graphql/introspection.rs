//! Refuses introspection queries with a clear code when introspection is off.
//!
//! With introspection disabled, async-graphql drops `__schema` and `__type` from
//! the schema but still answers them with `null` and no error, which tells
//! neither a client nor an operator what happened. [`refusal`], called by
//! `guard` only when introspection is off (production mode's default), refuses a
//! document whose operations select `__schema` or `__type` at the root (directly,
//! in inline fragments or through fragment spreads) with `INTROSPECTION_DISABLED`,
//! before validation or execution. `__typename` stays allowed: it is not
//! introspection of the schema, and clients rely on it.

use std::collections::HashSet;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Pos, ServerError};

use super::error_codes::coded_error;
use crate::error::code;

/// The root fields that introspect the schema.
const INTROSPECTION_FIELDS: [&str; 2] = ["__schema", "__type"];

/// `INTROSPECTION_DISABLED` if an operation of `document` introspects the schema.
pub(super) fn refusal(document: &ExecutableDocument) -> Option<ServerError> {
    let mut visited = HashSet::new();
    let position = document.operations.iter().find_map(|(_, operation)| {
        introspection_field(document, &operation.node.selection_set.node, &mut visited)
    })?;
    Some(coded_error(
        "introspection is disabled on this server",
        Some(position),
        code::INTROSPECTION_DISABLED,
    ))
}

/// The position of the first `__schema`/`__type` selected at this (root) level.
/// Each fragment is looked into once, so fragment cycles end (validation
/// reports them later).
fn introspection_field<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    visited: &mut HashSet<&'a Name>,
) -> Option<Pos> {
    set.items
        .iter()
        .find_map(|selection| match &selection.node {
            Selection::Field(field) => INTROSPECTION_FIELDS
                .contains(&field.node.name.node.as_str())
                .then_some(field.pos),
            Selection::InlineFragment(fragment) => {
                introspection_field(document, &fragment.node.selection_set.node, visited)
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                if !visited.insert(name) {
                    return None;
                }
                let fragment = document.fragments.get(name)?;
                introspection_field(document, &fragment.node.selection_set.node, visited)
            }
        })
}
