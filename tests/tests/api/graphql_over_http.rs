//! The GraphQL over HTTP specification's rules on media types and status codes:
//! only `application/json` bodies (no form, multipart or text bodies, which a
//! browser sends cross-site without a CORS preflight); the response media type
//! negotiated from `Accept` (406 when neither JSON type is acceptable); under
//! `application/graphql-response+json`, 400 and no `data` for a request that
//! could not execute, 200 for field errors; under `application/json`, 200
//! (and no `data` for a request error either).

use auditlog_tests::{Backend, GqlResponse, TestApp, backend_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{app_with_tenant, key_states};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// `POST /graphql` with a JSON body and the given `Accept` header (none if empty).
async fn post(
    app: &TestApp,
    body: Value,
    accept: &str,
    key: Option<&str>,
) -> (GqlResponse, String) {
    let headers: &[(&str, &str)] = if accept.is_empty() {
        &[]
    } else {
        &[("accept", accept)]
    };
    let response = app.post_json(&body, key, headers).await;
    let content_type = response
        .header("content-type")
        .unwrap_or_default()
        .to_owned();
    (response, content_type)
}

async fn only_json_bodies_are_accepted(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = Some(tenant.admin_key.as_str());
    let count = app.event_count(&tenant.admin_key).await;
    let keys = key_states(&app, &tenant.admin_key).await;
    let record = r#"mutation { recordAuditEvents(events: [{ action: "csrf.write", actor: { type: USER, id: "u" } }]) { events { id } } }"#;
    let create = r#"mutation { createApiKey(name: "csrf", role: ADMIN) { secret } }"#;
    let json_body = |document: &str| json!({ "query": document }).to_string();
    let form_body = |document: &str| format!("query={}", urlencode(document));
    for document in [record, create] {
        for (body, content_type) in [
            (json_body(document), "text/plain"),
            (json_body(document), "text/plain;charset=UTF-8"),
            (form_body(document), "application/x-www-form-urlencoded"),
            (
                format!(
                    "--b\r\nContent-Disposition: form-data; name=\"query\"\r\n\r\n{document}\r\n--b--\r\n"
                ),
                "multipart/form-data; boundary=b",
            ),
            (document.to_owned(), "application/graphql"),
            (json_body(document), "application/json; charset=latin1"),
        ] {
            let response = app.post_raw(body, content_type, key).await;
            assert_eq!(
                response.status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{content_type}: {}",
                response.text
            );
            response.assert_error("UNSUPPORTED_MEDIA_TYPE");
        }
    }
    // No Content-Type at all.
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&tenant.admin_key)
        .body(json_body(record))
        .send()
        .await
        .expect("POST /graphql");
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        app.event_count(&tenant.admin_key).await,
        count,
        "a non-JSON request wrote events"
    );
    assert_eq!(
        key_states(&app, &tenant.admin_key).await,
        keys,
        "a non-JSON request created a key"
    );
    // UTF-8, said or not, is fine.
    app.post_raw(
        json_body("{ __typename }"),
        "application/json; charset=utf-8",
        key,
    )
    .await
    .ok();
}

/// Percent-encodes everything but unreserved characters.
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

async fn the_response_media_type_follows_accept(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = Some(tenant.admin_key.as_str());
    let query = json!({ "query": "{ tenant { slug } }" });
    for (accept, expected) in [
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
        (
            "application/graphql-response+json, application/json;q=0.9",
            GRAPHQL_RESPONSE_JSON,
        ),
        (
            "application/graphql-response+json;q=0.5, application/json",
            "application/json",
        ),
        ("text/html, */*;q=0.8", "application/json"),
    ] {
        let (response, content_type) = post(&app, query.clone(), accept, key).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "{accept}: {}",
            response.text
        );
        assert!(
            content_type.starts_with(expected),
            "{accept}: {content_type}"
        );
        assert_eq!(response.field("tenant")["slug"], "acme");
    }
    for accept in [
        "text/plain",
        "text/html, application/xml",
        "application/json;q=0",
    ] {
        let (response, _) = post(&app, query.clone(), accept, key).await;
        assert_eq!(
            response.status,
            StatusCode::NOT_ACCEPTABLE,
            "{accept}: {}",
            response.text
        );
        response.assert_error("NOT_ACCEPTABLE");
    }
    // GET negotiates the same way.
    let response = app
        .get_graphql("{ tenant { slug } }", GRAPHQL_RESPONSE_JSON, key)
        .await;
    assert_eq!(response.field("tenant")["slug"], "acme");
    let response = app
        .get_graphql("{ tenant { slug } }", "text/plain", key)
        .await;
    assert_eq!(
        response.status,
        StatusCode::NOT_ACCEPTABLE,
        "{}",
        response.text
    );
}

async fn request_errors_get_400_under_graphql_response_json(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = Some(tenant.admin_key.as_str());
    let aliases: String = (0..150).map(|i| format!("a{i}: __typename ")).collect();
    for (body, code) in [
        (json!({ "query": "{" }), "GRAPHQL_PARSE_FAILED"),
        (
            json!({ "query": "{ noSuchField }" }),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            json!({ "query": "query($n: Int!) { auditEvents(first: $n) { edges { cursor } } }", "variables": { "n": "x" } }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "query": format!("{{ {aliases} }}") }),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            json!({ "query": "{ __schema { types { name } } }" }),
            "INTROSPECTION_DISABLED",
        ),
        (
            json!({ "query": "query A { __typename } query B { __typename }", "operationName": "C" }),
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ] {
        let (strict, content_type) = post(&app, body.clone(), GRAPHQL_RESPONSE_JSON, key).await;
        assert_eq!(
            strict.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            strict.text
        );
        assert!(
            content_type.starts_with(GRAPHQL_RESPONSE_JSON),
            "{content_type}"
        );
        assert_eq!(
            strict.error_code().as_deref(),
            Some(code),
            "{body}: {}",
            strict.text
        );
        assert!(
            strict.body.get("data").is_none(),
            "a request error has no data entry: {}",
            strict.text
        );
        let (legacy, content_type) = post(&app, body.clone(), "application/json", key).await;
        assert_eq!(legacy.status, StatusCode::OK, "{body}: {}", legacy.text);
        assert!(
            content_type.starts_with("application/json"),
            "{content_type}"
        );
        legacy.assert_error(code);
        // The specification: `data` is absent when execution never started,
        // under either media type.
        assert!(
            legacy.body.get("data").is_none(),
            "a request error has no data entry: {}",
            legacy.text
        );
    }
    // A field error is not a request error: 200 under either media type, and
    // `data` is there (null where the error is).
    for accept in [GRAPHQL_RESPONSE_JSON, "application/json"] {
        for (document, bearer, code) in [
            (
                r#"{ auditEvent(id: "not-a-uuid") { id } }"#,
                key,
                "BAD_USER_INPUT",
            ),
            ("{ tenant { slug } }", None, "UNAUTHENTICATED"),
        ] {
            let (response, _) = post(&app, json!({ "query": document }), accept, bearer).await;
            assert_eq!(
                response.status,
                StatusCode::OK,
                "{accept}: {}",
                response.text
            );
            response.assert_error(code);
            assert!(response.body.get("data").is_some(), "{}", response.text);
        }
    }
}

async fn a_mutation_over_get_gets_405_under_either_media_type(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = Some(tenant.admin_key.as_str());
    let first: &[(&str, &str)] = &[("query", "mutation { __typename }")];
    // Also when it is not the document's first operation.
    let named: &[(&str, &str)] = &[
        ("query", "query A { __typename } mutation B { __typename }"),
        ("operationName", "B"),
    ];
    for (params, accept) in [
        (first, GRAPHQL_RESPONSE_JSON),
        (first, "application/json"),
        (named, GRAPHQL_RESPONSE_JSON),
    ] {
        let response = app.get_graphql_params(params, accept, key).await;
        assert_eq!(
            response.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{params:?} {accept}: {}",
            response.text
        );
        response.assert_error("METHOD_NOT_ALLOWED");
        assert_eq!(response.header("allow"), Some("POST"));
    }
}

backend_tests!(
    only_json_bodies_are_accepted,
    the_response_media_type_follows_accept,
    request_errors_get_400_under_graphql_response_json,
    a_mutation_over_get_gets_405_under_either_media_type,
);
