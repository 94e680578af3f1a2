//! What the common GraphQL security scanners (graphql-cop, InQL, Escape's and
//! Burp's GraphQL checks) probe, closed: alias overloading (of fields and of
//! `__typename`, which async-graphql's complexity counter skips), array
//! batching, directive overloading, deep and circular introspection,
//! introspection and field suggestions outside development mode, and internals
//! (stack traces, exceptions, file paths, Rust type names) in errors.

use auditlog_tests::{Backend, GqlResponse, TestApp, backend_tests, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::app_with_tenant;

/// Codes a document refused for its shape may get: the parser refuses some
/// bounds (directives per field, nesting), validation the others.
const SHAPE_CODES: &[&str] = &["GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"];

/// `count` aliases of `field` in one query.
fn aliases(field: &str, count: usize) -> String {
    let selections: String = (0..count).map(|i| format!("a{i}: {field} ")).collect();
    format!("{{ {selections} }}")
}

/// `__schema { types { fields { type { ofType { ofType { fields { type ...` with
/// `fields` nested `levels` times: the circular introspection query.
fn circular_introspection(levels: usize) -> String {
    let open = "fields { type { ofType { ofType { ".repeat(levels);
    let close = "} } } } ".repeat(levels);
    format!("{{ __schema {{ types {{ {open}name {close}}} }} }}")
}

/// The introspection query of graphql-js 16 (`getIntrospectionQuery()`), which
/// GraphiQL, code generators and fuzzers send.
const STANDARD_INTROSPECTION: &str = r"
query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description
    args { ...InputValue }
    type { ...TypeRef }
    isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}
";

async fn refuses_150_aliases_of_a_field_or_of_typename(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = Some(tenant.admin_key.as_str());
    for field in ["tenant { slug }", "__typename"] {
        let response = app.graphql(&aliases(field, 150), Value::Null, key).await;
        response.assert_error("GRAPHQL_VALIDATION_FAILED");
        assert!(
            response.error_message().contains("aliases"),
            "{}",
            response.text
        );
        // graphql-cop's probe: 101 aliases of `__typename`.
        app.graphql(&aliases(field, 101), Value::Null, key)
            .await
            .assert_error("GRAPHQL_VALIDATION_FAILED");
    }
    // The limit (100 by default) still lets ordinary aliasing through.
    let data = app
        .graphql(&aliases("__typename", 100), Value::Null, key)
        .await;
    assert_eq!(data.ok().as_object().map(|data| data.len()), Some(100));
    // Field duplication without aliases counts against the selection limit.
    let duplicated = format!("{{ {} }}", "__typename ".repeat(500));
    app.graphql(&duplicated, Value::Null, key)
        .await
        .assert_error("GRAPHQL_VALIDATION_FAILED");
}

async fn alias_limit_is_configurable(backend: Backend) {
    let app = spawn_app_with(backend, |settings| settings.query_limits.max_aliases = 10).await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    let key = Some(tenant.admin_key.as_str());
    app.graphql(&aliases("__typename", 10), Value::Null, key)
        .await
        .ok();
    app.graphql(&aliases("__typename", 11), Value::Null, key)
        .await
        .assert_error("GRAPHQL_VALIDATION_FAILED");
}

async fn refuses_array_batches(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = Some(tenant.admin_key.as_str());
    let count = app.event_count(&tenant.admin_key).await;
    let record = json!({
        "query": r#"mutation { recordAuditEvents(events: [{ action: "batch.sent", actor: { type: USER, id: "u" } }]) { events { id } } }"#
    });
    for batch in [
        json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]),
        json!([{ "query": "{ tenant { slug } }" }]),
        Value::Array(vec![record.clone(); 20]),
    ] {
        let response = app
            .post_raw(batch.to_string(), "application/json", key)
            .await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{}",
            response.text
        );
        response.assert_error("BAD_REQUEST");
        assert!(
            response.error_message().contains("batch"),
            "{}",
            response.text
        );
    }
    assert_eq!(
        app.event_count(&tenant.admin_key).await,
        count,
        "a batched request wrote events"
    );
}

async fn refuses_repeated_directives(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = Some(tenant.admin_key.as_str());
    let include = "@include(if: true) ".repeat(50);
    for document in [
        format!("{{ tenant {{ slug {include} }} }}"),
        format!("{{ __typename {include} }}"),
        // graphql-cop's directive overloading: an unknown directive, repeated.
        format!("{{ __typename {} }}", "@aa ".repeat(50)),
    ] {
        app.graphql(&document, Value::Null, key)
            .await
            .assert_error_in(SHAPE_CODES);
    }
    // Non-repeatable directives may appear once per location.
    app.graphql(
        "{ tenant { slug @include(if: true) @include(if: true) } }",
        Value::Null,
        key,
    )
    .await
    .assert_error("GRAPHQL_VALIDATION_FAILED");
}

async fn introspection_is_refused_in_production(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = Some(tenant.admin_key.as_str());
    for document in [
        "{ __schema { queryType { name } } }",
        r#"{ __type(name: "Query") { name } }"#,
        r#"{ tenant { slug } __type(name: "Tenant") { fields { name } } }"#,
        "{ ... on Query { __schema { types { name } } } }",
        "query { ...Schema } fragment Schema on Query { __schema { types { name } } }",
        STANDARD_INTROSPECTION,
    ] {
        let response = app.graphql(document, Value::Null, key).await;
        response.assert_error("INTROSPECTION_DISABLED");
    }
    // Over GET too.
    let response = app
        .get_graphql(
            "{ __schema { queryType { name } } }",
            "application/json",
            key,
        )
        .await;
    response.assert_error("INTROSPECTION_DISABLED");
    // `__typename` is not introspection of the schema.
    app.graphql("{ __typename tenant { __typename } }", Value::Null, key)
        .await
        .ok();
}

async fn introspection_is_allowed_in_development_mode(backend: Backend) {
    let app = spawn_app_with(backend, |settings| settings.dev = true).await;
    assert_introspection_answers(&app).await;
}

async fn production_may_enable_introspection(backend: Backend) {
    let app = spawn_app_with(backend, |settings| settings.introspection = Some(true)).await;
    assert_introspection_answers(&app).await;
}

async fn assert_introspection_answers(app: &TestApp) {
    let tenant = app.create_tenant("acme", "TEAM").await;
    let key = Some(tenant.admin_key.as_str());
    let schema = app
        .graphql("{ __schema { queryType { name } } }", Value::Null, key)
        .await;
    assert_eq!(schema.field("__schema")["queryType"]["name"], "Query");
    let ty = app
        .graphql(
            r#"{ __type(name: "QueryRoot") { name } }"#,
            Value::Null,
            key,
        )
        .await;
    // The root types' old names are gone.
    assert!(ty.field("__type").is_null(), "{}", ty.text);
    let tenant_type = app
        .graphql(r#"{ __type(name: "Tenant") { name } }"#, Value::Null, key)
        .await;
    assert_eq!(tenant_type.field("__type")["name"], "Tenant");
    // The standard introspection query fits the limits.
    let full = app.graphql(STANDARD_INTROSPECTION, Value::Null, key).await;
    let types = full.field("__schema")["types"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(types > 10, "{}", full.text);
}

async fn deep_circular_introspection_is_refused_in_both_modes(backend: Backend) {
    let production = spawn_app(backend).await;
    let development = spawn_app_with(backend, |settings| settings.dev = true).await;
    for (app, code) in [
        (&production, "INTROSPECTION_DISABLED"),
        (&development, "GRAPHQL_VALIDATION_FAILED"),
    ] {
        let tenant = app.create_tenant("acme", "TEAM").await;
        let key = Some(tenant.admin_key.as_str());
        for levels in [3, 4, 6] {
            let response = app
                .graphql(&circular_introspection(levels), Value::Null, key)
                .await;
            response.assert_error(code);
        }
        // Past 32 levels of nesting, the parser refuses the document first.
        for levels in [10, 40] {
            let response = app
                .graphql(&circular_introspection(levels), Value::Null, key)
                .await;
            response.assert_error_in(&[code, "GRAPHQL_PARSE_FAILED"]);
        }
        // graphql-cop's circular introspection query.
        let cop = "query { __schema { types { fields { type { fields { type { fields { type { name } } } } } } } } }";
        app.graphql(cop, Value::Null, key).await.assert_error(code);
        // A chain of `ofType` deeper than any type can wrap.
        let chain = format!(
            "{{ __schema {{ types {{ {} name {} }} }} }}",
            "ofType { ".repeat(25),
            "} ".repeat(25)
        );
        app.graphql(&chain, Value::Null, key)
            .await
            .assert_error_in(&[code, "GRAPHQL_PARSE_FAILED"]);
    }
    // In development, nesting `fields` twice is still an ordinary query.
    let tenant = development.create_tenant("beta", "TEAM").await;
    development
        .graphql(
            &circular_introspection(2),
            Value::Null,
            Some(&tenant.admin_key),
        )
        .await
        .ok();
}

async fn field_suggestions_only_in_development_mode(backend: Backend) {
    let production = spawn_app(backend).await;
    let development = spawn_app_with(backend, |settings| settings.dev = true).await;
    for (app, suggests) in [(&production, false), (&development, true)] {
        let tenant = app.create_tenant("acme", "TEAM").await;
        let key = Some(tenant.admin_key.as_str());
        for document in ["{ tenant { slugg } }", "{ tenantt { slug } }"] {
            let response = app.graphql(document, Value::Null, key).await;
            response.assert_error("GRAPHQL_VALIDATION_FAILED");
            assert_eq!(
                response.text.contains("Did you mean"),
                suggests,
                "suggestions in {} mode: {}",
                if suggests {
                    "development"
                } else {
                    "production"
                },
                response.text
            );
        }
    }
}

async fn graphiql_follows_the_mode_and_its_switch(backend: Backend) {
    let enabled = spawn_app_with(backend, |settings| settings.graphiql = Some(true)).await;
    let disabled = spawn_app_with(backend, |settings| {
        settings.dev = true;
        settings.graphiql = Some(false);
    })
    .await;
    let page = enabled.get("/graphql", "text/html", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.to_lowercase().contains("graphiql"));
    let page = disabled.get("/graphql", "text/html", None).await;
    assert_ne!(page.status, StatusCode::OK);
    assert!(!page.text.to_lowercase().contains("graphiql"));
}

/// Traces of the server's internals that no error may carry.
const LEAKS: &[&str] = &[
    "panicked",
    "backtrace",
    "stacktrace",
    "exception",
    ".rs:",
    "src/",
    "/root",
    "/home",
    "::",
    "async_graphql",
    "sea_orm",
    "sqlx",
    "serde",
    "anyhow",
];

#[track_caller]
fn assert_typed_and_clean(what: &str, response: &GqlResponse) {
    assert!(
        !response.status.is_server_error(),
        "{what}: HTTP {}: {}",
        response.status,
        response.text
    );
    let errors = response.errors();
    assert!(!errors.is_empty(), "{what}: no error: {}", response.text);
    for error in errors {
        let code = error["extensions"]["code"].as_str();
        assert!(
            code.is_some_and(|code| code != "INTERNAL_SERVER_ERROR"),
            "{what}: not a typed client error: {error}"
        );
        let extensions = error["extensions"]
            .as_object()
            .map(|e| e.keys().collect::<Vec<_>>());
        assert!(
            extensions
                .iter()
                .flatten()
                .all(|key| ["code", "index"].contains(&key.as_str())),
            "{what}: unexpected extensions: {error}"
        );
        let message = error["message"].as_str().unwrap_or_default().to_lowercase();
        for leak in LEAKS {
            assert!(
                !message.contains(leak),
                "{what}: the message shows internals ({leak}): {error}"
            );
        }
    }
}

async fn errors_carry_no_internals(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = Some(tenant.admin_key.as_str());
    let documents: Vec<(&str, String, Value)> = vec![
        ("parse error", "{ tenant { ".into(), Value::Null),
        ("typename selection", "{ __typename { } }".into(), Value::Null),
        ("unknown field", "{ tenant { secret } }".into(), Value::Null),
        (
            "operation not named",
            "query A { __typename } query B { __typename }".into(),
            Value::Null,
        ),
        (
            "subscription over HTTP",
            "subscription { auditEventRecorded { id } }".into(),
            Value::Null,
        ),
        ("aliases", aliases("__typename", 1000), Value::Null),
        ("introspection", "{ __schema { types { name } } }".into(), Value::Null),
        (
            "bad variable",
            "query($n: Int) { auditEvents(first: $n) { edges { cursor } } }".into(),
            json!({ "n": "ten" }),
        ),
        (
            "bad id",
            r#"{ auditEvent(id: "not-a-uuid") { id } }"#.into(),
            Value::Null,
        ),
        (
            "forged cursor",
            r#"{ auditEvents(after: "Zm9yZ2Vk") { edges { cursor } } }"#.into(),
            Value::Null,
        ),
        (
            "bad enum",
            "{ auditEvents(filter: { outcome: MAYBE }) { edges { cursor } } }".into(),
            Value::Null,
        ),
        (
            "NUL in filters",
            "query($s: String) { auditEvents(filter: { search: $s, actionPrefix: $s, targetId: $s, targetType: $s, actorIds: [$s], actions: [$s] }) { edges { cursor } } }".into(),
            json!({ "s": "a\u{0}b" }),
        ),
        (
            "NUL in an event",
            "mutation($e: [AuditEventInput!]!) { recordAuditEvents(events: $e) { events { id } } }".into(),
            json!({ "e": [{ "action": "a.b", "actor": { "type": "USER", "id": "u\u{0}" }, "payload": { "k": "\u{0}" } }] }),
        ),
        (
            "NUL in a payload",
            "mutation($e: [AuditEventInput!]!) { recordAuditEvents(events: $e) { events { id } } }".into(),
            json!({ "e": [{ "action": "a.b", "actor": { "type": "USER", "id": "u" }, "payload": { "k\u{0}": "\u{0}" } }] }),
        ),
        (
            "NUL in a key name",
            "mutation($n: String!) { createApiKey(name: $n, role: AUDITOR) { secret } }".into(),
            json!({ "n": "a\u{0}b" }),
        ),
        (
            "operator field",
            r#"mutation { createTenant(slug: "x", name: "x", plan: TEAM) { tenant { id } } }"#.into(),
            Value::Null,
        ),
    ];
    for (what, document, variables) in documents {
        let response = app.graphql(&document, variables, key).await;
        assert_typed_and_clean(what, &response);
    }
    for (what, body, content_type) in [
        ("not JSON", "{ \"query\": ", "application/json"),
        ("query not a string", "{ \"query\": 1 }", "application/json"),
        (
            "variables not a map",
            "{ \"query\": \"{ __typename }\", \"variables\": \"x\" }",
            "application/json",
        ),
        (
            "operationName not a string",
            "{ \"query\": \"{ __typename }\", \"operationName\": {} }",
            "application/json",
        ),
        (
            "extensions not a map",
            "{ \"query\": \"{ __typename }\", \"extensions\": [] }",
            "application/json",
        ),
        (
            "no query",
            "{ \"qeury\": \"{ __typename }\" }",
            "application/json",
        ),
        (
            "batch",
            "[{ \"query\": \"{ __typename }\" }]",
            "application/json",
        ),
        (
            "form body",
            "query=%7B__typename%7D",
            "application/x-www-form-urlencoded",
        ),
        ("text body", "{ __typename }", "text/plain"),
        ("GraphQL body", "{ __typename }", "application/graphql"),
    ] {
        let response = app.post_raw(body, content_type, key).await;
        assert_typed_and_clean(what, &response);
    }
    let mutation = app
        .get_graphql(
            r#"mutation { createApiKey(name: "x", role: ADMIN) { secret } }"#,
            "application/json",
            key,
        )
        .await;
    assert_typed_and_clean("mutation over GET", &mutation);
}

backend_tests!(
    refuses_150_aliases_of_a_field_or_of_typename,
    alias_limit_is_configurable,
    refuses_array_batches,
    refuses_repeated_directives,
    introspection_is_refused_in_production,
    introspection_is_allowed_in_development_mode,
    production_may_enable_introspection,
    deep_circular_introspection_is_refused_in_both_modes,
    field_suggestions_only_in_development_mode,
    graphiql_follows_the_mode_and_its_switch,
    errors_carry_no_internals,
);
