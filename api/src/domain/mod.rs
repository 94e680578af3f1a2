//! Domain types: raw input becomes one of these at the edge, or a
//! [`crate::error::ApiError::BadUserInput`]. Nothing here touches the database or HTTP.
//!
//! The small enums derive `async_graphql::Enum` so the GraphQL schema and the
//! domain cannot drift apart; their database spelling is `as_db()`/`from_db()`.

pub mod action;
pub mod clock;
pub mod enums;
pub mod ip_address;
pub mod new_event;
pub mod retention;
pub mod secret;
pub mod tenant_slug;
pub mod timestamp;

pub use action::Action;
pub use enums::{ActorType, Outcome, Plan, Role};
pub use ip_address::IpAddress;
pub use new_event::{NewEvent, NewEventError};
pub use retention::{RetentionDays, RetentionRules, RetentionWindow};
pub use tenant_slug::TenantSlug;
