//! Who may export what: another tenant's key sees nothing of this one; a
//! viewer token's scope is ANDed with the filter; a platform key exports
//! the tenant `Auditlog-Tenant` names, and an unknown or foreign one is
//! refused; PUBLISHER is refused, no credential is 401, bad parameters 400.

use auditlog_tests::{Backend, TestApp, backend_tests, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{CSV, NDJSON, export, export_with, ndjson, ok};
use crate::helpers::event;

const CREATE_VIEWER_TOKEN: &str = "mutation($input: ViewerTokenInput!) { \
     createViewerToken(input: $input) { token } }";
const CREATE_PLATFORM_KEY: &str = "mutation($name: String!, $role: PlatformRole!) { \
     createPlatformKey(name: $name, role: $role) { secret } }";

fn actions(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .map(|line| line["action"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn viewer_token(app: &TestApp, admin_key: &str, scope: Value) -> String {
    let input =
        json!({ "input": { "role": "AUDITOR", "subject": { "id": "dana" }, "scope": scope } });
    let answer = app
        .graphql(CREATE_VIEWER_TOKEN, input, Some(admin_key))
        .await;
    answer.field("createViewerToken")["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {}", answer.text))
        .to_owned()
}

#[track_caller]
fn refused(export: &super::Export, status: StatusCode, code: &str) {
    assert_eq!(
        export.status,
        status,
        "{}",
        String::from_utf8_lossy(&export.body)
    );
    assert_eq!(export.code(), code, "{}", export.problem());
}

async fn an_export_shows_only_what_the_credential_may_read(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = app.create_tenant("acme", "TEAM").await;
    let globex = app.create_tenant("globex", "TEAM").await;
    app.record_ok(&acme.admin_key, json!([event("a.one"), event("a.two")]))
        .await;
    app.record_ok(&globex.admin_key, json!([event("g.secret")]))
        .await;

    // Another tenant's key: its own log only.
    let theirs = ok(export(&app, NDJSON, &[], Some(&globex.admin_key)).await);
    let (lines, _) = ndjson(&theirs.body);
    assert!(actions(&lines).contains(&"g.secret".to_owned()));
    assert!(
        !actions(&lines)
            .iter()
            .any(|action| action.starts_with("a.")),
        "{lines:?}"
    );

    // A viewer token's scope narrows every export, whatever the filter says.
    let token = viewer_token(&app, &acme.admin_key, json!({ "actions": ["a.one"] })).await;
    for filter in [None, Some(r#"{"actions":["a.one","a.two"]}"#)] {
        let params: Vec<(&str, &str)> = filter.map(|f| ("filter", f)).into_iter().collect();
        let scoped = ok(export(&app, NDJSON, &params, Some(&token)).await);
        let (lines, manifest) = ndjson(&scoped.body);
        assert_eq!(actions(&lines), ["a.one"], "{filter:?}");
        assert!(manifest.is_some());
    }

    // A platform key: the named tenant, and only it.
    let created = app
        .graphql(
            CREATE_PLATFORM_KEY,
            json!({ "name": "saas", "role": "ADMIN" }),
            Some(&app.operator_token),
        )
        .await;
    let platform = created.field("createPlatformKey")["secret"]
        .as_str()
        .expect("a secret")
        .to_owned();
    let named = ok(export_with(
        &app,
        CSV,
        &[],
        Some(&platform),
        &[("Auditlog-Tenant", "acme")],
    )
    .await);
    let text = String::from_utf8_lossy(&named.body);
    assert!(
        text.contains("a.two") && !text.contains("g.secret"),
        "{text}"
    );
    let unknown = export_with(
        &app,
        NDJSON,
        &[],
        Some(&platform),
        &[("Auditlog-Tenant", "initech")],
    )
    .await;
    refused(&unknown, StatusCode::NOT_FOUND, "TENANT_NOT_FOUND");
    let unnamed = export(&app, NDJSON, &[], Some(&platform)).await;
    refused(&unnamed, StatusCode::BAD_REQUEST, "TENANT_REQUIRED");
    // A tenant's own key naming another tenant.
    let foreign = export_with(
        &app,
        NDJSON,
        &[],
        Some(&acme.admin_key),
        &[("Auditlog-Tenant", "globex")],
    )
    .await;
    refused(&foreign, StatusCode::FORBIDDEN, "FORBIDDEN");

    // PUBLISHER, no credential, a wrong one.
    let publisher = app
        .create_api_key(&acme.admin_key, "app server", "PUBLISHER")
        .await;
    let answer = export(&app, CSV, &[], Some(&publisher.secret)).await;
    refused(&answer, StatusCode::FORBIDDEN, "FORBIDDEN");
    refused(
        &export(&app, NDJSON, &[], None).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    );
    refused(
        &export(&app, NDJSON, &[], Some("alk_acme_not-a-key")).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    );

    // Parameters that mean nothing are refused, never ignored.
    for params in [
        vec![("filter", r#"{"actionz":["a.one"]}"#)],
        vec![("filter", "not json")],
        vec![("filter", r#"{"outcome":"MAYBE"}"#)],
        vec![("afterSequence", "-1")],
        vec![("untilSequence", "ten")],
        vec![("aftersequence", "1")],
    ] {
        let answer = export(&app, NDJSON, &params, Some(&acme.admin_key)).await;
        refused(&answer, StatusCode::BAD_REQUEST, "BAD_USER_INPUT");
    }
}

backend_tests!(an_export_shows_only_what_the_credential_may_read);
