//! Domain types: raw input becomes one of these at the edge, or an error that
//! says which field is wrong (the transport turns it into `BAD_USER_INPUT`).
//! Nothing here touches the database, HTTP or GraphQL.
//!
//! The small enums own their database spelling (`as_db()`/`from_db()`); the
//! GraphQL layer mirrors them (`api`'s `graphql::enums`), so neither spelling
//! leaks into the other.

pub mod action;
pub mod audit_actor;
pub mod clock;
pub mod enums;
pub mod ip_address;
pub mod log_stream;
pub mod merkle;
pub mod new_event;
pub mod retention;
pub mod secret;
pub mod tenant_slug;
pub mod timestamp;

pub use action::Action;
pub use audit_actor::AuditActor;
pub use enums::{ActorType, Outcome, Plan, PlatformRole, Role};
pub use ip_address::IpAddress;
pub use new_event::{NewEvent, NewEventError};
pub use retention::{RetentionDays, RetentionRules, RetentionWindow};
pub use tenant_slug::TenantSlug;
