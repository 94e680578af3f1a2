//! Bounds on the shape of one parsed document: selections, aliases, depth,
//! fragments and directives.
//!
//! async-graphql limits complexity, but its complexity counter skips
//! `__typename`, aliases make one cheap field cost many times, and a plain depth
//! limit cannot tell the standard introspection query (about 15 levels, most of
//! them `ofType`) from a hostile one. [`check`] walks the document once,
//! fragment spreads expanded, before async-graphql's own checks and validation
//! (several of which expand spreads too, without memo: a fan-out of 28
//! fragments spreading the next twice cost them 2^28 steps), and refuses it when
//! - it makes more than `max_selections` selections: fields (aliases and
//!   `__typename` included), fragment spreads and inline fragments, each time a
//!   spread expands them;
//! - it spreads a fragment it does not define, or defines one no operation uses
//!   (validation refuses both; refusing them here means validation only ever
//!   sees fragments this walk has counted);
//! - it has more than `max_aliases` aliased fields (`__typename` included);
//! - a field outside introspection is nested deeper than `max_depth`;
//! - inside `__schema`/`__type`, the list fields `fields`, `interfaces`,
//!   `possibleTypes` and `inputFields` nest [`MAX_INTROSPECTION_LISTS`] deep
//!   (graphql-js's `MaxIntrospectionDepthRule`: the standard introspection query
//!   nests them once; `fields { type { fields { type { fields ...` is the
//!   circular-introspection attack), or a field there is nested deeper than
//!   `max_depth` or [`INTROSPECTION_DEPTH`], whichever is larger;
//! - one place (operation, variable definition, field, fragment spread, inline
//!   fragment, fragment definition) has more than `max_directives` directives,
//!   or the document more than `max_document_directives` (each one written
//!   costs an error or more in the response);
//! - a field or directive has more than [`MAX_ARGUMENTS`] arguments (validation
//!   compares the arguments of same-named fields pairwise).
//!
//! The walk stops at the first bound passed, so a document built to expand
//! exponentially costs no more than `max_selections` steps to reject, and one
//! that passes costs every later expanding pass no more either.

use std::collections::HashSet;

use async_graphql::parser::types::{ExecutableDocument, Field, Selection, SelectionSet};
use async_graphql::{Name, ServerError};

mod places;

pub(super) use places::MAX_ARGUMENTS;

use super::error_codes::coded_error;
use crate::error::code;

/// Deepest fragment nesting followed; cycles are refused by validation later.
const MAX_NESTING: usize = 64;

/// Depth allowed inside introspection: the standard introspection queries of
/// graphql-js and graphql-core (GraphiQL, schemathesis, code generators) reach 15.
pub(super) const INTROSPECTION_DEPTH: usize = 20;

/// Nesting of introspection's list fields at which a document is refused.
pub(super) const MAX_INTROSPECTION_LISTS: usize = 3;

/// Introspection fields that list types' members; nesting them is what makes
/// introspection queries circular.
const INTROSPECTION_LISTS: [&str; 4] = ["fields", "interfaces", "possibleTypes", "inputFields"];

/// The configured bounds (`AUDITLOG_MAX_*`).
#[derive(Clone, Copy, Debug)]
pub(super) struct SelectionLimit {
    pub max_selections: usize,
    pub max_aliases: usize,
    pub max_depth: usize,
    pub max_directives: usize,
    pub max_document_directives: usize,
}

/// Refuses `document` with `GRAPHQL_VALIDATION_FAILED` if it passes a bound.
pub(super) fn check(
    document: &ExecutableDocument,
    limits: &SelectionLimit,
) -> Result<(), ServerError> {
    walk_document(document, limits).map_err(|exceeded| {
        coded_error(
            limits.message(exceeded),
            None,
            code::GRAPHQL_VALIDATION_FAILED,
        )
    })
}

/// Directives and arguments as written first (cheap, no expansion), then the
/// expanded walk of every operation, then the fragments it never reached.
fn walk_document(document: &ExecutableDocument, limits: &SelectionLimit) -> Result<(), Exceeded> {
    places::check(document, limits)?;
    let mut counter = Counter {
        document,
        selections: 0,
        aliases: 0,
        reached: HashSet::new(),
        limits,
    };
    for (_, operation) in document.operations.iter() {
        counter.walk(&operation.node.selection_set.node, Level::ROOT)?;
    }
    counter.all_fragments_reached()
}

impl SelectionLimit {
    fn message(&self, exceeded: Exceeded) -> String {
        match exceeded {
            Exceeded::Selections => format!(
                "the request makes more than {} selections (fields, aliases, __typename, \
                 fragment spreads and inline fragments, fragments expanded)",
                self.max_selections
            ),
            Exceeded::UnknownFragment(name) => format!("unknown fragment \"{name}\""),
            Exceeded::UnusedFragment(name) => format!("fragment \"{name}\" is never used"),
            Exceeded::Directives => format!(
                "the request has more than {} directives in one place",
                self.max_directives
            ),
            Exceeded::Arguments => format!(
                "a field or directive of the request has more than {MAX_ARGUMENTS} arguments"
            ),
            Exceeded::DocumentDirectives => format!(
                "the request has more than {} directives",
                self.max_document_directives
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
#[derive(Clone, Debug)]
enum Exceeded {
    Selections,
    UnknownFragment(Name),
    UnusedFragment(Name),
    Directives,
    DocumentDirectives,
    Arguments,
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
    /// Fragments some operation spreads.
    reached: HashSet<&'a Name>,
    limits: &'a SelectionLimit,
}

impl<'a> Counter<'a> {
    /// One more selection; every field, spread and inline fragment costs one
    /// each time it is walked.
    fn step(&mut self) -> Result<(), Exceeded> {
        self.selections += 1;
        if self.selections > self.limits.max_selections {
            return Err(Exceeded::Selections);
        }
        Ok(())
    }

    fn all_fragments_reached(&self) -> Result<(), Exceeded> {
        match self
            .document
            .fragments
            .keys()
            .find(|name| !self.reached.contains(name))
        {
            Some(name) => Err(Exceeded::UnusedFragment(name.clone())),
            None => Ok(()),
        }
    }

    /// Counts the selections of `set` at `level`; stops at the first bound passed.
    fn walk(&mut self, set: &'a SelectionSet, level: Level) -> Result<(), Exceeded> {
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
                    self.step()?;
                    self.walk(&fragment.node.selection_set.node, in_fragment)?;
                }
                Selection::FragmentSpread(spread) => {
                    self.step()?;
                    let name = &spread.node.fragment_name.node;
                    let Some(fragment) = self.document.fragments.get(name) else {
                        return Err(Exceeded::UnknownFragment(name.clone()));
                    };
                    self.reached.insert(name);
                    self.walk(&fragment.node.selection_set.node, in_fragment)?;
                }
            }
        }
        Ok(())
    }

    fn field(&mut self, field: &'a Field, level: Level) -> Result<(), Exceeded> {
        self.step()?;
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
