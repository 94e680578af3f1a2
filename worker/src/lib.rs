//! `auditlog-worker`: the background jobs of auditlog, as a library and the
//! `auditlog-worker` binary.
//!
//! Owns: the retention purge ([`purge`]: passes, per-tenant leases and
//! batches, the `retention.purge` reports, the cron schedule), log-stream
//! delivery ([`streams`]: leases per stream, signed batches, retries), the settings
//! the jobs share with the service ([`config`]), and the runtime pieces every
//! auditlog process needs ([`telemetry`], [`signals`], the Prometheus
//! recorder and the worker's own `/metrics` listener in [`metrics`]). The
//! `auditlog` service depends on this crate and runs the same jobs
//! in-process (`AUDITLOG_IN_PROCESS_PURGE`); the binary runs them alone
//! ([`cli`]: `run` on the schedule until SIGTERM/Ctrl-C, `run-once`).
//!
//! Architecture invariants:
//! - depends on `entity` (the data layer) and never on `auditlog-api`: no web
//!   framework, no GraphQL, no identity provider (`cargo tree -p
//!   auditlog-worker -e normal` shows no axum, async-graphql, openidconnect);
//! - never serves the API and never migrates the schema; it deletes expired
//!   events, signs tree heads, delivers streams, and records what it did.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

// The data layer under the names its modules use.
use entity::{domain, store};

pub mod cli;
pub mod config;
pub mod ed25519;
pub mod metrics;
pub mod purge;
pub mod secret;
pub mod signals;
pub mod streams;
pub mod telemetry;
pub mod tree_heads;
