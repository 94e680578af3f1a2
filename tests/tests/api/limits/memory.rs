//! Memory under the alias × page-size attack (issue 12, finding 3), measured
//! on a spawned service process (the in-process server shares the test's
//! memory): 600 events with 63 KB payloads, then pages of 500 of them asked
//! for under many aliases. Before the fix, 20 aliases built a 630 MB response
//! (RSS 2.6 GB). Now complexity refuses 20 aliases outright, and 13 (within
//! complexity) stop at the 16 MiB response budget as rows arrive.
//!
//! Documented bound: the process's peak RSS (`VmHWM`) stays under
//! [`RSS_BOUND_MIB`] MiB through seeding and every attack.

use auditlog_tests::process::ServerProcess;
use auditlog_tests::{Backend, Client, backend_tests};
use serde_json::{Value, json};

use super::big_events;

const SERVER: &str = env!("CARGO_BIN_EXE_auditlog-server-for-tests");
const OPERATOR: &str = "memory-test-operator-token-of-at-least-32-chars";

/// Peak resident memory allowed to the service, in MiB.
const RSS_BOUND_MIB: u64 = 256;

/// `VmRSS` and `VmHWM` of `pid`, in KiB.
fn memory_of(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("cannot read /proc/{pid}/status: {e}"));
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// `POST /graphql`; the JSON body (`Null` if not JSON).
async fn post(client: &Client, bearer: &str, query: &str, variables: Value) -> Value {
    client.graphql(query, variables, Some(bearer)).await.body
}

async fn alias_page_attack_keeps_rss_bounded(backend: Backend) {
    let database = backend.create_database().await;
    let server = ServerProcess::start(
        SERVER,
        &database.url,
        &[("AUDITLOG_OPERATOR_TOKEN", OPERATOR)],
    )
    .await;
    let pid = server
        .child
        .id()
        .unwrap_or_else(|| panic!("the server has no pid"));
    let client = server.client(OPERATOR);
    let created = post(
        &client,
        OPERATOR,
        auditlog_tests::queries::CREATE_TENANT,
        json!({ "slug": "acme", "name": "Acme", "plan": "ENTERPRISE" }),
    )
    .await;
    let key = created["data"]["createTenant"]["adminKey"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("no admin key: {created}"))
        .to_owned();
    let record = "mutation($events: [AuditEventInput!]!) { recordAuditEvents(events: $events) { events { id } } }";
    for _ in 0..20 {
        let answer = post(
            &client,
            &key,
            record,
            json!({ "events": big_events(30, 63_000) }),
        )
        .await;
        assert!(answer["errors"].is_null(), "{answer}");
    }
    let aliases = |count: usize| -> String {
        let fields: String = (0..count)
            .map(|i| format!("a{i}: auditEvents(first: 500) {{ edges {{ node {{ payload }} }} }} "))
            .collect();
        format!("{{ {fields} }}")
    };
    // The finding: refused by complexity before anything is read.
    let answer = post(&client, &key, &aliases(20), Value::Null).await;
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{}",
        answer["errors"][0]
    );
    // Within complexity: refused by the response budget, several times over.
    for _ in 0..3 {
        let answer = post(&client, &key, &aliases(13), Value::Null).await;
        let codes: Vec<&Value> = answer["errors"]
            .as_array()
            .map(|errors| errors.iter().map(|e| &e["extensions"]["code"]).collect())
            .unwrap_or_default();
        assert!(
            codes.iter().any(|code| *code == "RESPONSE_TOO_LARGE"),
            "{codes:?}"
        );
    }
    let (rss, peak) = memory_of(pid);
    eprintln!(
        "service memory: VmRSS {} MiB, VmHWM {} MiB",
        rss / 1024,
        peak / 1024
    );
    assert!(
        peak / 1024 < RSS_BOUND_MIB,
        "peak RSS {} MiB over the documented {RSS_BOUND_MIB} MiB",
        peak / 1024
    );
    drop(server);
    drop(database);
}

backend_tests!(alias_page_attack_keeps_rss_bounded);
