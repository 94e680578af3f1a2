//! The `auditlog-worker` command line, built inside the test crate so integration
//! tests can run the real worker as a separate process (`CARGO_BIN_EXE_…` is only
//! provided for binaries of the test's own package). Same code as `auditlog-worker`.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    auditlog_worker::cli::run().await
}
