//! Apollo's automatic persisted queries (APQ) over POST and GET, and the
//! parsed-document cache under them: a hash-only request finds a document
//! only if a caller of the same tenant sent its text; an unknown hash is
//! `PERSISTED_QUERY_NOT_FOUND` (message `PersistedQueryNotFound`, what
//! Apollo's `PersistedQueryLink` retries on); a hash that is not the text's
//! SHA-256 is refused and runs nothing; a refused document is never cached;
//! a cached validation outcome never stands in for other variables.
//! The Node suites (`frontend_clients`) run the real `PersistedQueryLink`.

use auditlog_tests::{Backend, GqlResponse, TestApp, backend_tests, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{app_with_tenant, event};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const TENANT: &str = "query Tenant { tenant { slug } }";

fn sha256(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

/// POST of a hash alone.
async fn post_hash(app: &TestApp, hash: &str, key: Option<&str>, accept: &str) -> GqlResponse {
    app.post_json(
        &json!({ "extensions": persisted(hash) }),
        key,
        &[("accept", accept)],
    )
    .await
}

/// POST of the text with its hash (what the link sends after a miss).
async fn post_text(app: &TestApp, query: &str, key: Option<&str>) -> GqlResponse {
    app.post_json(
        &json!({ "query": query, "extensions": persisted(&sha256(query)) }),
        key,
        &[],
    )
    .await
}

#[track_caller]
fn assert_not_found(response: &GqlResponse) {
    response.assert_error("PERSISTED_QUERY_NOT_FOUND");
    assert_eq!(response.error_message(), "PersistedQueryNotFound");
    assert!(response.body.get("data").is_none(), "{}", response.text);
}

async fn an_unknown_hash_is_not_found_and_the_text_registers_it(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = Some(tenant.admin_key.as_str());
    let hash = sha256(TENANT);

    let missing = post_hash(&app, &hash, key, "application/json").await;
    assert_eq!(missing.status, StatusCode::OK);
    assert_not_found(&missing);
    let missing = post_hash(&app, &hash, key, GRAPHQL_RESPONSE_JSON).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_not_found(&missing);

    let registered = post_text(&app, TENANT, key).await;
    assert_eq!(registered.ok()["tenant"]["slug"], tenant.slug.as_str());
    for accept in ["application/json", GRAPHQL_RESPONSE_JSON] {
        let found = post_hash(&app, &hash, key, accept).await;
        assert_eq!(found.status, StatusCode::OK);
        assert_eq!(found.ok()["tenant"]["slug"], tenant.slug.as_str());
    }
    // Upper-case hexadecimal names the same hash.
    let found = post_hash(&app, &hash.to_uppercase(), key, "application/json").await;
    assert_eq!(found.ok()["tenant"]["slug"], tenant.slug.as_str());
}

async fn persisted_queries_work_over_get(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = Some(tenant.admin_key.as_str());
    let extensions = persisted(&sha256(TENANT)).to_string();
    let hash_only = [
        ("extensions", extensions.as_str()),
        ("operationName", "Tenant"),
    ];
    let missing = app
        .get_graphql_params(&hash_only, GRAPHQL_RESPONSE_JSON, key)
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_not_found(&missing);

    let with_text = [
        ("query", TENANT),
        ("extensions", extensions.as_str()),
        ("operationName", "Tenant"),
    ];
    let registered = app
        .get_graphql_params(&with_text, GRAPHQL_RESPONSE_JSON, key)
        .await;
    assert_eq!(registered.ok()["tenant"]["slug"], tenant.slug.as_str());
    let found = app
        .get_graphql_params(&hash_only, GRAPHQL_RESPONSE_JSON, key)
        .await;
    assert_eq!(found.status, StatusCode::OK);
    assert_eq!(found.ok()["tenant"]["slug"], tenant.slug.as_str());

    // A mutation registered over POST still cannot run over GET by its hash.
    let record = r#"mutation { recordAuditEvents(events: [{ action: "apq.get", actor: { type: USER, id: "u" } }]) { events { id } } }"#;
    post_text(&app, record, key).await.ok();
    let recorded = app.event_count(&tenant.admin_key).await;
    let extensions = persisted(&sha256(record)).to_string();
    let refused = app
        .get_graphql_params(&[("extensions", &extensions)], GRAPHQL_RESPONSE_JSON, key)
        .await;
    assert_eq!(refused.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(refused.header("allow"), Some("POST"));
    refused.assert_error("METHOD_NOT_ALLOWED");
    assert_eq!(app.event_count(&tenant.admin_key).await, recorded);
}

async fn a_hash_that_is_not_the_texts_runs_nothing(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = Some(tenant.admin_key.as_str());
    let record =
        "mutation($e: [AuditEventInput!]!) { recordAuditEvents(events: $e) { events { id } } }";
    // The tenant's own creation is its first event.
    let before = app.event_count(&tenant.admin_key).await;
    let body = json!({
        "query": record,
        "variables": { "e": [event("apq.mismatch")] },
        "extensions": persisted(&sha256("{ tenant { slug } }")),
    });
    let refused = app.post_json(&body, key, &[]).await;
    refused.assert_error("PERSISTED_QUERY_HASH_MISMATCH");
    assert!(refused.body.get("data").is_none(), "{}", refused.text);
    assert_eq!(app.event_count(&tenant.admin_key).await, before);
    // Nor is the text registered under the wrong hash.
    assert_not_found(
        &post_hash(
            &app,
            &sha256("{ tenant { slug } }"),
            key,
            "application/json",
        )
        .await,
    );
}

async fn malformed_persisted_query_extensions_are_bad_requests(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = Some(tenant.admin_key.as_str());
    let hash = sha256(TENANT);
    for extension in [
        json!({ "version": 2, "sha256Hash": hash }),
        json!({ "sha256Hash": hash }),
        json!({ "version": 1 }),
        json!({ "version": 1, "sha256Hash": "not hex" }),
        json!({ "version": 1, "sha256Hash": &hash[..10] }),
        json!({ "version": 1, "sha256Hash": 7 }),
        json!("hash"),
    ] {
        let body = json!({ "extensions": { "persistedQuery": extension } });
        let refused = app
            .post_json(&body, key, &[("accept", GRAPHQL_RESPONSE_JSON)])
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{extension}");
        refused.assert_error("BAD_REQUEST");
    }
}

/// A document's text can hold a tenant's literals: another tenant (or no
/// credential) cannot learn by its hash that someone sent it.
async fn a_hash_finds_only_documents_of_the_callers_tenant(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let other = app.create_tenant("other-apq", "ENTERPRISE").await;
    let query = r#"{ auditEvents(filter: { actorIds: ["alice@acme.example"] }) { nodes { id } } }"#;
    post_text(&app, query, Some(&tenant.admin_key)).await.ok();
    let hash = sha256(query);
    assert!(
        post_hash(&app, &hash, Some(&tenant.admin_key), "application/json")
            .await
            .errors()
            .is_empty()
    );
    assert_not_found(&post_hash(&app, &hash, Some(&other.admin_key), "application/json").await);
    assert_not_found(&post_hash(&app, &hash, None, "application/json").await);
    assert_not_found(&post_hash(&app, &hash, Some(&app.operator_token), "application/json").await);
}

async fn refused_documents_are_never_cached(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = Some(tenant.admin_key.as_str());
    let deep = format!("{{ tenant {}{}}}", "{ slug ".repeat(40), "} ".repeat(40));
    let aliases: String = (0..150).map(|i| format!("a{i}: __typename ")).collect();
    let wide = format!("{{ {aliases} }}");
    for document in [
        deep.as_str(),
        wide.as_str(),
        "{ tenant { nope } }",
        "{ tenant ",
    ] {
        let refused = post_text(&app, document, key).await;
        assert!(!refused.errors().is_empty(), "{document}");
        assert_not_found(&post_hash(&app, &sha256(document), key, "application/json").await);
    }
}

/// The validation of a document is kept per variables: a cached success for
/// one page size never admits another.
async fn cached_validation_never_stands_in_for_other_variables(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let page = "query($first: Int, $outcome: Outcome) { auditEvents(first: $first, filter: { outcome: $outcome }) { nodes { id } } }";
    for _ in 0..3 {
        app.graphql(page, json!({ "first": 5 }), Some(&tenant.admin_key))
            .await
            .ok();
        app.graphql(page, json!({ "first": 100_000 }), Some(&tenant.admin_key))
            .await
            .assert_error_in(&["BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"]);
        app.graphql(page, json!({ "outcome": "MAYBE" }), Some(&tenant.admin_key))
            .await
            .assert_error("BAD_USER_INPUT");
        app.graphql(
            page,
            json!({ "outcome": "SUCCESS" }),
            Some(&tenant.admin_key),
        )
        .await
        .ok();
    }
}

/// `AUDITLOG_DOCUMENT_CACHE_BYTES=0`: nothing is kept, so every hash is
/// unknown; texts still run.
async fn without_a_cache_every_hash_is_unknown(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.query_limits.document_cache_bytes = 0;
    })
    .await;
    let tenant = app.create_tenant("no-cache", "ENTERPRISE").await;
    let key = Some(tenant.admin_key.as_str());
    assert_eq!(
        post_text(&app, TENANT, key).await.ok()["tenant"]["slug"],
        "no-cache"
    );
    assert_not_found(&post_hash(&app, &sha256(TENANT), key, "application/json").await);
}

/// GET honours `operationName` (GraphQL over HTTP's parameter name).
async fn get_selects_the_named_operation(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let document = "query A { tenant { slug } } query B { tenant { plan } }";
    let answer = app
        .get_graphql_params(
            &[("query", document), ("operationName", "B")],
            GRAPHQL_RESPONSE_JSON,
            Some(&tenant.admin_key),
        )
        .await;
    assert_eq!(answer.ok()["tenant"], json!({ "plan": "TEAM" }));
}

backend_tests!(
    an_unknown_hash_is_not_found_and_the_text_registers_it,
    persisted_queries_work_over_get,
    a_hash_that_is_not_the_texts_runs_nothing,
    malformed_persisted_query_extensions_are_bad_requests,
    a_hash_finds_only_documents_of_the_callers_tenant,
    refused_documents_are_never_cached,
    cached_validation_never_stands_in_for_other_variables,
    without_a_cache_every_hash_is_unknown,
    get_selects_the_named_operation,
);
