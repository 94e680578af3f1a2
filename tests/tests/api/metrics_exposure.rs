//! Issue 12, finding 9: `/metrics` describes every tenant's traffic, so it is
//! served on its own listener (loopback by default) and on the main port only
//! to holders of `AUDITLOG_METRICS_TOKEN`; its operation labels come from the
//! schema's root fields, never from names clients choose.

use std::collections::HashSet;

use auditlog_tests::{Backend, backend_tests, spawn_app_with};
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::app_with_tenant;

const METRICS_TOKEN: &str = "metrics-token-0123456789abcdef0123456789";

async fn metrics_are_not_on_the_public_port_without_a_token(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    app.graphql("{ tenant { id } }", Value::Null, Some(&tenant.admin_key))
        .await
        .field("tenant");
    let public = app.get("/metrics", "text/plain", None).await;
    assert_eq!(public.status, StatusCode::NOT_FOUND, "{}", public.text);
    let operator = app
        .get("/metrics", "text/plain", Some(&app.operator_token))
        .await;
    assert_eq!(operator.status, StatusCode::NOT_FOUND);
    // The metrics listener has them.
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("auditlog_graphql_operations_total{operation=\"tenant\""),
        "{metrics}"
    );
}

async fn the_main_port_serves_metrics_only_with_the_token(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.metrics.metrics_token = Some(METRICS_TOKEN.into());
    })
    .await;
    for bearer in [None, Some("wrong"), Some(app.operator_token.as_str())] {
        let refused = app.get("/metrics", "text/plain", bearer).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{bearer:?}");
        assert!(!refused.text.contains("auditlog_"), "{}", refused.text);
    }
    let allowed = app.get("/metrics", "text/plain", Some(METRICS_TOKEN)).await;
    assert_eq!(allowed.status, StatusCode::OK);
    assert!(allowed.text.contains("auditlog_http_requests_total"));
}

/// The `operation` label values of `auditlog_graphql_operations_total`.
fn operation_labels(metrics: &str) -> HashSet<String> {
    metrics
        .lines()
        .filter(|line| line.starts_with("auditlog_graphql_operations_total{"))
        .filter_map(|line| line.split("operation=\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

async fn a_thousand_operation_names_make_no_new_series(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let app_ref = &app;
    futures::stream::iter(0..1000)
        .for_each_concurrent(16, |i| async move {
            let document = format!("query ProbeName{i} {{ tenant {{ id }} }}");
            app_ref
                .graphql(&document, Value::Null, Some(key))
                .await
                .field("tenant");
        })
        .await;
    // Aliases and several root fields are not labels either.
    app.graphql(
        "query Other { a: tenant { id } b: tenant { id } }",
        Value::Null,
        Some(key),
    )
    .await
    .field("a");
    let labels = operation_labels(&app.metrics().await);
    assert!(labels.contains("tenant"), "{labels:?}");
    assert!(
        labels
            .iter()
            .all(|label| !label.starts_with("Probe") && label != "Other"),
        "a client-chosen name became a label: {labels:?}"
    );
    // Bounded by the schema's root fields (plus `multiple` and `other`),
    // whatever the other tests of this process sent.
    assert!(labels.len() < 60, "{} labels: {labels:?}", labels.len());
}

backend_tests!(
    metrics_are_not_on_the_public_port_without_a_token,
    the_main_port_serves_metrics_only_with_the_token,
    a_thousand_operation_names_make_no_new_series,
);
