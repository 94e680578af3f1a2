//! PostGraphile v4, the peer: installed from `tests/postgraphile` (its own
//! `package.json`/lock, so its graphql 15 never meets another Node tool's) with
//! `npm ci` when missing, started as a child process over the same database,
//! with the connection-filter plugin (range filters) and `--dynamic-json`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// A running PostGraphile server; killed on drop.
pub(crate) struct Postgraphile {
    pub url: String,
    client: reqwest::Client,
    _child: Child,
}

fn folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("postgraphile")
}

impl Postgraphile {
    /// Installs (if needed) and starts PostGraphile on `database_url`, on a free port.
    pub(crate) async fn start(database_url: &str) -> Postgraphile {
        let dir = folder();
        let cli = dir.join("node_modules/postgraphile/cli.js");
        if !cli.is_file() {
            eprintln!("installing PostGraphile v4 (npm ci in {})", dir.display());
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&dir)
                .status()
                .await
                .expect("cannot run npm (install Node.js 20 and npm)");
            assert!(status.success(), "npm ci in {} failed", dir.display());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("node")
            .arg(&cli)
            .args(["--connection", database_url, "--schema", "public"])
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args([
                "--dynamic-json",
                "--disable-query-log",
                "--disable-graphiql",
            ])
            .args(["--append-plugins", "postgraphile-plugin-connection-filter"])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("cannot start PostGraphile (node)");
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("HTTP client");
        let server = Postgraphile {
            url: format!("http://127.0.0.1:{port}/graphql"),
            client,
            _child: child,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let probe = server
                .client
                .post(&server.url)
                .json(&json!({ "query": "{ __typename }" }))
                .send()
                .await;
            if probe.is_ok_and(|r| r.status().is_success()) {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "PostGraphile did not start within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Posts a prepared JSON body; panics on an HTTP or GraphQL error.
    pub(crate) async fn post(&self, body: Vec<u8>) -> Value {
        post_json(&self.client, &self.url, None, body).await
    }
}

/// POSTs a prepared GraphQL JSON body and returns its `data`; panics on errors.
pub(crate) async fn post_json(
    client: &reqwest::Client,
    url: &str,
    bearer: Option<&str>,
    body: Vec<u8>,
) -> Value {
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    let response = request.send().await.expect("POST /graphql");
    let status = response.status();
    let text = response.text().await.expect("response body");
    let value: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("non-JSON response ({status}): {e}: {text:.500}"));
    assert!(
        status.is_success() && value.get("errors").is_none(),
        "GraphQL request failed ({status}): {text:.1000}"
    );
    value["data"].clone()
}
