//! Bad read arguments: forged or garbage cursors, oversized pages, and documents
//! that would make the server do unbounded work (depth, aliases).

use auditlog_tests::{Backend, backend_tests, spawn_app_with};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{app_with_tenant, events};

/// `cursor` with one character in the middle changed (every middle character of a
/// base64 text carries signal bits, so the decoded bytes change too).
fn tampered(cursor: &str) -> String {
    let mut chars: Vec<char> = cursor.chars().collect();
    let middle = chars.len() / 2;
    chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

async fn rejects_forged_and_garbage_cursors(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    app.record_ok(key, events("cursor.probe", 5)).await;
    let page = app.page(key, json!({ "first": 2 })).await;
    let real = page.end_cursor.clone().expect("a cursor");
    let claim = json!({ "occurredAt": "2024-01-01T00:00:00Z", "id": Uuid::now_v7().to_string() })
        .to_string();

    let forged = [
        "garbage".to_owned(),
        "!!! not base64 !!!".to_owned(),
        tampered(&real),
        real[..real.len() / 2].to_owned(),
        format!("{real}AAAA"),
        STANDARD.encode(&claim),
        URL_SAFE_NO_PAD.encode(&claim),
        URL_SAFE_NO_PAD.encode("2024-01-01T00:00:00Z|00000000-0000-0000-0000-000000000000"),
    ];
    for cursor in &forged {
        assert_ne!(cursor, &real);
        for direction in [
            json!({ "first": 2, "after": cursor }),
            json!({ "last": 2, "before": cursor }),
        ] {
            let response = app.list(key, direction.clone()).await;
            assert!(
                response.error_code().as_deref() == Some("BAD_USER_INPUT"),
                "cursor {cursor:?} ({direction}) was not rejected: {}",
                response.text
            );
            response.assert_no_data();
        }
    }
    // The genuine cursor still works.
    let next = app.page(key, json!({ "first": 2, "after": real })).await;
    assert_eq!(next.nodes.len(), 2);
}

async fn rejects_page_sizes_over_500(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    for args in [
        json!({ "first": 501 }),
        json!({ "last": 501 }),
        json!({ "first": 100_000 }),
    ] {
        app.list(key, args).await.assert_error("BAD_USER_INPUT");
    }
}

/// A document nesting `levels` selection sets inside `__schema { types { ... } }`.
fn nested(levels: usize) -> String {
    let open = "fields { type { ofType { ".repeat(levels.div_ceil(3));
    let close = " } } }".repeat(levels.div_ceil(3));
    format!("{{ __schema {{ types {{ {open}name{close} }} }} }}")
}

async fn bounds_query_depth_and_breadth(backend: Backend) {
    // Introspection on (production refuses it outright): the deep documents
    // below nest introspection fields, the only deep paths in the schema.
    let app = spawn_app_with(backend, |settings| settings.introspection = Some(true)).await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    let key = Some(tenant.admin_key.as_str());
    // A bound may bite while parsing (nesting) or validating (depth, complexity,
    // selections); either way the request is refused before any work is done.
    let codes = &[
        "GRAPHQL_VALIDATION_FAILED",
        "BAD_USER_INPUT",
        "GRAPHQL_PARSE_FAILED",
    ];

    // Two thousand aliases of the largest page: 1,000,000 events in one request.
    let heavy: String = (0..2000)
        .map(|i| format!("a{i}: auditEvents(first: 500) {{ edges {{ node {{ id payload }} }} }} "))
        .collect();
    // Ten thousand aliases of the cheapest field there is.
    let cheap: String = (0..10_000).map(|i| format!("t{i}: __typename ")).collect();
    for document in [
        format!("{{ {heavy} }}"),
        format!("{{ {cheap} }}"),
        nested(20),
        nested(120),
    ] {
        let response = app.graphql(&document, Value::Null, key).await;
        response.assert_error_in(codes);
    }
    // An ordinary document passes the same bounds.
    app.graphql(&nested(3), Value::Null, key).await.ok();
}

backend_tests!(
    rejects_forged_and_garbage_cursors,
    rejects_page_sizes_over_500,
    bounds_query_depth_and_breadth
);
