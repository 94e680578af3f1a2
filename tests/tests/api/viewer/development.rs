//! Development mode's extra way in: an API key pasted into the viewer
//! (`dev-key.test.mjs`), which production mode does not offer
//! (`embedded.test.mjs` checks that); with it, paging past 50 rows and the
//! filters the other files do not use (target, outcome, search, no match),
//! and, with an ADMIN key, the log streams page: a webhook stream to a
//! receiver of the test's own on 127.0.0.1 (so private targets are allowed)
//! made, tested, paused, resumed, replayed, given a new secret and deleted.

use auditlog_tests::{Backend, spawn_app_with};
use serde_json::{Value, json};

use super::run_browser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_key_in_development_mode() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.dev = true;
        settings.streams.stream_allow_private_targets = true;
        settings.in_process_streams = true;
    })
    .await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    let auditor = app
        .create_api_key(&tenant.admin_key, "viewer", "AUDITOR")
        .await;
    let recorded = app
        .record_ok(
            &tenant.admin_key,
            json!([{ "action": "entry.create", "actor": { "type": "USER", "id": "u-1", "name": "Ann" } }]),
        )
        .await;
    // More than a page: 60 events about articles and pages, every tenth a
    // failure, each target named "Launch <i>".
    let more: Vec<Value> = (0..60)
        .map(|i| {
            json!({
                "action": "entry.update",
                "actor": { "type": "USER", "id": "u-2", "name": "Ben" },
                "target": {
                    "type": if i % 2 == 0 { "article" } else { "page" },
                    "id": format!("a-{i}"),
                    "name": format!("Launch {i}"),
                },
                "outcome": if i % 10 == 0 { "FAILURE" } else { "SUCCESS" },
            })
        })
        .collect();
    app.record_ok(&tenant.admin_key, json!(more)).await;
    let total = app.event_count(&tenant.admin_key).await;
    run_browser(
        "dev-key.test.mjs",
        &[
            ("AUDITLOG_URL", app.address.clone()),
            ("AUDITLOG_ADMIN_KEY", tenant.admin_key.clone()),
            ("AUDITLOG_AUDITOR_KEY", auditor.secret.clone()),
            (
                "AUDITLOG_EVENT_ID",
                recorded[0]["id"].as_str().unwrap().to_owned(),
            ),
            ("AUDITLOG_TOTAL", total.to_string()),
            ("AUDITLOG_BACKEND", "sqlite".to_owned()),
        ],
    )
    .await
    .assert_counts(4, 0);
}
