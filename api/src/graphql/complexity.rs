//! Complexity of list fields: a list costs its children once per item it may
//! return, so `auditEvents(first: 500) { edges { node { payload } } }` costs
//! 1,501 rather than 4, and twenty aliases of it pass `AUDITLOG_MAX_COMPLEXITY`
//! no more than twenty real pages would.
//!
//! Used by `#[graphql(complexity = ...)]` on each list field; the arguments are
//! the field's own (variables resolved). Out-of-range page sizes are counted
//! at the most the resolver accepts: it refuses them anyway.

use super::pagination::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::store::events::MAX_FACET_VALUES;

/// A Relay connection's page: `last`, else `first`, else the default page size.
pub(super) fn page(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = last
        .or(first)
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .clamp(0, MAX_PAGE_SIZE);
    list(usize::try_from(size).unwrap_or_default(), child_complexity)
}

/// A facet list (at most [`MAX_FACET_VALUES`] values).
pub(super) fn facet_list(child_complexity: usize) -> usize {
    list(
        usize::try_from(MAX_FACET_VALUES).unwrap_or(usize::MAX),
        child_complexity,
    )
}

/// A list that is not paged and has no fixed bound (`apiKeys`): counted as a
/// default page.
pub(super) fn unpaged_list(child_complexity: usize) -> usize {
    list(
        usize::try_from(DEFAULT_PAGE_SIZE).unwrap_or_default(),
        child_complexity,
    )
}

fn list(items: usize, child_complexity: usize) -> usize {
    items.saturating_mul(child_complexity).saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiplies_children_by_the_page_size() {
        assert_eq!(page(Some(500), None, 3), 1501);
        assert_eq!(page(None, Some(10), 3), 31);
        assert_eq!(page(None, None, 3), 151);
        assert_eq!(page(Some(1_000_000), None, 3), 1501);
        assert_eq!(page(Some(-5), None, 3), 1);
        assert_eq!(facet_list(2), 401);
        assert_eq!(unpaged_list(7), 351);
    }
}
