//! The `auditlog` binary: `auditlog [serve]` runs the service,
//! `auditlog tenant create <slug> --name ... --plan ...` creates a tenant offline.
//! All logic lives in the library (`auditlog_api::cli`).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    auditlog_api::cli::run().await
}
