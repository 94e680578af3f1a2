//! The audit log itself: appending events with gapless per-tenant sequences,
//! reading them back by filter, keyset page, id and facet, and deleting expired
//! ones for the retention purge (the only deletion there is).

mod append;
mod bulk_insert;
mod by_sequence;
mod facets;
mod filter;
pub mod notify;
mod purge;
mod read;

pub use append::append;
pub use by_sequence::{after_sequence, committed_sequence};
pub use facets::{
    ActorFacet, FILTERED_FACETS_SCAN, FacetCoverage, Facets, MAX_FACET_VALUES, ValueFacet, facets,
    rollup_statements,
};
pub use filter::EventFilter;
pub use purge::{delete_expired_batch, has_expired};
pub use read::{Page, PageDirection, Position, find_by_id, json_size, page, stored_size};
