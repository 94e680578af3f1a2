//! Persistence: small functions over SeaORM that take a connection or transaction.
//!
//! Architecture invariants:
//! - every function that reads or writes tenant data takes the `tenant_id` as its
//!   first argument after the connection and puts it in every `WHERE` clause;
//!   callers get it from the authenticated principal, never from client input;
//! - nothing here knows GraphQL or HTTP; input arrives as domain types;
//! - every PostgreSQL/SQLite difference in queries lives in [`dialect`], except
//!   tenant isolation: [`tenant_scope`] (the transaction's tenant for row-level
//!   security) and [`registry`] (tenant ids before a tenant is known);
//! - callers run every read and write of tenant data inside a transaction
//!   from [`tenant_scope::begin`] (writes) or [`read_scope::begin_read`]
//!   (reads: the same scope, opened in one round trip).
//!
//! Errors: [`StoreError`] distinguishes the outcomes a caller must react to
//! (a conflict, a taken slug) from database failures, which stay opaque; the
//! transport decides what a client sees (`api`'s `error.rs`).

pub mod admin_audit;
pub mod api_keys;
pub mod connection;
pub mod dialect;
pub mod events;
pub mod instance;
pub mod log_streams;
pub mod platform_keys;
pub mod platform_log;
pub mod read_scope;
pub mod registry;
pub mod replication;
mod response_budget;
pub mod retention_leases;
pub mod role_check;
pub mod tenant_scope;
pub mod tenants;
pub mod tree;
pub mod user_sessions;
pub mod view_marks;

pub use response_budget::{ResponseBudget, ResponseTooLarge};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An idempotency key was reused in this tenant with a different event body.
    #[error("idempotency key {key:?} was already used for a different event")]
    IdempotencyConflict { index: usize, key: String },
    /// `tenants.slug` is unique.
    #[error("a tenant with slug {0:?} already exists")]
    SlugTaken(String),
    /// Something this crate built is not valid (a bug, never client input):
    /// e.g. a self-audit event that does not parse.
    #[error("{0}")]
    Invalid(String),
    /// A read stopped because the request's response budget is spent.
    #[error(transparent)]
    ResponseTooLarge(#[from] ResponseTooLarge),
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
}
