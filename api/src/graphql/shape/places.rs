//! Directives and arguments as written, place by place (operation, variable
//! definition, field, fragment spread, inline fragment, fragment definition):
//! not expanded, because each written one is validated (and reported) once.

use async_graphql::Positioned;
use async_graphql::parser::types::{Directive, ExecutableDocument, Selection, SelectionSet};

use super::{Exceeded, SelectionLimit};

/// Most arguments one field or directive may have; the schema's most is 5.
pub(crate) const MAX_ARGUMENTS: usize = 32;

/// Counts the directives as written (not expanded: each written one is
/// validated once), per place and in total, and the arguments of each field
/// and directive.
pub(super) fn check(
    document: &ExecutableDocument,
    limits: &SelectionLimit,
) -> Result<(), Exceeded> {
    let mut total = 0usize;
    let mut place = |directives: &[Positioned<Directive>]| {
        if directives.len() > limits.max_directives {
            return Err(Exceeded::Directives);
        }
        total += directives.len();
        if total > limits.max_document_directives {
            return Err(Exceeded::DocumentDirectives);
        }
        if directives
            .iter()
            .any(|directive| directive.node.arguments.len() > MAX_ARGUMENTS)
        {
            return Err(Exceeded::Arguments);
        }
        Ok(())
    };
    // Selection sets as written, with an explicit stack: nesting is bounded by
    // the document scan, but this walk need not rely on it.
    let mut sets: Vec<&SelectionSet> = Vec::new();
    for (_, operation) in document.operations.iter() {
        place(&operation.node.directives)?;
        for variable in &operation.node.variable_definitions {
            place(&variable.node.directives)?;
        }
        sets.push(&operation.node.selection_set.node);
    }
    for fragment in document.fragments.values() {
        place(&fragment.node.directives)?;
        sets.push(&fragment.node.selection_set.node);
    }
    while let Some(set) = sets.pop() {
        for selection in &set.items {
            place(selection.node.directives())?;
            match &selection.node {
                Selection::Field(field) => {
                    if field.node.arguments.len() > MAX_ARGUMENTS {
                        return Err(Exceeded::Arguments);
                    }
                    sets.push(&field.node.selection_set.node);
                }
                Selection::InlineFragment(fragment) => {
                    sets.push(&fragment.node.selection_set.node);
                }
                Selection::FragmentSpread(_) => {}
            }
        }
    }
    Ok(())
}
