//! The details panel's "Verify" (issue 19): the viewer checks an event's
//! inclusion proof and the signed head in the browser (`verified.test.mjs`).
//! A tenant of five events (and its own self-audit ones) gets a head signed by the worker's signer in the
//! test process (the harness turns the scheduled one off); then one event's
//! payload is changed in the database behind the service's back, as in
//! `integrity::tampering`, and one more event is recorded after the head.
//! The browser must show "Verified" for an intact event, the leaf-hash
//! failure for the edited one, and "cannot be verified yet" for the newest.

use auditlog_tests::{Backend, database, spawn_app_with};
use auditlog_worker::tree_heads::TreeHeadSigner;
use chrono::{Duration, SecondsFormat, Utc};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use super::run_browser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_viewer_verifies_an_event_in_the_browser() {
    let app = spawn_app_with(Backend::Sqlite, |settings| settings.dev = true).await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    let auditor = app
        .create_api_key(&tenant.admin_key, "viewer", "AUDITOR")
        .await;
    // Milliseconds only: the leaf must get six digits back from the API's text.
    let at = (Utc::now() - Duration::minutes(5)).to_rfc3339_opts(SecondsFormat::Millis, true);
    // Leaves that exercise the canonical encoding: numbers ECMAScript
    // writes in exponent form, -0, a fraction, keys sorted by UTF-16 code
    // units (not code points), nesting, markup (shown as text).
    let events: Vec<Value> = (0..5)
        .map(|i| {
            json!({
                "action": "document.update",
                "actor": { "type": "USER", "id": format!("u-{i}"), "name": "Zoë <b>Admin</b>", "email": "zoe@example.com" },
                "target": { "type": "document", "id": format!("d-{i}"), "name": "Q4 plan" },
                "occurredAt": at,
                "context": { "ipAddress": "203.0.113.9", "userAgent": "Mozilla/5.0", "requestId": format!("req-{i}") },
                "payload": {
                    "amount": 10, "numbers": [1e21, -0.0, 0.1, 1e-7, -5, 333_333_333.333_333_3],
                    "\u{20ac}": "<img src=x>", "\u{1f600}": { "z": null, "a": [true, false] },
                    "\u{fb33}": 1, "\r": "line\nbreak", "1": "one",
                },
            })
        })
        .collect();
    let recorded = app.record_ok(&tenant.admin_key, json!(events)).await;
    let id = |i: usize| recorded[i]["id"].as_str().unwrap().to_owned();

    let db = database::connect(app.database_url()).await;
    TreeHeadSigner::new(db, None).run_pass().await.unwrap();
    let head = app
        .graphql(
            "{ auditLogTreeHead { treeSize } }",
            json!({}),
            Some(&tenant.admin_key),
        )
        .await
        .field("auditLogTreeHead")
        .clone();
    let tree_size = head["treeSize"].as_u64().unwrap();
    assert!(tree_size >= 5, "{head}");

    // Behind the service's back (SQLite: the superuser's URL is the app's).
    let superuser = database::connect(app.superuser_database_url()).await;
    let tampered = id(3);
    let statement = Statement::from_sql_and_values(
        superuser.get_database_backend(),
        "UPDATE audit_events SET payload = '{\"amount\":1000}' WHERE id = ?",
        [tampered.parse::<uuid::Uuid>().unwrap().into()],
    );
    assert_eq!(
        superuser
            .execute_raw(statement)
            .await
            .unwrap()
            .rows_affected(),
        1
    );

    let newest = app
        .record_ok(
            &tenant.admin_key,
            json!([{ "action": "entry.create", "actor": { "type": "SYSTEM", "id": "cron" } }]),
        )
        .await;

    run_browser(
        "verified.test.mjs",
        &[
            ("AUDITLOG_URL", app.address.clone()),
            ("AUDITLOG_AUDITOR_KEY", auditor.secret.clone()),
            ("AUDITLOG_VERIFIED_ID", id(1)),
            ("AUDITLOG_TAMPERED_ID", tampered),
            (
                "AUDITLOG_PENDING_ID",
                newest[0]["id"].as_str().unwrap().to_owned(),
            ),
            ("AUDITLOG_TREE_SIZE", tree_size.to_string()),
            ("AUDITLOG_BACKEND", "sqlite".to_owned()),
        ],
    )
    .await
    .assert_counts(5, 0);
}
