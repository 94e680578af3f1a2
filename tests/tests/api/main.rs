//! The integration suite: one binary (faster to link, one PostgreSQL cluster), one
//! module per area of the contract in issue 2. Every test is an
//! `async fn name(backend: Backend)` listed in its module's `backend_tests!`, so it runs
//! as `<area>::sqlite::name` and `<area>::postgres::name` against a fresh server and
//! database of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_keys;
mod append_only;
mod bad_input;
mod connections;
mod cors;
mod export;
mod facet_counts;
mod facets;
mod faults;
mod filter_model;
mod frontend_clients;
mod fuzz;
mod graphql_http_audit;
mod graphql_over_http;
mod group_commit;
mod helpers;
mod http;
mod idempotency;
mod integrity;
mod isolation;
mod limits;
mod live;
mod logs;
mod metrics_exposure;
mod oidc;
mod pagination;
mod persisted_queries;
mod platform_keys;
mod query_filters;
mod read_indexes;
mod read_replica;
mod record;
mod request_ids;
mod retention;
mod roles;
mod row_level_security;
mod scanners;
mod secret_lengths;
mod sequences;
mod streams;
mod tenants;
mod topology;
mod unknown_slugs;
mod view_audit;
mod viewer;
mod viewer_token_keys;
mod viewer_tokens;
