//! People in the viewer, signed in through the real OpenID Provider of
//! `tests/oidc` (its login and consent forms, filled in by the browser):
//! Alice (ADMIN of `acme`), Bob (AUDITOR of `acme`) and Carol (ADMIN of
//! `beta`). `sign-in.test.mjs` filters, opens details, shares a permalink
//! with Bob (shown) and Carol (not found), changes retention and legal hold
//! as Alice, checks that Bob sees no settings, follows live events over the
//! session cookie, exports, and signs out.

use auditlog_tests::{Backend, TestApp, backend_tests};
use chrono::{Duration, Utc};
use serde_json::{Map, Value, json};

use super::run_browser;
use crate::oidc::fixture;

/// The seeded events of `acme`, by the name the browser test knows them by:
/// two users, three actions, spread over the presets' boundaries (1 hour,
/// 2 hours, 3 days, 10 days, 20 days ago).
fn seed() -> Vec<(&'static str, Value)> {
    let event = |action: &str, user: (&str, &str), hours_ago: i64, outcome: &str| {
        json!({
            "action": action,
            "actor": { "type": "USER", "id": user.0, "name": user.1, "email": format!("{}@acme.test", user.0) },
            "target": { "type": "document", "id": "d-1", "name": "Plan" },
            "outcome": outcome,
            "occurredAt": (Utc::now() - Duration::hours(hours_ago)).to_rfc3339(),
            "context": { "ipAddress": "203.0.113.9", "userAgent": "Mozilla/5.0 (seed)", "requestId": format!("req-{action}-{hours_ago}") },
            "payload": { "changes": { "title": ["Draft", "Plan"] }, "hoursAgo": hours_ago },
        })
    };
    let ann = ("u-ann", "Ann Archer");
    let ben = ("u-ben", "Ben Baker");
    vec![
        (
            "create_ann_20d",
            event("project.create", ann, 20 * 24, "SUCCESS"),
        ),
        (
            "delete_ben_10d",
            event("document.delete", ben, 10 * 24, "FAILURE"),
        ),
        (
            "update_ann_3d",
            event("document.update", ann, 3 * 24, "SUCCESS"),
        ),
        ("update_ben_2h", event("document.update", ben, 2, "SUCCESS")),
        ("login_ann_1h", event("user.login", ann, 1, "SUCCESS")),
    ]
}

/// Records [`seed`] into the key's tenant: `{ name: id }`.
async fn record_seed(app: &TestApp, key: &str) -> Value {
    let seed = seed();
    let events: Vec<Value> = seed.iter().map(|(_, event)| event.clone()).collect();
    let recorded = app.record_ok(key, json!(events)).await;
    let mut ids = Map::new();
    for ((name, _), event) in seed.iter().zip(&recorded) {
        ids.insert((*name).to_owned(), event["id"].clone());
    }
    Value::Object(ids)
}

async fn people_sign_in_and_use_the_viewer(backend: Backend) {
    let f = fixture(backend).await;
    let ids = record_seed(&f.app, &f.acme.admin_key).await;
    // An event of the other tenant, which no one of acme may open.
    let beta = f
        .app
        .record_ok(
            &f.beta.admin_key,
            json!([{ "action": "document.update", "actor": { "type": "USER", "id": "u-x" } }]),
        )
        .await;
    run_browser(
        "sign-in.test.mjs",
        &[
            ("AUDITLOG_URL", f.app.address.clone()),
            ("AUDITLOG_ADMIN_KEY", f.acme.admin_key.clone()),
            ("AUDITLOG_EVENTS", ids.to_string()),
            (
                "AUDITLOG_OTHER_TENANT_EVENT",
                beta[0]["id"].as_str().unwrap().to_owned(),
            ),
            ("AUDITLOG_BACKEND", backend.to_string()),
        ],
    )
    .await
    .assert_counts(8, 0);
}

backend_tests!(people_sign_in_and_use_the_viewer);
