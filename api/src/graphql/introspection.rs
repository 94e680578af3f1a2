//! Refuses introspection queries with a clear code when introspection is off.
//!
//! With introspection disabled, async-graphql drops `__schema` and `__type` from
//! the schema but still answers them with `null` and no error, which tells
//! neither a client nor an operator what happened. This extension, installed
//! only when introspection is off (production mode's default), refuses a
//! document whose operations select `__schema` or `__type` at the root (directly,
//! in inline fragments or through fragment spreads) with `INTROSPECTION_DISABLED`,
//! before validation or execution. `__typename` stays allowed: it is not
//! introspection of the schema, and clients rely on it.

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Pos, ServerResult, Variables};

use super::error_codes::coded_error;
use crate::error::code;

/// The root fields that introspect the schema.
const INTROSPECTION_FIELDS: [&str; 2] = ["__schema", "__type"];

pub struct IntrospectionGate;

impl ExtensionFactory for IntrospectionGate {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(IntrospectionGate)
    }
}

#[async_trait::async_trait]
impl Extension for IntrospectionGate {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let mut visited = HashSet::new();
        let found = document.operations.iter().find_map(|(_, operation)| {
            introspection_field(&document, &operation.node.selection_set.node, &mut visited)
        });
        let Some(position) = found else {
            return Ok(document);
        };
        Err(coded_error(
            "introspection is disabled on this server",
            Some(position),
            code::INTROSPECTION_DISABLED,
        ))
    }
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
