//! The audit log itself: appending events with gapless per-tenant sequences,
//! and reading them back by filter, keyset page, id and facet.

mod append;
mod by_sequence;
mod facets;
mod filter;
mod read;

pub use append::append;
pub use by_sequence::{after_sequence, committed_sequence};
pub use facets::{ActorFacet, ValueFacet, action_facets, actor_facets};
pub use filter::EventFilter;
pub use read::{Page, PageDirection, Position, find_by_id, page};
