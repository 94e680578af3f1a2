//! auditlog: a multi-tenant audit-log service with a GraphQL API.
//!
//! Layout (see ARCHITECTURE.md for the invariants):
//! - [`config`]: settings from flags and environment;
//! - [`domain`]: validated newtypes and vocabularies, parsed at the edge;
//! - [`auth`]: bearer credentials → [`auth::Principal`];
//! - [`store`]: SQL over SeaORM, always scoped by tenant;
//! - [`service`]: multi-step operations, each one transaction, self-audited;
//! - [`retention`]: the purge of expired events and its schedule;
//! - [`graphql`]: schema, resolvers, input/output types;
//! - [`http`]: axum routes and the GraphQL-over-HTTP transport;
//! - [`limits`]: rate limits, ingest quotas and WebSocket caps (bookkeeping);
//! - [`startup`]: wires it all into an [`startup::Application`].

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod db_roles;
pub mod durability;
pub mod error;
pub mod graphql;
pub mod http;
pub mod limits;
pub mod live;
pub mod readiness;
pub mod service;
pub mod shutdown;
pub mod startup;

// The data layer, under the names the modules here have always used.
pub use entity::{domain, store};
