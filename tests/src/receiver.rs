//! A log-stream receiver (`tests/node/stream-receiver.mjs` on Node.js, on a
//! free loopback port): it records every delivery, checks webhook signatures
//! with the `standardwebhooks` npm package (the specification authors'
//! library, not our code) against the secrets a test gives it, and answers
//! as a script says (statuses, `Retry-After`, delays, dropped connections).
//! The process goes away when the value is dropped.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::node::{ensure_node_modules, node_dir};

/// How long [`StreamReceiver::wait_for`] waits before it fails the test (a
/// readiness bound, not a performance claim).
const PATIENCE: Duration = Duration::from_secs(90);

pub struct StreamReceiver {
    pub port: u16,
    http: reqwest::Client,
    _child: Child,
}

impl StreamReceiver {
    pub async fn start() -> StreamReceiver {
        ensure_node_modules();
        let mut child = Command::new("node")
            .arg("stream-receiver.mjs")
            .current_dir(node_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run node (install Node.js 20): {e}"));
        let stdout = child
            .stdout
            .take()
            .unwrap_or_else(|| panic!("the receiver's stdout is piped"));
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("the receiver did not start within 30 s"))
            .unwrap_or_else(|e| panic!("reading the receiver's stdout: {e}"))
            .unwrap_or_else(|| panic!("the receiver exited before listening"));
        let port = line
            .strip_prefix("listening ")
            .and_then(|port| port.trim().parse().ok())
            .unwrap_or_else(|| panic!("unexpected receiver output {line:?}"));
        StreamReceiver {
            port,
            http: reqwest::Client::new(),
            _child: child,
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The secrets signatures are checked against, and the answers to the
    /// next requests (then 204).
    pub async fn configure(&self, secrets: &[&str], script: Value) {
        let response = self
            .http
            .post(self.url("/_control"))
            .json(&json!({ "secrets": secrets, "script": script }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST /_control: {e}"));
        assert!(response.status().is_success());
    }

    /// Every request so far, in arrival order.
    pub async fn requests(&self) -> Vec<Value> {
        let body: Value = self
            .http
            .get(self.url("/_control/received"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET /_control/received: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("the receiver answers JSON: {e}"));
        body["requests"].as_array().cloned().unwrap_or_default()
    }

    /// The requests once `done` holds for them (checked every 50 ms).
    pub async fn wait_for(&self, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let requests = self.requests().await;
            if done(&requests) {
                return requests;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "waited {PATIENCE:?} for {what}; the receiver has {} requests: {}",
                requests.len(),
                serde_json::to_string(&requests.iter().rev().take(3).collect::<Vec<_>>())
                    .unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The sequences of the events of the `audit_events.batch` webhook requests
/// that were answered 2xx, in arrival order.
pub fn delivered_sequences(requests: &[Value]) -> Vec<i64> {
    batches(requests)
        .filter(|request| {
            request["status"]
                .as_i64()
                .is_some_and(|s| (200..300).contains(&s))
        })
        .flat_map(|request| {
            request["body"]["events"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|event| event["sequence"].as_i64())
        .collect()
}

/// The `audit_events.batch` webhook requests.
pub fn batches(requests: &[Value]) -> impl Iterator<Item = &Value> {
    requests
        .iter()
        .filter(|request| request["body"]["type"] == "audit_events.batch")
}
