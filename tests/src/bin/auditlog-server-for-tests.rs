//! The `auditlog` command line, built inside the test crate so integration tests
//! can start the real server as a separate process (`CARGO_BIN_EXE_…` is only
//! provided for binaries of the test's own package). Same code as `auditlog`.

use std::process::ExitCode;

/// mimalloc instead of the system allocator: GraphQL responses are built from
/// many small allocations, and glibc's malloc showed up as a third of the
/// service's CPU time in profiles of the page benchmark.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    auditlog_api::cli::run().await
}
