//! Schema migrations of auditlog, for PostgreSQL and SQLite.
//!
//! Owns the database schema and nothing else; depends on no other crate of
//! auditlog (the service and the tests run it; the worker never does). Policy:
//! - every primary key, unique constraint and index on tenant data leads with
//!   `tenant_id`, so tables can be distributed by tenant later;
//! - where PostgreSQL has a better type (`inet`, `jsonb`, `timestamptz`, the `C`
//!   collation for byte-ordered identifiers) it is used; every such difference
//!   is decided in [`column_types`], nowhere else;
//! - a released migration is never edited: changes come as new migrations;
//! - on PostgreSQL every table of tenant data has row-level security (see
//!   `m20261126_000007_row_level_security`); a new table is granted to the
//!   `auditlog_app` role and, if it holds tenant data, gets the same policy;
//!   a data migration that must touch every tenant's rows runs as the owner,
//!   which `FORCE ROW LEVEL SECURITY` binds too: it sets `app.tenant_id` per
//!   tenant, or lifts `FORCE` for the table inside its own transaction;
//! - `audit_events` is append-only for `auditlog_app` (INSERT and SELECT;
//!   deletion only through the purge function of
//!   `m20261202_000008_append_only_events`): never grant it UPDATE or DELETE.

pub use sea_orm_migration::prelude::*;

mod column_types;
pub mod command_line;
mod m20261126_000001_create_tenants;
mod m20261126_000002_create_api_keys;
mod m20261126_000003_create_audit_events;
mod m20261126_000004_create_instance_settings;
mod m20261126_000005_add_retention_policy;
mod m20261126_000006_create_user_sessions;
mod m20261126_000007_row_level_security;
mod m20261202_000008_append_only_events;
mod m20261203_000009_index_search_and_ip;

/// The text the PostgreSQL search index holds per event (tests `EXPLAIN` it).
pub use m20261203_000009_index_search_and_ip::SEARCH_TEXT;
mod m20261203_000010_create_facet_counts;
mod m20261203_000011_index_target_id;
mod m20261203_000012_create_platform_keys;
mod m20261203_000013_index_actor_type_and_outcome;
mod m20261203_000014_add_ingest_window;
mod m20261203_000015_create_audit_view_marks;
mod m20261204_000017_bound_search_candidates;
mod m20261204_000018_create_audit_tree;
mod m20261207_000019_create_log_streams;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_tenants::Migration),
            Box::new(m20261126_000002_create_api_keys::Migration),
            Box::new(m20261126_000003_create_audit_events::Migration),
            Box::new(m20261126_000004_create_instance_settings::Migration),
            Box::new(m20261126_000005_add_retention_policy::Migration),
            Box::new(m20261126_000006_create_user_sessions::Migration),
            Box::new(m20261126_000007_row_level_security::Migration),
            Box::new(m20261202_000008_append_only_events::Migration),
            Box::new(m20261203_000009_index_search_and_ip::Migration),
            Box::new(m20261203_000010_create_facet_counts::Migration),
            Box::new(m20261203_000011_index_target_id::Migration),
            Box::new(m20261203_000012_create_platform_keys::Migration),
            Box::new(m20261203_000013_index_actor_type_and_outcome::Migration),
            Box::new(m20261203_000014_add_ingest_window::Migration),
            Box::new(m20261203_000015_create_audit_view_marks::Migration),
            Box::new(m20261204_000017_bound_search_candidates::Migration),
            Box::new(m20261204_000018_create_audit_tree::Migration),
            Box::new(m20261207_000019_create_log_streams::Migration),
        ]
    }
}
