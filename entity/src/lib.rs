//! The data layer of auditlog: the SeaORM entities (one module per table), the
//! domain's value types ([`domain`]) and the tenant-scoped queries over them
//! ([`store`]).
//!
//! Owns: what a row is, what a valid event, action, slug or retention window
//! is, and every SQL statement the service and the worker run.
//!
//! Architecture invariants:
//! - this crate knows nothing of HTTP, GraphQL, credentials or permissions: it
//!   depends on no web or GraphQL crate, and nothing here decides who may do what;
//! - every table holding tenant data has `tenant_id` as the first column of its
//!   primary key, so the schema can be distributed by tenant (see `migration/`);
//! - every query over tenant data takes the tenant id from its caller and runs
//!   in a transaction from [`store::tenant_scope::begin`].

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

// The entity modules name each other `entity::…`, as every other crate does.
extern crate self as entity;

pub mod domain;
pub mod store;

pub mod api_keys;
pub mod audit_event_facet_days;
pub mod audit_event_facet_totals;
pub mod audit_events;
pub mod audit_tree_heads;
pub mod audit_tree_nodes;
pub mod audit_view_marks;
pub mod instance_settings;
pub mod log_stream_deliveries;
pub mod log_streams;
pub mod platform_keys;
pub mod retention_leases;
pub mod tenants;
pub mod user_sessions;

pub mod prelude {
    //! The entities under their conventional names.
    pub use super::api_keys::Entity as ApiKeys;
    pub use super::audit_event_facet_days::Entity as AuditEventFacetDays;
    pub use super::audit_event_facet_totals::Entity as AuditEventFacetTotals;
    pub use super::audit_events::Entity as AuditEvents;
    pub use super::audit_view_marks::Entity as AuditViewMarks;
    pub use super::instance_settings::Entity as InstanceSettings;
    pub use super::log_stream_deliveries::Entity as LogStreamDeliveries;
    pub use super::log_streams::Entity as LogStreams;
    pub use super::platform_keys::Entity as PlatformKeys;
    pub use super::retention_leases::Entity as RetentionLeases;
    pub use super::tenants::Entity as Tenants;
    pub use super::user_sessions::Entity as UserSessions;
}
