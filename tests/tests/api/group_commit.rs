//! Group commit: many concurrent requests of one tenant share transactions, yet
//! each request is answered with exactly its own events, sequences stay
//! gapless, and one request's failure (an idempotency conflict) fails only that
//! request; another tenant's requests are never mixed in.

use std::collections::BTreeSet;

use auditlog_tests::{Backend, TestApp, backend_tests};
use futures::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{app_with_tenant, sequence};

const CLIENTS: usize = 48;

fn tagged(client: usize, count: usize) -> Value {
    Value::Array(
        (0..count)
            .map(|i| {
                json!({ "action": "group.write", "actor": { "type": "USER", "id": format!("client-{client}") },
                        "payload": { "client": client, "i": i } })
            })
            .collect(),
    )
}

async fn all_sequences(app: &TestApp, key: &str) -> Vec<i64> {
    let mut sequences: Vec<i64> = app
        .all_events(key, json!({}))
        .await
        .iter()
        .map(sequence)
        .collect();
    sequences.sort_unstable();
    sequences
}

async fn concurrent_requests_each_get_exactly_their_own_events(backend: Backend) {
    let (app, acme) = app_with_tenant(backend).await;
    let other = app.create_tenant("other-co", "TEAM").await;
    let requests = (0..CLIENTS).map(|client| {
        let (app, acme, other) = (&app, &acme, &other);
        async move {
            // Every fourth client writes to the other tenant, interleaved.
            let key = if client % 4 == 3 {
                &other.admin_key
            } else {
                &acme.admin_key
            };
            let count = 1 + client % 3;
            (
                client,
                key.clone(),
                app.record_ok(key, tagged(client, count)).await,
            )
        }
    });
    let answers = join_all(requests).await;
    for (client, key, events) in &answers {
        assert_eq!(events.len(), 1 + client % 3, "client {client}");
        for (i, event) in events.iter().enumerate() {
            assert_eq!(
                event["payload"]["client"], *client,
                "client {client}: {event}"
            );
            assert_eq!(event["payload"]["i"], i, "client {client}: {event}");
        }
        // Within one request, sequences are consecutive and in input order.
        let sequences: Vec<i64> = events.iter().map(sequence).collect();
        let first = sequences[0];
        assert_eq!(
            sequences,
            (first..first + sequences.len() as i64).collect::<Vec<_>>(),
            "client {client} with key {key}"
        );
    }
    for key in [&acme.admin_key, &other.admin_key] {
        let sequences = all_sequences(&app, key).await;
        assert_eq!(sequences, (1..=sequences.len() as i64).collect::<Vec<_>>());
        let ids: BTreeSet<String> = app
            .all_events(key, json!({ "actions": ["group.write"] }))
            .await
            .iter()
            .map(|event| event["id"].as_str().unwrap().to_owned())
            .collect();
        let answered: BTreeSet<String> = answers
            .iter()
            .filter(|(_, used, _)| used == key)
            .flat_map(|(_, _, events)| events.iter().map(|e| e["id"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(ids, answered, "stored events are exactly the answered ones");
    }
}

async fn a_conflicting_request_fails_alone(backend: Backend) {
    let (app, acme) = app_with_tenant(backend).await;
    let original = json!([{ "action": "group.original", "actor": { "type": "USER", "id": "u" },
                            "idempotencyKey": "shared-key" }]);
    let stored = app.record_ok(&acme.admin_key, original.clone()).await;
    let reused = json!([{ "action": "group.different", "actor": { "type": "USER", "id": "u" },
                          "idempotencyKey": "shared-key" }]);
    let mut requests = Vec::new();
    for client in 0..CLIENTS {
        let body = match client {
            10 => reused.clone(),
            20 => original.clone(),
            _ => tagged(client, 1),
        };
        requests.push(app.record(&acme.admin_key, body));
    }
    let answers = join_all(requests).await;
    for (client, answer) in answers.iter().enumerate() {
        match client {
            10 => assert_eq!(
                answer.error_code().as_deref(),
                Some("CONFLICT"),
                "{}",
                answer.text
            ),
            20 => assert_eq!(
                answer.field("recordAuditEvents")["events"][0]["id"],
                stored[0]["id"],
                "a replay returns the original event"
            ),
            _ => assert_eq!(
                answer.field("recordAuditEvents")["events"][0]["payload"]["client"],
                client,
                "{}",
                answer.text
            ),
        }
    }
    let sequences = all_sequences(&app, &acme.admin_key).await;
    assert_eq!(sequences, (1..=sequences.len() as i64).collect::<Vec<_>>());
    let writes = app
        .all_events(&acme.admin_key, json!({ "actions": ["group.write"] }))
        .await;
    assert_eq!(writes.len(), CLIENTS - 2);
    assert!(
        app.all_events(&acme.admin_key, json!({ "actions": ["group.different"] }))
            .await
            .is_empty()
    );
}

backend_tests!(
    concurrent_requests_each_get_exactly_their_own_events,
    a_conflicting_request_fails_alone,
);
