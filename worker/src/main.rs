//! The `auditlog-worker` binary: `auditlog-worker [run]` purges on the schedule,
//! `auditlog-worker run-once` runs one pass and exits. All logic lives in the
//! library (`auditlog_worker::cli`).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    auditlog_worker::cli::run().await
}
