//! Frontend GraphQL clients against the real server, run with Node.js's test
//! runner (tests/node): Apollo Client with `InMemoryCache` and persisted
//! queries (`apollo.test.mjs`), urql with graphcache (`urql.test.mjs`), and
//! graphql-request's view of bad input (`graphql-request.test.mjs`). The
//! client set-ups are the ones docs/frontend.md shows (issue 14: snapshots
//! read through normalized caches, 64-bit sequences, APQ). Apollo Client
//! authenticated only by a viewer token (issue 16) is in [`viewer_token`].

mod viewer_token;

use std::path::Path;
use std::time::Duration;

use auditlog_tests::database::{HIGH_SEQUENCE as HIGH, set_event_counter, tenant_uuid};
use auditlog_tests::node::{ensure_node_modules, node_dir};
use auditlog_tests::{Backend, backend_tests};

use crate::helpers::app_with_tenant;

/// What `node --test` reported: its counts, and the whole output for messages.
pub(super) struct NodeReport {
    output: String,
}

impl NodeReport {
    /// The `# <name> N` summary line's N.
    fn count(&self, name: &str) -> Option<u64> {
        let prefix = format!("# {name} ");
        self.output
            .lines()
            .find_map(|line| line.strip_prefix(&prefix)?.trim().parse().ok())
    }

    /// Asserts exactly `pass` passing tests, no failure and `todo` known gaps.
    #[track_caller]
    pub(super) fn assert_counts(&self, pass: u64, todo: u64) {
        for (name, expected) in [
            ("pass", pass),
            ("fail", 0),
            ("cancelled", 0),
            ("todo", todo),
        ] {
            assert_eq!(
                self.count(name),
                Some(expected),
                "expected `# {name} {expected}` from node --test:\n{}",
                self.output
            );
        }
    }
}

/// Runs `node --test <file>` in tests/node with the server's URLs, a TEAM
/// tenant's ADMIN key, and a second tenant whose sequence counter is at
/// [`HIGH`].
async fn run_node_tests(backend: Backend, file: &str) -> NodeReport {
    let (app, tenant) = app_with_tenant(backend).await;
    let high = app.create_tenant("high", "TEAM").await;
    set_event_counter(app.superuser_database_url(), tenant_uuid(&high.id), HIGH).await;
    run_node(
        file,
        &[
            ("AUDITLOG_HTTP_URL", app.url("/graphql")),
            ("AUDITLOG_WS_URL", app.ws_url()),
            ("AUDITLOG_KEY", tenant.admin_key.clone()),
            ("AUDITLOG_HIGH_KEY", high.admin_key.clone()),
            ("AUDITLOG_HIGH_COUNTER", HIGH.to_string()),
        ],
    )
    .await
}

/// Runs `node --test <file>` in tests/node with `env` (and nothing else of
/// the server's: what a file may use is what it is given), and asserts it
/// exited successfully.
pub(super) async fn run_node(file: &str, env: &[(&str, String)]) -> NodeReport {
    ensure_node_modules();
    run_node_in(&node_dir(), file, env).await
}

/// [`run_node`] in `dir`, whose packages the caller installed.
pub(super) async fn run_node_in(dir: &Path, file: &str, env: &[(&str, String)]) -> NodeReport {
    let mut command = tokio::process::Command::new("node");
    command
        .args(["--test", "--test-reporter=tap", file])
        .current_dir(dir)
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = tokio::time::timeout(Duration::from_secs(300), command.output())
        .await
        .unwrap_or_else(|_| panic!("node --test {file} did not finish within 5 minutes"))
        .unwrap_or_else(|e| panic!("cannot run node (install Node.js 20): {e}"));
    let report = NodeReport {
        output: format!(
            "{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    };
    assert!(
        output.status.success(),
        "node --test {file} failed:\n{}",
        report.output
    );
    report
}

/// Apollo Client 4: snapshots through `InMemoryCache` (default and
/// `relayStylePagination`), live events over `GraphQLWsLink`, sequences past
/// 2^32, and automatic persisted queries over POST and GET.
async fn apollo_client(backend: Backend) {
    run_node_tests(backend, "apollo.test.mjs")
        .await
        .assert_counts(8, 0);
}

/// urql with graphcache (`relayPagination`, default and recommended keys),
/// facets, live events over `subscriptionExchange`, sequences past 2^32.
async fn urql_client(backend: Backend) {
    run_node_tests(backend, "urql.test.mjs")
        .await
        .assert_counts(5, 0);
}

/// graphql-request 7: the HTTP status and `extensions.code` of each kind of
/// bad input.
async fn graphql_request_client(backend: Backend) {
    run_node_tests(backend, "graphql-request.test.mjs")
        .await
        .assert_counts(9, 0);
}

backend_tests!(apollo_client, urql_client, graphql_request_client);
