//! `createTenant` (operator only) and the `tenant` query.

use auditlog_tests::{Backend, backend_tests, spawn_app};
use serde_json::json;

async fn operator_creates_a_tenant_with_an_admin_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = Some(app.operator_token.as_str());
    let response = app
        .create_tenant_as(operator, "acme-corp", "Acme Corp", "ENTERPRISE")
        .await;
    let created = response.field("createTenant").clone();
    let tenant = &created["tenant"];
    assert_eq!(
        (&tenant["slug"], &tenant["name"], &tenant["plan"]),
        (
            &json!("acme-corp"),
            &json!("Acme Corp"),
            &json!("ENTERPRISE")
        )
    );
    assert_eq!(created["adminKey"]["apiKey"]["role"], "ADMIN");
    let secret = created["adminKey"]["secret"].as_str().expect("a secret");

    let read = app.tenant(Some(secret)).await;
    assert_eq!(
        read.field("tenant"),
        tenant,
        "the tenant query returns the caller's tenant"
    );
}

async fn rejects_duplicate_and_malformed_slugs(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = Some(app.operator_token.as_str());
    app.create_tenant("acme", "TEAM").await;
    app.create_tenant_as(operator, "acme", "Again", "TEAM")
        .await
        .assert_error("CONFLICT");

    let too_long = "a".repeat(64);
    for slug in [
        "",
        "a",
        "Acme",
        "-acme",
        "acme_corp",
        "acme corp",
        "acmé",
        too_long.as_str(),
    ] {
        let response = app.create_tenant_as(operator, slug, "Bad", "TEAM").await;
        response.assert_error("BAD_USER_INPUT");
    }
    // The longest valid slug (63 characters) and one with digits and hyphens.
    app.create_tenant(&"a".repeat(63), "TEAM").await;
    app.create_tenant("0-day-2", "TEAM").await;
}

backend_tests!(
    operator_creates_a_tenant_with_an_admin_key,
    rejects_duplicate_and_malformed_slugs
);
