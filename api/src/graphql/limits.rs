//! A bound on the number of field selections per request.
//!
//! async-graphql limits depth and complexity, but its complexity counter skips
//! `__typename`, and aliases make one cheap field cost many times. This extension
//! counts every selection (aliases and `__typename` included) with fragment spreads
//! expanded, and refuses the document once the count passes the limit, before
//! validation or execution start. Counting stops at the limit, so a document built
//! to expand exponentially costs no more than the limit to reject.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensionValues, ServerError, ServerResult, Variables};

use crate::error::code;

/// Deepest fragment nesting followed; cycles are refused by validation later.
const MAX_NESTING: usize = 64;

pub struct SelectionLimit {
    pub max_selections: usize,
}

impl ExtensionFactory for SelectionLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(SelectionLimitExtension {
            max: self.max_selections,
        })
    }
}

struct SelectionLimitExtension {
    max: usize,
}

#[async_trait::async_trait]
impl Extension for SelectionLimitExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let mut counter = Counter {
            document: &document,
            count: 0,
            max: self.max,
        };
        let within = document
            .operations
            .iter()
            .all(|(_, op)| counter.walk(&op.node.selection_set.node, 0));
        if within {
            return Ok(document);
        }
        let mut error = ServerError::new(
            format!(
                "the request selects more than {} fields (aliases and __typename included)",
                self.max
            ),
            None,
        );
        let mut extensions = ErrorExtensionValues::default();
        extensions.set("code", code::GRAPHQL_VALIDATION_FAILED);
        error.extensions = Some(extensions);
        Err(error)
    }
}

struct Counter<'a> {
    document: &'a ExecutableDocument,
    count: usize,
    max: usize,
}

impl Counter<'_> {
    /// Adds the selections of `set`; false as soon as the limit is passed.
    fn walk(&mut self, set: &SelectionSet, nesting: usize) -> bool {
        if nesting > MAX_NESTING {
            return false;
        }
        for selection in &set.items {
            let within = match &selection.node {
                Selection::Field(field) => {
                    self.count += 1;
                    self.count <= self.max && self.walk(&field.node.selection_set.node, nesting + 1)
                }
                Selection::InlineFragment(fragment) => {
                    self.walk(&fragment.node.selection_set.node, nesting + 1)
                }
                Selection::FragmentSpread(spread) => {
                    match self.document.fragments.get(&spread.node.fragment_name.node) {
                        Some(fragment) => self.walk(&fragment.node.selection_set.node, nesting + 1),
                        // Unknown fragments are reported by validation.
                        None => true,
                    }
                }
            };
            if !within {
                return false;
            }
        }
        true
    }
}
