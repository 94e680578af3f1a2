//! GraphQL over HTTP conformance: the `graphql-http` npm package's server audit
//! suite (`serverAudits`, run by tests/node/graphql-http-audit.mjs) against the
//! real server, with a tenant's API key on every request.
//!
//! Two of the audits (28B9, a MUST, and 2EA1, a SHOULD; D6D5 and 6A70, two MAYs,
//! over GET) probe variables with an introspection query
//! (`__type(name: $name)`). Production mode refuses introspection by default,
//! so the whole suite is run with introspection explicitly enabled, where every
//! audit passes, and again with production's defaults, where exactly those four
//! fail, each with `INTROSPECTION_DISABLED` (docs/security.md: "GraphQL over HTTP conformance").

use std::collections::BTreeMap;
use std::time::Duration;

use auditlog_tests::node::{ensure_node_modules, node_dir};
use auditlog_tests::{Backend, TestApp, backend_tests, spawn_app, spawn_app_with};

/// The audits that query `__type`, with the status each gets when introspection is off.
const INTROSPECTION_PROBES: [(&str, &str); 4] = [
    ("28B9", "error"),
    ("2EA1", "warn"),
    ("D6D5", "notice"),
    ("6A70", "notice"),
];

/// What the audit script printed: each audit's status (`ok`, `error` for a failed
/// MUST, `warn` for a failed SHOULD, `notice` for a failed MAY) and its line.
struct AuditReport {
    success: bool,
    output: String,
    results: BTreeMap<String, (String, String)>,
}

impl AuditReport {
    fn failures(&self) -> BTreeMap<&str, &str> {
        self.results
            .iter()
            .filter(|(_, (status, _))| status != "ok")
            .map(|(id, (status, _))| (id.as_str(), status.as_str()))
            .collect()
    }
}

async fn run_audits(app: &TestApp, expected_failures: &[&str]) -> AuditReport {
    ensure_node_modules();
    let tenant = app.create_tenant("acme", "TEAM").await;
    let command = tokio::process::Command::new("node")
        .arg("graphql-http-audit.mjs")
        .current_dir(node_dir())
        .env("AUDITLOG_HTTP_URL", app.url("/graphql"))
        .env("AUDITLOG_KEY", &tenant.admin_key)
        .env("AUDIT_EXPECTED_FAILURES", expected_failures.join(","))
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), command)
        .await
        .expect("the graphql-http audit suite did not finish within 2 minutes")
        .unwrap_or_else(|e| panic!("cannot run node (install Node.js 20): {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let output_text = format!("{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let results = stdout
        .lines()
        .filter_map(|line| {
            let mut words = line.splitn(3, ' ');
            let status = words.next()?;
            let id = words.next()?;
            ["ok", "error", "warn", "notice"]
                .contains(&status)
                .then(|| (id.to_owned(), (status.to_owned(), line.to_owned())))
        })
        .collect::<BTreeMap<_, _>>();
    assert!(
        results.len() >= 50,
        "the audit suite reported only {} audits:\n{output_text}",
        results.len()
    );
    AuditReport {
        success: output.status.success(),
        output: output_text,
        results,
    }
}

async fn every_audit_passes_with_introspection_enabled(backend: Backend) {
    let app = spawn_app_with(backend, |settings| settings.introspection = Some(true)).await;
    let report = run_audits(&app, &[]).await;
    assert!(report.success, "a MUST audit failed:\n{}", report.output);
    // No MUST, SHOULD or MAY is skipped (docs/security.md lists none).
    assert_eq!(
        report.failures(),
        BTreeMap::new(),
        "audits failed:\n{}",
        report.output
    );
}

async fn production_defaults_fail_only_the_introspection_probes(backend: Backend) {
    let app = spawn_app(backend).await;
    let report = run_audits(&app, &["28B9"]).await;
    assert!(
        report.success,
        "a MUST audit other than the introspection probe failed:\n{}",
        report.output
    );
    assert_eq!(
        report.failures(),
        BTreeMap::from(INTROSPECTION_PROBES),
        "{}",
        report.output
    );
    for (id, _) in INTROSPECTION_PROBES {
        let (_, line) = &report.results[id];
        assert!(
            line.contains("INTROSPECTION_DISABLED"),
            "audit {id} failed for another reason: {line}"
        );
    }
}

backend_tests!(
    every_audit_passes_with_introspection_enabled,
    production_defaults_fail_only_the_introspection_probes
);
