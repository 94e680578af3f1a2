//! The `auditlog` binary: `auditlog [serve]` runs the service,
//! `auditlog tenant create <slug> --name ... --plan ...` creates a tenant offline.
//! All logic lives in the library (`auditlog_api::cli`).

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
