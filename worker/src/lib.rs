//! `auditlog-worker`: the retention worker of auditlog, as a library (for the
//! binary and for tests that run it in-process) plus the `auditlog-worker` binary.
//!
//! The purge itself — lease, batches, `retention.purge` reports — lives in
//! `auditlog_api::retention`, so the `auditlog` service can run the very same
//! pass in-process (`AUDITLOG_IN_PROCESS_PURGE`). This crate owns the worker
//! process around it: its command line and settings ([`cli`]), the run modes
//! (`run`: on the cron schedule until SIGTERM/Ctrl-C; `run-once`: one pass),
//! and clean shutdown after the batch in flight.
//!
//! Invariant: the worker never serves HTTP and never migrates the schema; it
//! only deletes expired events and records what it deleted.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod cli;
