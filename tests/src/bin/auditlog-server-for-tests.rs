//! The `auditlog` command line, built inside the test crate so integration tests
//! can start the real server as a separate process (`CARGO_BIN_EXE_…` is only
//! provided for binaries of the test's own package). Same code as `auditlog`.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    auditlog_api::cli::run().await
}
