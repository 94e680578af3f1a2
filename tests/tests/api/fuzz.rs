//! Fuzzing the schema with schemathesis's GraphQL mode: it reads the schema by
//! introspection (enabled explicitly; production mode otherwise) and sends
//! generated queries and mutations for every root field, with a tenant's ADMIN
//! key, a bounded number of examples each and a fixed seed. Passing means: no
//! 5xx and no untyped or internal error (the `typed_errors_only` check of
//! tests/fuzz/auditlog_fuzz_hooks.py, in place of schemathesis's own
//! `not_a_server_error`, which counts typed client errors as server errors), no
//! response slower than 15 s and no request timing out after 30 s (no hang).
//!
//! `AUDITLOG_FUZZ_EXAMPLES` (default 30) and `AUDITLOG_FUZZ_SEED` (default 1)
//! change the bounds for a longer local run.

use std::path::Path;
use std::time::Duration;

use auditlog_tests::schemathesis::{fuzz_dir, schemathesis};
use auditlog_tests::{Backend, backend_tests, spawn_app_with};

/// The whole run's bound; far above what 30 examples per field take.
const RUN_TIMEOUT: Duration = Duration::from_secs(600);

async fn fuzz(url: &str, key: &str, workdir: &Path, filter: [&str; 2]) {
    let examples = std::env::var("AUDITLOG_FUZZ_EXAMPLES").unwrap_or_else(|_| "30".into());
    let seed = std::env::var("AUDITLOG_FUZZ_SEED").unwrap_or_else(|_| "1".into());
    let command = tokio::process::Command::new(schemathesis())
        .arg("run")
        .arg(url)
        .args(["--header", &format!("Authorization: Bearer {key}")])
        .args(["--max-examples", &examples, "--seed", &seed])
        .args(["--checks", "typed_errors_only"])
        .args(["--max-response-time", "15", "--request-timeout", "30"])
        .args(["--workers", "1", "--generation-database", "none"])
        .args(["--suppress-health-check", "all", "--no-color"])
        .args(filter)
        .current_dir(workdir)
        .env("SCHEMATHESIS_HOOKS", "auditlog_fuzz_hooks")
        .env("PYTHONPATH", fuzz_dir())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(RUN_TIMEOUT, command)
        .await
        .unwrap_or_else(|_| panic!("schemathesis did not finish within {RUN_TIMEOUT:?} (a hang?)"))
        .unwrap_or_else(|e| panic!("cannot run schemathesis: {e}"));
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "schemathesis found failures ({filter:?}):\n{report}"
    );
    assert!(
        report.contains("passed"),
        "schemathesis ran no test case ({filter:?}):\n{report}"
    );
}

async fn schemathesis_finds_no_server_error(backend: Backend) {
    let installed = schemathesis();
    assert!(installed.exists(), "{} is missing", installed.display());
    let app = spawn_app_with(backend, |settings| settings.introspection = Some(true)).await;
    let tenant = app.create_tenant("acme", "ENTERPRISE").await;
    let workdir = std::env::temp_dir().join(format!("auditlog-fuzz-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&workdir).expect("create the fuzz working directory");
    let url = app.url("/graphql");
    // Every field but `revokeApiKey` first: it may revoke the key the run uses,
    // after which every other field would only answer UNAUTHENTICATED.
    fuzz(
        &url,
        &tenant.admin_key,
        &workdir,
        ["--exclude-name", "Mutation.revokeApiKey"],
    )
    .await;
    fuzz(
        &url,
        &tenant.admin_key,
        &workdir,
        ["--include-name", "Mutation.revokeApiKey"],
    )
    .await;
    let _ = std::fs::remove_dir_all(&workdir);
}

backend_tests!(schemathesis_finds_no_server_error);
