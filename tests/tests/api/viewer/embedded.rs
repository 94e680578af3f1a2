//! The viewer embedded in a SaaS page of another origin with a viewer token
//! (`embedded.test.mjs`): the token by `postMessage` (after a bad one, which
//! the viewer reports as expired; then renewed while the page stays as it
//! is) and in the URL fragment; live events, also across a dropped
//! connection; an unreachable service; hostile event data rendered as text.
//!
//! The test file runs two servers of its own on ports chosen here: the SaaS
//! page (`AUDITLOG_EMBEDDER_PORT`, listed in `AUDITLOG_FRAME_ANCESTORS` and
//! `AUDITLOG_CORS_ORIGINS`) and a TCP relay in front of the service
//! (`AUDITLOG_RELAY_PORT`, the public URL), which the browser uses and the
//! test cuts to drop the WebSocket.

use auditlog_tests::oidc::free_port;
use auditlog_tests::{Backend, TestApp, backend_tests, spawn_app_with};
use serde_json::{Value, json};

use super::run_browser;

const CREATE_VIEWER_TOKEN: &str = "mutation($input: ViewerTokenInput!) { \
     createViewerToken(input: $input) { token } }";

/// HTML and script in every string field an event has.
const HOSTILE: &str =
    r#"<img src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=2;alert(2)</script>"#;

fn hostile_event() -> Value {
    json!({
        "action": "document.update",
        "actor": { "type": "USER", "id": HOSTILE, "name": HOSTILE, "email": HOSTILE },
        "target": { "type": HOSTILE, "id": HOSTILE, "name": HOSTILE },
        "context": { "ipAddress": "198.51.100.7", "userAgent": HOSTILE, "requestId": HOSTILE },
        "payload": { HOSTILE: HOSTILE, "list": [HOSTILE, { "deep": HOSTILE }] },
    })
}

/// A 15-minute viewer token for the SaaS user `saas-user-7`, shown as `name`.
async fn viewer_token(app: &TestApp, admin_key: &str, role: &str, name: &str) -> String {
    let minted = app
        .graphql(
            CREATE_VIEWER_TOKEN,
            json!({ "input": {
                "role": role,
                "subject": { "id": "saas-user-7", "name": name, "email": "sam@saas.test" },
                "expiresInSeconds": 900,
            } }),
            Some(admin_key),
        )
        .await;
    minted.field("createViewerToken")["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no viewer token: {}", minted.text))
        .to_owned()
}

async fn a_saas_page_embeds_the_viewer(backend: Backend) {
    let relay_port = free_port();
    let embedder_port = free_port();
    let embedder = format!("http://127.0.0.1:{embedder_port}");
    let app = spawn_app_with(backend, |settings| {
        settings.frame_ancestors.frame_ancestors = vec![embedder.clone()];
        settings.origins.cors_origins = vec![embedder.clone()];
        settings.oidc.public_url = Some(format!("http://127.0.0.1:{relay_port}"));
    })
    .await;
    let tenant = app.create_tenant("acme", "ENTERPRISE").await;
    let hostile = app
        .record_ok(&tenant.admin_key, json!([hostile_event()]))
        .await;
    let token = viewer_token(&app, &tenant.admin_key, "AUDITOR", "Sam SaaS").await;
    // What the SaaS page hands over when it renews the token.
    let renewed = viewer_token(&app, &tenant.admin_key, "AUDITOR", "Sam Renewed").await;
    // A tenant of its own for the README's picture of demo data.
    let demo = app.create_tenant("demo", "ENTERPRISE").await;
    let demo_token = viewer_token(&app, &demo.admin_key, "ADMIN", "Sam SaaS").await;
    run_browser(
        "embedded.test.mjs",
        &[
            ("AUDITLOG_URL", app.address.clone()),
            ("AUDITLOG_RELAY_PORT", relay_port.to_string()),
            ("AUDITLOG_EMBEDDER_PORT", embedder_port.to_string()),
            ("AUDITLOG_ADMIN_KEY", tenant.admin_key.clone()),
            ("AUDITLOG_TOKEN", token),
            ("AUDITLOG_RENEWED_TOKEN", renewed),
            ("AUDITLOG_DEMO_KEY", demo.admin_key.clone()),
            ("AUDITLOG_DEMO_TOKEN", demo_token),
            (
                "AUDITLOG_HOSTILE_ID",
                hostile[0]["id"].as_str().unwrap().to_owned(),
            ),
            ("AUDITLOG_HOSTILE", HOSTILE.to_owned()),
            ("AUDITLOG_BACKEND", backend.to_string()),
        ],
    )
    .await
    .assert_counts(6, 0);
}

backend_tests!(a_saas_page_embeds_the_viewer);
