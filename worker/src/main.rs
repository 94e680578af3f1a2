//! The `auditlog-worker` binary: `auditlog-worker [run]` purges on the schedule,
//! `auditlog-worker run-once` runs one pass and exits. All logic lives in the
//! library (`auditlog_worker::cli`).

use std::process::ExitCode;

/// mimalloc instead of the system allocator: GraphQL responses are built from
/// many small allocations, and glibc's malloc showed up as a third of the
/// service's CPU time in profiles of the page benchmark.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    auditlog_worker::cli::run().await
}
