//! At most `AUDITLOG_EXPORT_MAX_CONCURRENT_PER_TENANT` exports per tenant at
//! once (429 `EXPORT_IN_PROGRESS` and `Retry-After` beyond, other tenants
//! unaffected, the place freed when an export's connection goes), and
//! `audit_log.export` recorded for a complete and for an aborted export.

use std::time::Duration;

use auditlog_tests::{Backend, TestApp, backend_tests, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{NDJSON, UNTIL, export, header_sequence, ndjson, ok, request};
use crate::limits::big_events;

/// Far more body than the sockets between the server and an unread response
/// buffer, so an export nobody reads stays open.
async fn record_big_log(app: &TestApp, key: &str) {
    for _ in 0..10 {
        app.record_ok(key, big_events(40, 60_000)).await;
    }
}

/// The `audit_log.export` events of the tenant, oldest first, once there are
/// `count` of them (a disconnected export is recorded by a task of its own).
async fn export_records(app: &TestApp, key: &str, count: usize) -> Vec<Value> {
    for _ in 0..200 {
        let mut found = app
            .all_events(key, json!({ "actions": ["audit_log.export"] }))
            .await;
        if found.len() >= count {
            found.reverse();
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {count} audit_log.export events were recorded");
}

async fn a_tenant_runs_two_exports_at_once_and_each_is_recorded(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.limits.export_max_concurrent_per_tenant = 2;
    })
    .await;
    let acme = app.create_tenant("acme", "TEAM").await;
    let globex = app.create_tenant("globex", "TEAM").await;
    let key = acme.admin_key.as_str();
    record_big_log(&app, key).await;

    // A complete export, recorded with what it sent.
    let filter = r#"{"actionPrefix":"big."}"#;
    let complete = ok(export(&app, NDJSON, &[("filter", filter)], Some(key)).await);
    let (lines, manifest) = ndjson(&complete.body);
    assert!(manifest.is_some());
    let records = export_records(&app, key, 1).await;
    let record = &records[0];
    assert_eq!(record["outcome"], "SUCCESS", "{record}");
    assert_eq!(record["actor"]["type"], "API_KEY");
    assert_eq!(record["actor"]["actorId"], acme.admin_key_id.as_str());
    assert_eq!(
        record["payload"],
        json!({
            "format": "ndjson",
            "filter": { "actionPrefix": "big." },
            "afterSequence": 0,
            "untilSequence": complete.sequence_header(UNTIL),
            "count": lines.len(),
            "bytes": complete.body.len(),
            "complete": true,
        })
    );

    // Two exports held open (their bodies unread) fill the tenant's places.
    let first = request(&app, NDJSON, &[], Some(key), &[]).await;
    let mut second = request(&app, NDJSON, &[], Some(key), &[]).await;
    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    let third = export(&app, NDJSON, &[], Some(key)).await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(third.code(), "EXPORT_IN_PROGRESS", "{}", third.problem());
    assert!(third.headers.contains_key("retry-after"));
    let other = ok(export(&app, NDJSON, &[], Some(&globex.admin_key)).await);
    assert!(
        ndjson(&other.body).1.is_some(),
        "another tenant exports meanwhile"
    );

    // A client that goes away mid-body: its place is freed and the export
    // recorded as a failure.
    let until = header_sequence(second.headers(), UNTIL);
    let chunk = second.chunk().await.expect("a chunk").expect("some body");
    assert!(!chunk.is_empty());
    drop(second);
    let records = export_records(&app, key, 2).await;
    let aborted = &records[1];
    assert_eq!(aborted["outcome"], "FAILURE", "{aborted}");
    let payload = &aborted["payload"];
    assert_eq!(payload["complete"], false);
    assert_eq!(payload["untilSequence"], until);
    assert_eq!(payload["filter"], Value::Null);
    assert!(
        payload["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("disconnected")),
        "{payload}"
    );
    assert!(payload["count"].as_u64() < Some(until as u64), "{payload}");
    let again = request(&app, NDJSON, &[], Some(key), &[]).await;
    assert_eq!(again.status(), StatusCode::OK, "the freed place is taken");
    drop((first, again));
}

backend_tests!(a_tenant_runs_two_exports_at_once_and_each_is_recorded);
