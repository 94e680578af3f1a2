//! The protocol's reference client: the `graphql-ws` npm package, run with
//! Node.js's test runner against a real server (tests/node/subscription.test.mjs).

use auditlog_tests::node::{ensure_node_modules, node_dir};
use auditlog_tests::{Backend, backend_tests};

use crate::helpers::app_with_tenant;

async fn graphql_ws_reference_client_receives_events_in_order(backend: Backend) {
    ensure_node_modules();
    let (app, tenant) = app_with_tenant(backend).await;
    let output = tokio::process::Command::new("node")
        .args(["--test", "subscription.test.mjs"])
        .current_dir(node_dir())
        .env("AUDITLOG_HTTP_URL", app.url("/graphql"))
        .env("AUDITLOG_WS_URL", app.ws_url())
        .env("AUDITLOG_KEY", &tenant.admin_key)
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run node (install Node.js 20): {e}"));
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "node tests failed:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        report.contains("# pass 2"),
        "expected 2 passing node tests:\n{report}"
    );
}

backend_tests!(graphql_ws_reference_client_receives_events_in_order);
