//! Rate limits, ingest quotas, timeouts and WebSocket caps (README "Rate
//! limits, quotas and timeouts"). The harness turns every limit off; each test
//! here turns on the one it checks, with a budget so small (e.g. 1 per minute,
//! burst 2) that the request over it is refused no matter how fast it runs.
//!
//! - [`rates`]: per credential and per IP, 429 + `Retry-After` + `RATE_LIMITED`;
//! - [`quota`]: events per minute per tenant and plan, `QUOTA_EXCEEDED`, held
//!   across replicas and per request of a group commit;
//! - [`timeouts`]: the request timeout and PostgreSQL's statement timeout, `TIMEOUT`;
//! - [`websocket`]: subscriptions per connection, connections per credential,
//!   `Origin`, and the rate limit on `subscribe`;
//! - [`ws_messages`]: message size caps before and after `connection_init`.
//! - [`documents`]: document nesting, tokens, fragment fan-out, directives,
//!   complexity of pages and the response budget (issue 12);
//! - [`document_fuzz`]: a bounded fuzz pass over hostile documents;
//! - [`memory`]: the alias × page-size attack against a spawned process, RSS bounded.

mod document_fuzz;
mod documents;
mod memory;
mod quota;
mod rates;
mod timeouts;
mod websocket;
mod ws_messages;

use std::time::Duration;

use auditlog_tests::{Client, TestApp};
use serde_json::{Value, json};

/// What a limit answered: status, `Retry-After` and the JSON body.
pub(crate) struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: Value,
}

impl Answer {
    pub(crate) fn code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
    }

    /// Asserts a 429 with `code`, a `Retry-After` of whole seconds (at least
    /// 1) and the same number in `extensions.retryAfterSeconds`.
    #[track_caller]
    pub(crate) fn assert_too_many(&self, code: &str) -> u64 {
        assert_eq!(
            self.status, 429,
            "expected 429, got {} {}",
            self.status, self.body
        );
        assert_eq!(self.code(), code, "{}", self.body);
        let header: u64 = self
            .retry_after
            .as_deref()
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("no Retry-After in seconds: {:?}", self.retry_after));
        assert!(header >= 1, "Retry-After {header}");
        assert_eq!(
            self.body["errors"][0]["extensions"]["retryAfterSeconds"], header,
            "{}",
            self.body
        );
        header
    }
}

/// `POST /graphql` keeping the `Retry-After` header.
pub(crate) async fn post(
    app: &Client,
    query: &str,
    variables: Value,
    bearer: Option<&str>,
) -> Answer {
    let response = app.graphql(query, variables, bearer).await;
    Answer {
        status: response.status.as_u16(),
        retry_after: response.header("retry-after").map(str::to_owned),
        body: response.body,
    }
}

/// `recordAuditEvents` keeping the `Retry-After` header.
pub(crate) async fn record(app: &Client, key: &str, events: Value) -> Answer {
    post(
        app,
        auditlog_tests::queries::RECORD_EVENTS,
        json!({ "events": events }),
        Some(key),
    )
    .await
}

/// How many of the key's tenant's events have `action`.
pub(crate) async fn stored(app: &Client, key: &str, action: &str) -> usize {
    app.all_events(key, json!({ "actions": [action] }))
        .await
        .len()
}

/// The `/metrics` text (from the metrics listener).
pub(crate) async fn metrics(app: &TestApp) -> String {
    app.metrics().await
}

/// Events with a payload of about `bytes` bytes each.
pub(crate) fn big_events(count: usize, bytes: usize) -> Value {
    let blob = "x".repeat(bytes);
    Value::Array(
        (0..count)
            .map(|i| json!({ "action": "big.event", "actor": { "type": "USER", "id": format!("u{i}") }, "payload": { "blob": blob } }))
            .collect(),
    )
}

/// The bound on an answer: refusals are meant to be immediate.
pub(crate) const ANSWER_WITHIN: Duration = Duration::from_secs(2);

/// `open` `levels` times, `middle`, then `close` as often.
pub(crate) fn nested(open: &str, middle: &str, close: &str, levels: usize) -> String {
    format!("{}{middle}{}", open.repeat(levels), close.repeat(levels))
}

/// The finding's fan-out: `F0` spreads `F1` twice, ..., `F{n-1}` spreads `F{n}`
/// twice; `F{n}` is defined (selecting `__typename`) or not.
pub(crate) fn fan_out(levels: usize, last_defined: bool) -> String {
    let mut document = String::from("{ ...F0 } ");
    for i in 0..levels {
        let next = i + 1;
        document.push_str(&format!(
            "fragment F{i} on Query {{ ...F{next} ...F{next} }} "
        ));
    }
    if last_defined {
        document.push_str(&format!("fragment F{levels} on Query {{ __typename }}"));
    }
    document
}

/// Asserts the server is alive: `/healthz` answers 200.
pub(crate) async fn assert_alive(app: &TestApp) {
    let status = app
        .client
        .get(app.url("/healthz"))
        .timeout(ANSWER_WITHIN)
        .send()
        .await
        .unwrap_or_else(|e| panic!("/healthz did not answer: {e}"))
        .status();
    assert_eq!(status, 200, "/healthz");
}
