//! SPLUNK_HEC streams: the request and every event checked field by field
//! against Splunk's documented HEC event format (`/services/collector/event`,
//! `Authorization: Splunk <token>`, one JSON object per event with `time`
//! in epoch seconds, `host`, `source`, `sourcetype`, `index`, `event`,
//! `fields`), and the token kept secret (never answered, never logged).

use auditlog_tests::{Backend, backend_tests};
use chrono::DateTime;
use serde_json::{Value, json};

use super::{STREAMS, caught_up, create_stream, stream_id, streaming_tenant};
use crate::helpers::{base_time, rfc3339};

const TOKEN: &str = "5f1c2a7e-9b7d-4c1e-8d55-hec-token-for-tests";

async fn hec_events_follow_the_documented_format(backend: Backend) {
    let (app, tenant, receiver) = streaming_tenant(backend).await;
    let key = &tenant.admin_key;
    let created = create_stream(
        &app,
        key,
        json!({
            "name": "splunk", "kind": "SPLUNK_HEC", "url": receiver.url("/"),
            "splunkToken": TOKEN, "splunkIndex": "audit", "splunkSourcetype": "auditlog:test",
            "filter": { "actionPrefix": "doc." },
        }),
        None,
    )
    .await;
    assert!(created["signingSecret"].is_null());
    let id = stream_id(&created);
    let occurred_at = rfc3339(base_time(0) + chrono::Duration::milliseconds(123));
    let recorded = app
        .record_ok(
            key,
            json!([
                { "action": "doc.create", "occurredAt": occurred_at,
                  "actor": { "type": "USER", "id": "u-1", "name": "Ann" },
                  "target": { "type": "doc", "id": "d-1" }, "payload": { "size": 3 } },
                { "action": "doc.delete", "outcome": "FAILURE",
                  "actor": { "type": "API_KEY", "id": "k-9" } },
            ]),
        )
        .await;
    let last = recorded[1]["sequence"].as_i64().unwrap();
    caught_up(&app, key, &id, last).await;
    let requests = receiver.requests().await;
    let lines: Vec<&Value> = requests
        .iter()
        .inspect(|request| {
            assert_eq!(request["path"], "/services/collector/event");
            assert_eq!(
                request["headers"]["authorization"],
                format!("Splunk {TOKEN}")
            );
            assert!(
                request["headers"]["content-type"]
                    .as_str()
                    .unwrap()
                    .starts_with("application/json")
            );
        })
        .flat_map(|request| request["lines"].as_array().unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "one HEC event per audit event: {lines:?}");
    for (line, event) in lines.iter().zip(&recorded) {
        let occurred = DateTime::parse_from_rfc3339(event["occurredAt"].as_str().unwrap()).unwrap();
        let expected_time = occurred.timestamp_millis() as f64 / 1000.0;
        assert_eq!(line["time"].as_f64(), Some(expected_time), "{line}");
        assert!(
            line["host"].as_str().is_some_and(|host| !host.is_empty()),
            "{line}"
        );
        assert_eq!(line["source"], "auditlog");
        assert_eq!(line["sourcetype"], "auditlog:test");
        assert_eq!(line["index"], "audit");
        assert_eq!(line["event"]["id"], event["id"]);
        assert_eq!(line["event"]["sequence"], event["sequence"]);
        assert_eq!(line["event"]["action"], event["action"]);
        assert_eq!(line["event"]["actor"]["id"], event["actor"]["actorId"]);
        assert_eq!(line["fields"]["tenant"], tenant.id.as_str());
        assert_eq!(line["fields"]["action"], event["action"]);
        assert_eq!(line["fields"]["actor_id"], event["actor"]["actorId"]);
        assert_eq!(line["fields"]["outcome"], event["outcome"]);
        let allowed = [
            "time",
            "host",
            "source",
            "sourcetype",
            "index",
            "event",
            "fields",
        ];
        assert!(
            line.as_object()
                .unwrap()
                .keys()
                .all(|k| allowed.contains(&k.as_str())),
            "{line}"
        );
        let fields = line["fields"].as_object().unwrap();
        assert!(
            fields.values().all(Value::is_string),
            "indexed fields are strings: {line}"
        );
    }
    assert_eq!(lines[0]["event"]["payload"], json!({ "size": 3 }));
    assert_eq!(lines[1]["fields"]["outcome"], "FAILURE");

    // The token is never answered, and no event mentions it.
    let listed = app.graphql(STREAMS, json!({}), Some(key)).await;
    assert!(!listed.text.contains(TOKEN));
    let log = app.all_events(key, json!({})).await;
    assert!(!serde_json::to_string(&log).unwrap().contains(TOKEN));
    let test = app
        .graphql(
            "mutation($id: ID!) { testLogStream(id: $id) { status test responseStatus eventCount } }",
            json!({ "id": id }),
            Some(key),
        )
        .await;
    let test = test.field("testLogStream");
    assert_eq!(test["status"], "DELIVERED");
    assert_eq!(test["test"], true);
    assert_eq!(test["responseStatus"], 204);
    let requests = receiver.requests().await;
    let probe = requests.last().unwrap();
    assert_eq!(probe["headers"]["authorization"], format!("Splunk {TOKEN}"));
    assert_eq!(probe["lines"][0]["event"]["type"], "audit_events.test");
}

backend_tests!(hec_events_follow_the_documented_format);
