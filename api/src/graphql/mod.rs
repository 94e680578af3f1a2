//! The GraphQL API: schema assembly, resolvers, input and output types.
//!
//! Resolvers are thin: they take the [`crate::auth::Principal`] from the request
//! data, convert arguments into domain types, call `service`/`store`, and convert
//! rows into output types. No SQL here, no HTTP here.

mod complexity;
mod context;
pub mod cursor;
mod document_scan;
mod enums;
mod error_codes;
mod guard;
pub mod inputs;
mod introspection;
mod limits;
mod metrics;
mod mutation;
mod pagination;
mod query;
mod schema;
mod sdl;
mod subscription;
pub mod types;

pub use context::Services;
pub use document_scan::{DocumentLimits, ScanRefusal, scan as scan_document};
pub use schema::{AuditLogSchema, SchemaLimits, build_schema};
pub use sdl::sdl;
