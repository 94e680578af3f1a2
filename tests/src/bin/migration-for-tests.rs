//! The `migration` command line, built inside the test crate so integration
//! tests can run the real tool as a process (see `auditlog-server-for-tests`).

#[tokio::main]
async fn main() {
    migration::command_line::run().await;
}
