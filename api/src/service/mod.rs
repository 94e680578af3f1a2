//! Operations that span several tables and must be atomic: creating a tenant with
//! its first key, creating and revoking keys, recording events, changing a
//! tenant's retention policy, legal hold or plan, minting viewer tokens. Each runs in one
//! transaction and writes its own audit event into the tenant's log in that same
//! transaction, so an administrative change and its record commit together.
//!
//! Reads live here too ([`reads`]): one place opens every tenant transaction,
//! so resolvers only authorize, convert and call. Cache invalidation and live
//! notices happen in the service that made the change, after its commit.
//!
//! Used by both the GraphQL resolvers and the command line; knows no GraphQL.

pub(crate) mod api_keys;
pub(crate) mod events;
pub(crate) mod export;
pub(crate) mod group_commit;
pub(crate) mod integrity;
pub(crate) mod log_streams;
pub(crate) mod platform_keys;
pub(crate) mod reads;
pub(crate) mod retention;
pub(crate) mod tenants;
pub(crate) mod user_activity;
pub(crate) mod view_audit;
pub(crate) mod viewer_tokens;
