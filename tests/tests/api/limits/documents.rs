//! Bounded work before and during parsing (issue 12, findings 1, 2, 3, 7):
//! documents nested, fanned out or decorated to crash or stall the service
//! are refused at once, on every transport, and the process stays up.
//!
//! - nesting (finding 1): lists, objects, selection sets, parentheses, in the
//!   document (POST, GET, WebSocket) and in `variables` (and so payloads);
//! - fragment fan-out (finding 2): spreads of undefined and defined
//!   fragments, unused fragment chains, inline fragments;
//! - amplifiers (finding 7): directives in every place, many errors;
//! - page size × aliases (finding 3): complexity and the response budget.

use std::time::Instant;

use auditlog_tests::ws::WsClient;
use auditlog_tests::{Backend, GqlResponse, TestApp, backend_tests, spawn_app_with};
use serde_json::{Value, json};

use super::{ANSWER_WITHIN, assert_alive, big_events, fan_out, nested};
use crate::helpers::app_with_tenant;

/// POSTs `query` and asserts an answer within [`ANSWER_WITHIN`].
async fn timed(app: &TestApp, query: &str, variables: Value, key: &str) -> GqlResponse {
    let started = Instant::now();
    let response = app.graphql(query, variables, Some(key)).await;
    assert!(
        started.elapsed() < ANSWER_WITHIN,
        "answered after {:?}: {}",
        started.elapsed(),
        response.text.chars().take(300).collect::<String>()
    );
    response
}

async fn deep_documents_are_refused_before_parsing(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    for levels in [2_000, 100_000] {
        let shapes = [
            // The finding: nested list literals.
            format!(
                "{{ auditEvent(id: {}) {{ id }} }}",
                nested("[", "1", "]", levels)
            ),
            // Object literals.
            format!(
                "{{ auditEvent(id: {}) {{ id }} }}",
                nested("{a:", "1", "}", levels)
            ),
            // Selection sets.
            nested("{ a ", "", "}", levels),
            // Parentheses (not valid GraphQL, but the parser recurses on them).
            format!("{{ a{} }}", nested("(", "", ")", levels)),
            // Values inside a directive argument.
            format!(
                "{{ __typename @include(if: {}) }}",
                nested("[", "true", "]", levels)
            ),
        ];
        for document in &shapes {
            let response = timed(&app, document, Value::Null, key).await;
            response.assert_error("GRAPHQL_PARSE_FAILED");
            assert_eq!(response.status, 200, "application/json: errors with 200");
        }
    }
    // Too long, or too many tokens, for the scan.
    for document in [
        format!("{{ __typename }} # {}", "x".repeat(2 * 1024 * 1024)),
        format!("{{ auditEvent(id: [{}]) {{ id }} }}", "1 ".repeat(60_000)),
    ] {
        timed(&app, &document, Value::Null, key)
            .await
            .assert_error("GRAPHQL_PARSE_FAILED");
    }
    // Under graphql-response+json a refused document is a 400, like other request errors.
    let response = app
        .post_json(
            &json!({ "query": nested("{ a ", "", "}", 5_000) }),
            Some(key),
            &[("accept", "application/graphql-response+json")],
        )
        .await;
    assert_eq!(response.status, 400);
    // Strings, block strings and comments full of brackets are no nesting.
    let quoted = format!(
        "{{ a: __typename # {} \n b: __typename @skip(if: false) }}",
        "[".repeat(10_000)
    );
    timed(&app, &quoted, Value::Null, key).await.ok();
    assert_alive(&app).await;
}

async fn deep_documents_are_refused_over_get(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = Some(tenant.admin_key.as_str());
    // (Longer URLs than these are refused by the HTTP client already.)
    for levels in [2_000, 5_000] {
        for document in [
            format!(
                "{{ auditEvent(id: {}) {{ id }} }}",
                nested("[", "1", "]", levels)
            ),
            format!(
                "{{ auditEvent(id: {}) {{ id }} }}",
                nested("{a:", "1", "}", levels)
            ),
            nested("{ a ", "", "}", levels),
            // GET also looks for mutations before executing: that must not parse it.
            format!("mutation {{ a(x: {}) }}", nested("[", "1", "]", levels)),
        ] {
            let started = Instant::now();
            let response = app.get_graphql(&document, "application/json", key).await;
            assert!(started.elapsed() < ANSWER_WITHIN);
            // Long URLs may be refused by the HTTP layer first; never a crash.
            if response.status == 200 {
                response.assert_error("GRAPHQL_PARSE_FAILED");
            } else {
                assert!(response.status.is_client_error(), "{}", response.status);
            }
        }
    }
    assert_alive(&app).await;
}

async fn deep_variables_are_refused(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let record = auditlog_tests::queries::RECORD_EVENTS;
    // Past serde_json's own limit (128): not JSON the service will read.
    for levels in [200, 100_000] {
        let body = format!(
            r#"{{"query": "query($v: String) {{ __typename }}", "variables": {{"v": {}}}}}"#,
            nested("[", "1", "]", levels)
        );
        let response = app.post_raw(body, "application/json", Some(key)).await;
        assert_eq!(response.status, 400, "{}", response.text);
        let payload = format!(
            r#"{{"query": {}, "variables": {{"events": [{{"action": "a.b", "actor": {{"type": "USER", "id": "u"}}, "payload": {}}}]}}}}"#,
            serde_json::to_string(record).unwrap_or_default(),
            nested(r#"{"a":"#, "1", "}", levels)
        );
        let response = app.post_raw(payload, "application/json", Some(key)).await;
        assert_eq!(response.status, 400, "{}", response.text);
    }
    // Within serde_json's limit but over AUDITLOG_MAX_NESTING (64).
    let deep = serde_json::from_str::<Value>(&nested("[", "1", "]", 100)).unwrap_or_default();
    let response = timed(
        &app,
        "query($v: Int) { __typename }",
        json!({ "v": deep }),
        key,
    )
    .await;
    response.assert_error("BAD_USER_INPUT");
    let payload =
        serde_json::from_str::<Value>(&nested(r#"{"a":"#, "1", "}", 100)).unwrap_or_default();
    let events =
        json!([{ "action": "a.b", "actor": { "type": "USER", "id": "u" }, "payload": payload }]);
    let response = timed(&app, record, json!({ "events": events }), key).await;
    response.assert_error("BAD_USER_INPUT");
    // A payload nested 50 deep is an ordinary payload.
    let payload =
        serde_json::from_str::<Value>(&nested(r#"{"a":"#, "1", "}", 50)).unwrap_or_default();
    let events =
        json!([{ "action": "a.b", "actor": { "type": "USER", "id": "u" }, "payload": payload }]);
    timed(&app, record, json!({ "events": events }), key)
        .await
        .ok();
    // Only that one was recorded (beside the tenant's own creation event).
    let stored = app.all_events(key, json!({ "actions": ["a.b"] })).await;
    assert_eq!(stored.len(), 1);
    // Over GET too.
    let url = reqwest::Url::parse_with_params(
        &app.url("/graphql"),
        [
            ("query", "query($v: Int) { __typename }".to_owned()),
            (
                "variables",
                format!(r#"{{"v": {}}}"#, nested("[", "1", "]", 5_000)),
            ),
        ],
    )
    .unwrap_or_else(|e| panic!("bad URL: {e}"));
    let response = app
        .client
        .get(url)
        .bearer_auth(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET /graphql failed: {e}"));
    assert!(response.status().is_client_error(), "{}", response.status());
    assert_alive(&app).await;
}

async fn deep_documents_are_refused_over_websocket(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let url = app.url("/graphql").replacen("http://", "ws://", 1);
    let mut ws = WsClient::connect_and_init(&url, &tenant.admin_key).await;
    let document = format!(
        "subscription {{ auditEventRecorded(afterSequence: {}) {{ id }} }}",
        nested("[", "0", "]", 100_000)
    );
    ws.subscribe("1", &document, Value::Null).await;
    let message = ws.next_json().await;
    assert_eq!(message["type"], "error", "{message}");
    assert_eq!(
        message["payload"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED",
        "{message}"
    );
    // Deep variables inside the message: the message is not JSON the service reads.
    ws.send(json!({ "type": "subscribe", "id": "2", "payload": {
        "query": "subscription($v: Sequence) { auditEventRecorded(afterSequence: $v) { id } }",
        "variables": { "v": serde_json::from_str::<Value>(&nested("[", "0", "]", 100)).unwrap_or_default() },
    } }))
    .await;
    let message = ws.next_json().await;
    assert_eq!(
        message["payload"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{message}"
    );
    assert_alive(&app).await;
}

async fn fragment_fan_out_is_refused_at_once(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    // The finding (F28 undefined, 1.2 KB) and the same with F28 defined, which
    // async-graphql's own checks and complexity visitor expand without memo.
    for document in [fan_out(28, false), fan_out(28, true), fan_out(60, true)] {
        timed(&app, &document, Value::Null, key)
            .await
            .assert_error("GRAPHQL_VALIDATION_FAILED");
    }
    // Wide instead of deep: 300 spreads of one fragment spreading 300 others.
    let spreads: String = (0..300).map(|_| "...A ").collect();
    let wide = format!(
        "{{ {spreads} }} fragment A on Query {{ {} }}",
        "...B ".repeat(300)
    ) + " fragment B on Query { __typename }";
    timed(&app, &wide, Value::Null, key)
        .await
        .assert_error("GRAPHQL_VALIDATION_FAILED");
    // A chain of unused fragments, which validation would walk from each one.
    let mut unused = String::from("{ __typename } ");
    for i in 0..3000 {
        unused.push_str(&format!("fragment U{i} on Query {{ ...U{} }} ", i + 1));
    }
    timed(&app, &unused, Value::Null, key)
        .await
        .assert_error("GRAPHQL_VALIDATION_FAILED");
    // Inline fragments: many of them, and nested ones.
    let inline = format!("{{ {} }}", "... on Query { __typename } ".repeat(400));
    timed(&app, &inline, Value::Null, key)
        .await
        .assert_error("GRAPHQL_VALIDATION_FAILED");
    let nested_inline = nested("{ ... on Query ", "{ __typename }", "}", 60);
    timed(&app, &nested_inline, Value::Null, key)
        .await
        .assert_error_in(&["GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"]);
    // Several at once (two stalled the service before): all answered, and
    // `/healthz` meanwhile.
    let attacks = (0..4).map(|i| {
        let document = fan_out(28, i % 2 == 0);
        let app = &app;
        async move { timed(app, &document, Value::Null, key).await }
    });
    let (answers, ()) = futures::join!(futures::future::join_all(attacks), assert_alive(&app));
    for answer in answers {
        answer.assert_error("GRAPHQL_VALIDATION_FAILED");
    }
    // A small fan-out of defined fragments is an ordinary document.
    timed(&app, &fan_out(3, true), Value::Null, key).await.ok();
    assert_alive(&app).await;
}

async fn directives_are_capped_everywhere(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let five = "@include(if: true) ".repeat(5);
    for document in [
        format!("query Q {five} {{ __typename }}"),
        format!("query Q($v: Int {five}) {{ __typename }}"),
        format!("{{ __typename {five} }}"),
        format!("{{ ...F {five} }} fragment F on Query {{ __typename }}"),
        format!("{{ ... on Query {five} {{ __typename }} }}"),
        format!("{{ ...F }} fragment F on Query {five} {{ __typename }}"),
    ] {
        timed(&app, &document, Value::Null, key)
            .await
            .assert_error_in(&["GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"]);
    }
    // Within each place's cap, but too many in the document.
    let spread_out: String = (0..60)
        .map(|i| format!("a{i}: __typename @skip(if: false) "))
        .collect();
    timed(&app, &format!("{{ {spread_out} }}"), Value::Null, key)
        .await
        .assert_error("GRAPHQL_VALIDATION_FAILED");
    // The finding: 0.9 MB of `@x` answered with a small error, not 38.7 MB.
    for document in [
        format!("query {} {{ __typename }}", "@x ".repeat(300_000)),
        format!(
            "{{ ...F {} }} fragment F on Query {{ __typename }}",
            "@x".repeat(450_000)
        ),
        format!(
            "{{ ... on Query {} {{ __typename }} }}",
            "@x ".repeat(300_000)
        ),
    ] {
        let response = timed(&app, &document, Value::Null, key).await;
        response.assert_error_in(&["GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"]);
        assert!(response.text.len() < 4096, "{} bytes", response.text.len());
    }
    // Many errors of another kind: at most 100 and a summary.
    let unknown: String = (0..300).map(|i| format!("unknown{i} ")).collect();
    let response = timed(&app, &format!("{{ {unknown} }}"), Value::Null, key).await;
    assert_eq!(response.errors().len(), 101, "{}", response.text);
    assert!(
        response.errors()[100]["message"]
            .as_str()
            .is_some_and(|message| message.contains("more errors omitted"))
    );
    // Too many arguments on one field or directive.
    let arguments: String = (0..33).map(|i| format!("x{i}: 1 ")).collect();
    for document in [
        format!("{{ tenant({arguments}) {{ id }} }}"),
        format!("{{ __typename @include(if: true, {arguments}) }}"),
    ] {
        timed(&app, &document, Value::Null, key)
            .await
            .assert_error("GRAPHQL_VALIDATION_FAILED");
    }
    assert_alive(&app).await;
}

async fn page_size_multiplies_complexity(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    // The finding: 20 aliases of the largest page cost 20 × 1,501.
    let aliases: String = (0..20)
        .map(|i| format!("a{i}: auditEvents(first: 500) {{ edges {{ node {{ payload }} }} }} "))
        .collect();
    let response = timed(&app, &format!("{{ {aliases} }}"), Value::Null, key).await;
    response.assert_error("GRAPHQL_VALIDATION_FAILED");
    assert!(
        response.error_message().contains("complex"),
        "{}",
        response.text
    );
    // The same through a variable page size.
    let aliases: String = (0..20)
        .map(|i| format!("a{i}: auditEvents(first: $n) {{ edges {{ node {{ payload }} }} }} "))
        .collect();
    timed(
        &app,
        &format!("query($n: Int) {{ {aliases} }}"),
        json!({ "n": 500 }),
        key,
    )
    .await
    .assert_error("GRAPHQL_VALIDATION_FAILED");
    // Facet lists count 200 each; a page of every field passes.
    let facets: String = (0..30)
        .map(|i| {
            format!(
                "f{i}: auditEventFacets {{ actions {{ value count }} actors {{ id name count }} }} "
            )
        })
        .collect();
    timed(&app, &format!("{{ {facets} }}"), Value::Null, key)
        .await
        .assert_error("GRAPHQL_VALIDATION_FAILED");
    app.page(key, json!({ "first": 500 })).await;
    assert_alive(&app).await;
}

async fn responses_over_the_budget_are_refused(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.query_limits.max_response_bytes = 64 * 1024;
    })
    .await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    let key = tenant.admin_key.as_str();
    // In batches whose echo fits the budget.
    for _ in 0..4 {
        app.record_ok(key, big_events(5, 8 * 1024)).await;
    }
    let page = "query($n: Int) { auditEvents(first: $n) { edges { node { id payload } } } }";
    let response = timed(&app, page, json!({ "n": 20 }), key).await;
    assert_eq!(
        response.error_code().as_deref(),
        Some("RESPONSE_TOO_LARGE"),
        "{}",
        response.text
    );
    assert!(response.text.len() < 64 * 1024);
    // Aliases share one budget.
    let aliases: String = (0..6)
        .map(|i| format!("a{i}: auditEvents(first: 2) {{ edges {{ node {{ payload }} }} }} "))
        .collect();
    let response = timed(&app, &format!("{{ {aliases} }}"), Value::Null, key).await;
    assert_eq!(
        response.error_code().as_deref(),
        Some("RESPONSE_TOO_LARGE"),
        "{}",
        response.text
    );
    // A response within the budget is answered.
    timed(&app, page, json!({ "n": 2 }), key).await.ok();
    // Over the WebSocket, each message has the same cap.
    let url = app.url("/graphql").replacen("http://", "ws://", 1);
    let mut ws = WsClient::connect_and_init(&url, key).await;
    ws.subscribe("1", page, json!({ "n": 20 })).await;
    let message = ws.next_json().await;
    // Refused while resolving (`error`) or when serialized (`next`).
    let code = if message["type"] == "error" {
        &message["payload"][0]["extensions"]["code"]
    } else {
        &message["payload"]["errors"][0]["extensions"]["code"]
    };
    assert_eq!(code, "RESPONSE_TOO_LARGE", "{message}");
    assert_alive(&app).await;
}

/// The largest documents the text bounds let through still cost little to
/// parse and validate (validation compares arguments pairwise, walks values).
async fn documents_at_the_text_bounds_are_answered_quickly(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let arguments: String = (0..30).map(|i| format!("x{i}: 1 ")).collect();
    let same_name = format!("tenant({arguments}) {{ id }} ").repeat(250);
    let list = "1 ".repeat(49_000);
    let object: String = (0..16_000).map(|i| format!("a{i}: 1 ")).collect();
    for document in [
        format!("{{ {same_name} }}"),
        format!("{{ auditEvent(id: [{list}]) {{ id }} }}"),
        format!("{{ auditEvents(filter: {{ {object} }}) {{ edges {{ cursor }} }} }}"),
    ] {
        let response = timed(&app, &document, Value::Null, key).await;
        assert!(!response.errors().is_empty(), "{}", response.text);
        assert!(response.errors().len() <= 101);
    }
    // Comments cost bytes, not tokens.
    let commented = format!("query {{ __typename }} # {}", "x".repeat(1_000_000));
    timed(&app, &commented, Value::Null, key).await.ok();
    assert_alive(&app).await;
}

backend_tests!(
    documents_at_the_text_bounds_are_answered_quickly,
    deep_documents_are_refused_before_parsing,
    deep_documents_are_refused_over_get,
    deep_variables_are_refused,
    deep_documents_are_refused_over_websocket,
    fragment_fan_out_is_refused_at_once,
    directives_are_capped_everywhere,
    page_size_multiplies_complexity,
    responses_over_the_budget_are_refused
);
