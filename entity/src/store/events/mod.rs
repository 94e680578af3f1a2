//! The audit log itself: appending events with gapless per-tenant sequences,
//! reading them back by filter, keyset page, id and facet, and deleting expired
//! ones for the retention purge (the only deletion there is).

mod append;
mod bulk_insert;
mod by_sequence;
mod facets;
mod filter;
mod filter_json;
mod ingest_window;
pub mod notify;
mod purge;
mod read;
mod search;

pub use append::{Appended, MeteredBatch, append, append_metered};
pub use by_sequence::{ExportBatch, after_sequence, committed_sequence, export_batch};
pub use facets::{
    ActorFacet, FILTERED_FACETS_SCAN, FacetCoverage, Facets, MAX_FACET_VALUES, ValueFacet, facets,
    facets_traced, rollup_statements,
};
pub(crate) use filter::like_pattern;
pub use filter::{EventFilter, fold_case};
pub use ingest_window::QuotaRefusal;
pub use purge::{delete_expired_batch, has_expired};
pub use read::{
    Columns, Page, PageDirection, PageRows, PageScan, Position, find_by_id, json_size, page,
    page_statement, stored_size, window_end, window_end_statement,
};
pub use search::{
    CANDIDATE_LIMIT, COMMON_IN_NEWEST, FIRST_WINDOW, INDEX_AFTER, SHORT_TERM_SCAN, page_traced,
    widens, windows,
};
