//! auditlog's service: the transport of the audit log. Owns HTTP (axum),
//! GraphQL (async-graphql: schema, resolvers, limits), authentication
//! (API keys, the operator token, OpenID Connect and browser sessions), the
//! live-event fan-out, rate limits and quotas, and the services that compose
//! the data layer's calls into one transaction each; it runs the worker's
//! jobs in-process for the single-binary set-up.
//!
//! Depends on `entity` (data) and `auditlog-worker` (background jobs); neither
//! depends on it. Only what the `auditlog` binary and the test harness use is
//! `pub` ([`cli`], [`config`], [`startup`], and a few pieces the harness drives
//! directly); everything else is `pub(crate)`, and `unreachable_pub` keeps it
//! so. ARCHITECTURE.md has the crate map and its invariants.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod auth;
pub mod cli;
pub mod config;
pub mod db;
mod db_roles;
pub mod durability;
mod error;
mod graphql;
mod http;
pub mod limits;
pub mod live;
mod readiness;
mod replica;
mod service;
mod shutdown;
pub mod startup;

// The data layer, under the names the modules here have always used.
use entity::{domain, store};
