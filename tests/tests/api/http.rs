//! The HTTP surface around GraphQL: health check, GraphiQL for browsers, queries
//! over GET, JSON responses.

use auditlog_tests::{Backend, backend_tests, spawn_app, spawn_app_with};
use reqwest::StatusCode;

use crate::helpers::app_with_tenant;

async fn health_check_answers_200(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/healthz", "*/*", None).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
}

async fn readiness_and_metrics_answer(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let ready = app.get("/readyz", "*/*", None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    let named = app
        .graphql(
            "mutation MeteredRecord($e: [AuditEventInput!]!) { recordAuditEvents(events: $e) { events { id } } }",
            serde_json::json!({ "e": crate::helpers::events("entry.metered", 2) }),
            Some(&tenant.admin_key),
        )
        .await;
    named.field("recordAuditEvents");
    let metrics = app.metrics().await;
    // The recorder is shared by every app of this test process, so check that
    // the series exist rather than exact values.
    for series in [
        "auditlog_http_requests_total{",
        "auditlog_http_request_duration_seconds",
        // Labelled by the root field, not by the client's operation name.
        "auditlog_graphql_operations_total{operation=\"recordAuditEvents\",outcome=\"ok\"}",
        "auditlog_graphql_operation_duration_seconds",
        "auditlog_events_ingested_total{plan=\"",
        "auditlog_live_subscribers",
        "auditlog_db_pool_connections{state=\"open\"}",
    ] {
        assert!(
            metrics.contains(series),
            "{series} missing from /metrics:\n{metrics}"
        );
    }
}

async fn browsers_get_graphiql_in_development_mode(backend: Backend) {
    let app = spawn_app_with(backend, |settings| settings.dev = true).await;
    let response = app
        .get("/graphql", "text/html,application/xhtml+xml", None)
        .await;
    assert_eq!(response.status, StatusCode::OK);
    let page = response.text.to_lowercase();
    assert!(
        page.contains("<html") && page.contains("graphiql"),
        "not a GraphiQL page: {}",
        response.text
    );
}

async fn production_mode_serves_no_graphiql(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .get("/graphql", "text/html,application/xhtml+xml", None)
        .await;
    assert_ne!(response.status, StatusCode::OK);
    assert!(
        !response.text.to_lowercase().contains("graphiql"),
        "GraphiQL served in production mode: {}",
        response.text
    );
}

async fn queries_work_over_get(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let response = app
        .get_graphql(
            "{ tenant { slug } }",
            "application/json",
            Some(&tenant.admin_key),
        )
        .await;
    assert_eq!(response.field("tenant")["slug"], "acme");
}

async fn answers_json(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let response = app
        .graphql(
            "{ tenant { slug } }",
            serde_json::Value::Null,
            Some(&tenant.admin_key),
        )
        .await;
    let content_type = response.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/json")
            || content_type.starts_with("application/graphql-response+json"),
        "{content_type}"
    );
}

backend_tests!(
    readiness_and_metrics_answer,
    health_check_answers_200,
    browsers_get_graphiql_in_development_mode,
    production_mode_serves_no_graphiql,
    queries_work_over_get,
    answers_json
);
