//! `migration`: apply, revert or inspect the schema without starting the service
//! (`up|down|status|fresh`; see `migration::command_line`).

#[tokio::main]
async fn main() {
    migration::command_line::run().await;
}
