//! The GraphQL API: schema assembly, resolvers, input and output types.
//!
//! Resolvers are thin: they take the [`crate::auth::Principal`] from the request
//! data, convert arguments into domain types, call `service`/`store`, and convert
//! rows into output types. No SQL here, no HTTP here.

mod complexity;
mod context;
pub(crate) mod cursor;
mod document_scan;
mod documents;
mod enums;
mod error_codes;
mod executor;
mod guard;
pub(crate) mod inputs;
mod integrity;
mod introspection;
mod log_streams;
mod metrics;
mod mutation;
mod pagination;
mod platform;
mod query;
pub(crate) mod scalars;
mod schema;
#[cfg(test)]
mod sdl;
mod shape;
mod subscription;
pub(crate) mod types;
mod viewer_tokens;

pub(crate) use context::{CallerRequestId, Services};
pub(crate) use executor::Executor;
pub(crate) use guard::SafeMethod;
pub(crate) use query::READERS;
pub(crate) use schema::{AuditLogSchema, SchemaLimits, build_schema};
