//! Issue 19, tamper evidence: the per-tenant Merkle tree, signed tree heads
//! and their proofs, driven through the real server and checked twice: by
//! `auditlog verify` (the binary's subcommand) and by an independent verifier
//! (`tests/verifier/verify.py`, written from RFC 9162 and docs/verifying.md
//! alone, sharing no code with auditlog).
//!
//! - [`proofs`]: heads at random sizes and powers of two ± 1, every proof
//!   accepted by both verifiers; bad sizes are `BAD_USER_INPUT`;
//! - [`tampering`]: edits to an export and to the database detected;
//! - [`purge`]: heads and proofs survive the retention purge and key rotation;
//! - [`concurrency`]: eight writers, heads signed meanwhile, all consistent;
//! - [`export`]: an export's manifest names the head of its bound, and
//!   `auditlog verify` checks the export against it;
//! - [`isolation`]: one tenant never gets another's heads or proofs;
//! - [`upgrade`]: a tenant with events from before the tree (an upgrade)
//!   gets a tree from its next event on, and the older events are reported
//!   as not covered.
//!
//! The helpers below sign heads with the worker's signer in the test process
//! (the harness turns the scheduled signer off) and read everything else
//! through the API.

mod concurrency;
mod export;
mod isolation;
mod proofs;
mod purge;
mod tampering;
mod upgrade;

use std::path::{Path, PathBuf};
use std::process::Command;

use auditlog_tests::database::{self, tenant_uuid};
use auditlog_tests::{TenantHandle, TestApp, queries};
use auditlog_worker::tree_heads::TreeHeadSigner;
use serde_json::{Value, json};

const SERVER: &str = env!("CARGO_BIN_EXE_auditlog-server-for-tests");
const VERIFIER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/verifier/verify.py");
const HEAD_FIELDS: &str = "treeSize treeOrigin rootHash timestamp keyId signature";
const PROOF_FIELDS: &str = "leafIndex treeSize leafHash auditPath";
/// `recordAuditEvents`' largest batch.
const MAX_BATCH: u64 = 1000;

/// Signs a head for every tenant whose tree grew, as the scheduled job does.
async fn sign_heads(app: &TestApp) {
    let db = database::connect(app.database_url()).await;
    TreeHeadSigner::new(db, None).run_pass().await.unwrap();
}

/// The tenant's tree size: its event counter, purged events included.
async fn tree_size(app: &TestApp, tenant: &TenantHandle) -> u64 {
    let db = database::connect(app.database_url()).await;
    let tenant_id = tenant_uuid(&tenant.id);
    let txn = database::scoped(&db, tenant_id).await;
    entity::store::tree::heads::tree_size(&txn, tenant_id)
        .await
        .unwrap()
}

/// Records events until the tree has `size` leaves.
async fn grow_to(app: &TestApp, tenant: &TenantHandle, size: u64) {
    let mut now = tree_size(app, tenant).await;
    while now < size {
        let count = (size - now).min(MAX_BATCH);
        app.record_ok(&tenant.admin_key, varied_events(now, count))
            .await;
        now += count;
    }
    assert_eq!(tree_size(app, tenant).await, size);
}

/// Events whose leaves exercise the canonical encoding: nested payload
/// objects with keys out of order, non-ASCII text, escapes, negative
/// integers, arrays, nulls, absent optional fields.
fn varied_events(start: u64, count: u64) -> Value {
    let events: Vec<Value> = (start..start + count)
        .map(|i| {
            json!({
                "action": format!("entry.update_{}", i % 5),
                "actor": { "type": if i % 3 == 0 { "API_KEY" } else { "USER" }, "id": format!("user-{i}"),
                           "name": if i % 2 == 0 { Value::from("Zoë \"Z\" Müller") } else { Value::Null } },
                "target": if i % 4 == 0 { Value::Null } else { json!({ "type": "document", "id": format!("doc-{i}") }) },
                "outcome": if i % 7 == 0 { "FAILURE" } else { "SUCCESS" },
                "payload": { "z": i, "a": [1, "two", null, { "é": "\u{1F600}\n\t\u{1}" }], "m": { "y": true, "b": -42 } },
                "context": { "ipAddress": "2001:db8::1", "userAgent": "tests/1.0" },
            })
        })
        .collect();
    Value::Array(events)
}

async fn latest_head(app: &TestApp, key: &str) -> Value {
    let query = format!("query {{ auditLogTreeHead {{ {HEAD_FIELDS} }} }}");
    app.graphql(&query, json!({}), Some(key))
        .await
        .field("auditLogTreeHead")
        .clone()
}

/// Every signed head, newest first, read in pages.
async fn all_heads(app: &TestApp, key: &str) -> Vec<Value> {
    let query = format!(
        "query($after: String) {{ auditLogTreeHeads(first: 7, after: $after) {{ \
         edges {{ node {{ {HEAD_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
    );
    let (mut heads, mut after) = (Vec::new(), Value::Null);
    loop {
        let answer = app
            .graphql(&query, json!({ "after": after }), Some(key))
            .await;
        let connection = answer.field("auditLogTreeHeads");
        for edge in connection["edges"].as_array().unwrap() {
            heads.push(edge["node"].clone());
        }
        if connection["pageInfo"]["hasNextPage"] != json!(true) {
            return heads;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
}

async fn consistency(app: &TestApp, key: &str, from: u64, to: u64) -> Value {
    let query = "query($from: Int!, $to: Int!) { auditLogConsistencyProof(fromSize: $from, \
                 toSize: $to) { fromSize toSize path } }";
    app.graphql(query, json!({ "from": from, "to": to }), Some(key))
        .await
        .field("auditLogConsistencyProof")
        .clone()
}

/// Every readable event in sequence order, each with its inclusion proof
/// against the tree of `size` (the latest head's if `None`; null for events
/// newer than that tree).
async fn export(app: &TestApp, key: &str, size: Option<u64>) -> Vec<Value> {
    let query = format!(
        "query($size: Int, $after: String) {{ auditEvents(first: 500, after: $after) {{ \
         edges {{ node {{ {} inclusionProof(treeSize: $size) {{ {PROOF_FIELDS} }} }} }} \
         pageInfo {{ hasNextPage endCursor }} }} }}",
        queries::EVENT_FIELDS
    );
    let (mut events, mut after) = (Vec::new(), Value::Null);
    loop {
        let answer = app
            .graphql(&query, json!({ "size": size, "after": after }), Some(key))
            .await;
        let connection = answer.field("auditEvents");
        for edge in connection["edges"].as_array().unwrap() {
            events.push(edge["node"].clone());
        }
        if connection["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    events.sort_by_key(|event| event["sequence"].as_u64());
    events
}

/// One event's inclusion proof against the tree of `size`.
async fn inclusion_proof(app: &TestApp, key: &str, id: &str, size: u64) -> Value {
    let query = format!(
        "query($id: ID!, $size: Int) {{ auditEvent(id: $id) {{ inclusionProof(treeSize: $size) \
         {{ {PROOF_FIELDS} }} }} }}"
    );
    let answer = app
        .graphql(&query, json!({ "id": id, "size": size }), Some(key))
        .await;
    answer.field("auditEvent")["inclusionProof"].clone()
}

/// `/.well-known/auditlog-keys.json`.
async fn published_keys(app: &TestApp) -> Value {
    let answer = app
        .api
        .get("/.well-known/auditlog-keys.json", "application/json", None)
        .await;
    assert!(answer.status.is_success(), "{}", answer.text);
    answer.body
}

/// Runs `query` with `key` and asserts it fails with `BAD_USER_INPUT`.
async fn assert_bad_input(app: &TestApp, key: &str, query: &str, variables: Value) {
    let answer = app.graphql(query, variables, Some(key)).await;
    assert_eq!(
        answer.error_code().as_deref(),
        Some("BAD_USER_INPUT"),
        "{}",
        answer.text
    );
}

fn size_of(head: &Value) -> u64 {
    head["treeSize"]
        .as_u64()
        .unwrap_or_else(|| panic!("no treeSize in {head}"))
}

/// A directory for one test's files, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let path =
            std::env::temp_dir().join(format!("auditlog-integrity-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    /// The path of `name` in the directory.
    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `value` as JSON into `name`.
    fn json(&self, name: &str, value: &Value) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
        path
    }

    /// Writes `events` as NDJSON into `name`.
    fn ndjson(&self, name: &str, events: &[Value]) -> PathBuf {
        let path = self.0.join(name);
        let lines: Vec<String> = events.iter().map(Value::to_string).collect();
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The files of one `auditlog verify` run.
struct Verify<'a> {
    tenant_id: &'a str,
    head: &'a Path,
    keys: &'a Path,
    export: Option<&'a Path>,
    /// An older head and the consistency proof from it to `head`.
    older: Option<(&'a Path, &'a Path)>,
    /// `--allow-gaps` (an export spanning a purge).
    allow_gaps: bool,
}

impl Verify<'_> {
    /// `auditlog verify`'s verdict (exit status 0) and report.
    fn run(&self) -> (bool, String) {
        let mut command = Command::new(SERVER);
        command
            .arg("verify")
            .arg("--tenant-id")
            .arg(self.tenant_id)
            .arg("--head")
            .arg(self.head)
            .arg("--keys")
            .arg(self.keys);
        if let Some((old_head, proof)) = self.older {
            command
                .arg("--old-head")
                .arg(old_head)
                .arg("--consistency")
                .arg(proof);
        }
        if self.allow_gaps {
            command.arg("--allow-gaps");
        }
        if let Some(export) = self.export {
            command.arg(export);
        }
        let output = command.output().unwrap();
        let report = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        (output.status.success(), report)
    }
}

/// The independent verifier's verdict and report on `bundle` (the format is
/// in `tests/verifier/verify.py`). Never skipped: it needs python3 with the
/// `cryptography` package, which `.ci/run` installs.
fn python_verify(dir: &TempDir, bundle: &Value) -> (bool, String) {
    let available = Command::new("python3")
        .args(["-c", "import cryptography"])
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        available,
        "the independent verifier needs python3 with `cryptography` \
         (python3 -m pip install cryptography; .ci/run does)"
    );
    let path = dir.json("bundle.json", bundle);
    let output = Command::new("python3")
        .arg(VERIFIER)
        .arg(path)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), report)
}
