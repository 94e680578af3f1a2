//! Bounds on the shape of one document: field selections, aliases and depth.
//!
//! async-graphql limits complexity, but its complexity counter skips
//! `__typename`, aliases make one cheap field cost many times, and a plain depth
//! limit cannot tell the standard introspection query (about 15 levels, most of
//! them `ofType`) from a hostile one. This extension walks the document once,
//! fragment spreads expanded, before validation or execution, and refuses it when
//! - it selects more than `max_selections` fields (aliases and `__typename` included);
//! - it has more than `max_aliases` aliased fields (`__typename` included);
//! - a field outside introspection is nested deeper than `max_depth`;
//! - inside `__schema`/`__type`, the list fields `fields`, `interfaces`,
//!   `possibleTypes` and `inputFields` nest [`MAX_INTROSPECTION_LISTS`] deep
//!   (graphql-js's `MaxIntrospectionDepthRule`: the standard introspection query
//!   nests them once; `fields { type { fields { type { fields ...` is the
//!   circular-introspection attack), or a field there is nested deeper than
//!   `max_depth` or [`INTROSPECTION_DEPTH`], whichever is larger.
//!
//! The walk stops at the first bound passed, so a document built to expand
//! exponentially costs no more than `max_selections` steps to reject.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Field, Selection, SelectionSet};
use async_graphql::{ServerResult, Variables};

use super::error_codes::coded_error;
use crate::error::code;

/// Deepest fragment nesting followed; cycles are refused by validation later.
const MAX_NESTING: usize = 64;

/// Depth allowed inside introspection: the standard introspection queries of
/// graphql-js and graphql-core (GraphiQL, schemathesis, code generators) reach 15.
pub const INTROSPECTION_DEPTH: usize = 20;

/// Nesting of introspection's list fields at which a document is refused.
pub const MAX_INTROSPECTION_LISTS: usize = 3;

/// Introspection fields that list types' members; nesting them is what makes
/// introspection queries circular.
const INTROSPECTION_LISTS: [&str; 4] = ["fields", "interfaces", "possibleTypes", "inputFields"];

pub struct SelectionLimit {
    pub max_selections: usize,
    pub max_aliases: usize,
    pub max_depth: usize,
}

impl ExtensionFactory for SelectionLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(SelectionLimitExtension {
            max_selections: self.max_selections,
            max_aliases: self.max_aliases,
            max_depth: self.max_depth,
        })
    }
}

struct SelectionLimitExtension {
    max_selections: usize,
    max_aliases: usize,
    max_depth: usize,
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
            selections: 0,
            aliases: 0,
            limits: self,
        };
        let walked = document.operations.iter().try_for_each(|(_, operation)| {
            counter.walk(&operation.node.selection_set.node, Level::ROOT)
        });
        let Err(exceeded) = walked else {
            return Ok(document);
        };
        Err(coded_error(
            self.message(exceeded),
            None,
            code::GRAPHQL_VALIDATION_FAILED,
        ))
    }
}

impl SelectionLimitExtension {
    fn message(&self, exceeded: Exceeded) -> String {
        match exceeded {
            Exceeded::Selections => format!(
                "the request selects more than {} fields (aliases and __typename included)",
                self.max_selections
            ),
            Exceeded::Aliases => format!(
                "the request uses more than {} aliases (fragments expanded)",
                self.max_aliases
            ),
            Exceeded::Depth => format!(
                "the request is nested deeper than {} levels",
                self.max_depth
            ),
            Exceeded::IntrospectionDepth => format!(
                "the introspection query is nested too deep (`fields`, `interfaces`, \
                 `possibleTypes` and `inputFields` may nest {} deep, other fields {} levels)",
                MAX_INTROSPECTION_LISTS - 1,
                self.introspection_depth()
            ),
            Exceeded::Fragments => "fragments are nested too deep".to_owned(),
        }
    }

    fn introspection_depth(&self) -> usize {
        self.max_depth.max(INTROSPECTION_DEPTH)
    }
}

/// The bound a document passed.
#[derive(Clone, Copy, Debug)]
enum Exceeded {
    Selections,
    Aliases,
    Depth,
    IntrospectionDepth,
    Fragments,
}

/// Where the walk is: field depth (root fields are 1), fragment nesting, and,
/// inside introspection, how many list fields enclose it.
#[derive(Clone, Copy)]
struct Level {
    depth: usize,
    fragments: usize,
    introspection_lists: Option<usize>,
}

impl Level {
    const ROOT: Self = Self {
        depth: 1,
        fragments: 0,
        introspection_lists: None,
    };
}

struct Counter<'a> {
    document: &'a ExecutableDocument,
    selections: usize,
    aliases: usize,
    limits: &'a SelectionLimitExtension,
}

impl Counter<'_> {
    /// Counts the selections of `set` at `level`; stops at the first bound passed.
    fn walk(&mut self, set: &SelectionSet, level: Level) -> Result<(), Exceeded> {
        if level.fragments > MAX_NESTING {
            return Err(Exceeded::Fragments);
        }
        let in_fragment = Level {
            fragments: level.fragments + 1,
            ..level
        };
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => self.field(&field.node, level)?,
                Selection::InlineFragment(fragment) => {
                    self.walk(&fragment.node.selection_set.node, in_fragment)?;
                }
                Selection::FragmentSpread(spread) => {
                    // Unknown fragments are reported by validation.
                    if let Some(fragment) =
                        self.document.fragments.get(&spread.node.fragment_name.node)
                    {
                        self.walk(&fragment.node.selection_set.node, in_fragment)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn field(&mut self, field: &Field, level: Level) -> Result<(), Exceeded> {
        self.selections += 1;
        if self.selections > self.limits.max_selections {
            return Err(Exceeded::Selections);
        }
        if field.alias.is_some() {
            self.aliases += 1;
            if self.aliases > self.limits.max_aliases {
                return Err(Exceeded::Aliases);
            }
        }
        let name = field.name.node.as_str();
        let introspection_lists = match level.introspection_lists {
            None if matches!(name, "__schema" | "__type") => Some(0),
            Some(lists) if INTROSPECTION_LISTS.contains(&name) => Some(lists + 1),
            other => other,
        };
        match introspection_lists {
            None if level.depth > self.limits.max_depth => return Err(Exceeded::Depth),
            Some(lists)
                if lists >= MAX_INTROSPECTION_LISTS
                    || level.depth > self.limits.introspection_depth() =>
            {
                return Err(Exceeded::IntrospectionDepth);
            }
            _ => {}
        }
        self.walk(
            &field.selection_set.node,
            Level {
                depth: level.depth + 1,
                introspection_lists,
                ..level
            },
        )
    }
}
