//! SeaORM entities of auditlog, one module per table.
//!
//! Architecture invariant: this crate knows nothing of HTTP, GraphQL or tenants'
//! permissions. It only describes rows. Every table holding tenant data has
//! `tenant_id` as the first column of its primary key, so the schema can be
//! distributed by tenant (see `migration/`).

pub mod api_keys;
pub mod audit_events;
pub mod instance_settings;
pub mod retention_leases;
pub mod tenants;
pub mod user_sessions;

pub mod prelude {
    //! The entities under their conventional names.
    pub use super::api_keys::Entity as ApiKeys;
    pub use super::audit_events::Entity as AuditEvents;
    pub use super::instance_settings::Entity as InstanceSettings;
    pub use super::retention_leases::Entity as RetentionLeases;
    pub use super::tenants::Entity as Tenants;
    pub use super::user_sessions::Entity as UserSessions;
}
