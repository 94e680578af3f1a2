//! Log streams (issue 20): delivery to real receivers (a Node.js server that
//! checks signatures with the `standardwebhooks` library), in order and
//! complete, through failures, crashes, purges and secret rotation; the
//! Splunk HEC format; filters, isolation, roles and outbound safety.

mod delivery;
mod failures;
mod safety;
mod splunk;
mod takeover;

use auditlog_tests::receiver::StreamReceiver;
use auditlog_tests::{Backend, TenantHandle, TestApp, spawn_app_with};
use serde_json::{Value, json};

pub(crate) const CREATE: &str = "mutation($input: LogStreamInput!, $after: Int) {
  createLogStream(input: $input, startAfterSequence: $after) {
    signingSecret
    logStream { id state deliveredThroughSequence batchSize kind url }
  }
}";

pub(crate) const STREAMS: &str = "{ logStreams {
  id name kind url state deliveredThroughSequence lagEvents lastError attempt
  lastDeliveryAt nextAttemptAt batchSize splunkIndex splunkSourcetype
  lastGap { fromSequence toSequence }
  filter { actions outcome }
} }";

pub(crate) const DELIVERIES: &str = "query($id: ID!, $first: Int, $after: String) {
  logStreamDeliveries(id: $id, first: $first, after: $after) {
    nodes { id deliveryId status test firstSequence lastSequence eventCount attempt responseStatus latencyMs error }
    pageInfo { hasNextPage endCursor }
  }
}";

/// A server with in-process delivery on, looking for work every 50 ms,
/// retrying on a schedule of milliseconds, giving receivers 1 s, and
/// allowed to reach the loopback receivers of the tests.
pub(crate) async fn app_with_streams(backend: Backend) -> TestApp {
    spawn_app_with(backend, |settings| {
        settings.in_process_streams = true;
        settings.streams.stream_allow_private_targets = true;
        settings.streams.stream_poll_ms = 50;
        settings.streams.stream_timeout_ms = 1_000;
        settings.streams.stream_lease_secs = 5;
        settings.streams.stream_retry_schedule = "0ms,100ms,200ms,300ms,400ms,500ms".into();
    })
    .await
}

/// [`app_with_streams`], one TEAM tenant and a receiver.
pub(crate) async fn streaming_tenant(backend: Backend) -> (TestApp, TenantHandle, StreamReceiver) {
    let app = app_with_streams(backend).await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    (app, tenant, StreamReceiver::start().await)
}

/// The id of a `CreatedLogStream`.
#[track_caller]
pub(crate) fn stream_id(created: &Value) -> String {
    auditlog_tests::str_field(&created["logStream"], "id")
}

/// The stream once its cursor reached `last`.
pub(crate) async fn caught_up(app: &TestApp, key: &str, id: &str, last: i64) -> Value {
    wait_for_stream(app, key, id, "caught up", |stream| {
        stream["deliveredThroughSequence"].as_i64() >= Some(last)
    })
    .await
}

/// `createLogStream`, asserting success: the `CreatedLogStream`.
pub(crate) async fn create_stream(
    app: &TestApp,
    key: &str,
    input: Value,
    after: Option<i64>,
) -> Value {
    let response = app
        .graphql(CREATE, json!({ "input": input, "after": after }), Some(key))
        .await;
    response.field("createLogStream").clone()
}

/// The caller's stream `id` as `logStreams` shows it.
pub(crate) async fn stream(app: &TestApp, key: &str, id: &str) -> Value {
    let response = app.graphql(STREAMS, json!({}), Some(key)).await;
    response
        .field("logStreams")
        .as_array()
        .and_then(|streams| streams.iter().find(|stream| stream["id"] == id).cloned())
        .unwrap_or_else(|| panic!("no stream {id} in {}", response.body))
}

/// The stream once `done` holds for it (checked every 50 ms, up to 90 s).
pub(crate) async fn wait_for_stream(
    app: &TestApp,
    key: &str,
    id: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let current = stream(app, key, id).await;
        if done(&current) {
            return current;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited 90 s for the stream to be {what}: {current}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A stream's delivery attempts, newest first (every page).
pub(crate) async fn deliveries(app: &TestApp, key: &str, id: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let response = app
            .graphql(
                DELIVERIES,
                json!({ "id": id, "first": 100, "after": after }),
                Some(key),
            )
            .await;
        let page = response.field("logStreamDeliveries").clone();
        all.extend(page["nodes"].as_array().cloned().unwrap_or_default());
        if page["pageInfo"]["hasNextPage"] != true {
            return all;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
}

/// The tenant's last sequence (from `recordAuditEvents`' answer of one event).
pub(crate) async fn record_one(app: &TestApp, key: &str, action: &str) -> i64 {
    let recorded = app
        .record_ok(key, json!([crate::helpers::event(action)]))
        .await;
    recorded[0]["sequence"].as_i64().expect("a sequence")
}

/// Checks the batches' ranges: the first starts at `first`, each next one
/// right after the previous, every event inside its batch's range, in order.
/// Returns the event sequences, in order.
#[track_caller]
pub(crate) fn contiguous_events(batches: &[&Value], first: i64) -> Vec<i64> {
    let mut expected_first = first;
    let mut sequences = Vec::new();
    for batch in batches {
        let body = &batch["body"];
        let (from, to) = (
            body["firstSequence"].as_i64().unwrap(),
            body["lastSequence"].as_i64().unwrap(),
        );
        assert_eq!(
            from, expected_first,
            "a batch starts right after the previous one: {body}"
        );
        assert!(to >= from, "{body}");
        let mut previous = from - 1;
        for event in body["events"].as_array().unwrap() {
            let sequence = event["sequence"].as_i64().unwrap();
            assert!(
                sequence > previous && sequence <= to,
                "events in order inside the range: {body}"
            );
            previous = sequence;
            sequences.push(sequence);
        }
        expected_first = to + 1;
    }
    sequences
}
