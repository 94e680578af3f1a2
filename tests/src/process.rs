//! The real server as a child process: for tests that need several processes on
//! one database, or signals (SIGTERM). The binary path comes from the test
//! (`env!("CARGO_BIN_EXE_auditlog-server-for-tests")`).

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::client::Client;

/// A running `auditlog` process; killed when dropped.
pub struct ServerProcess {
    pub child: Child,
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub address: String,
}

impl ServerProcess {
    /// Starts `binary` on `database_url` on a free port and waits for its
    /// "listening on" line.
    pub async fn start(binary: &str, database_url: &str, extra_env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(binary);
        command
            .env("DATABASE_URL", database_url)
            .env("AUDITLOG_LISTEN", "127.0.0.1:0")
            // Many processes at once: each its own free metrics port.
            .env("AUDITLOG_METRICS_LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "warn")
            // Limits off, as in `spawn_app` (a test may turn them on in `extra_env`).
            .env("AUDITLOG_RATE_LIMIT_PER_CREDENTIAL", "0")
            .env("AUDITLOG_RATE_LIMIT_PER_IP", "0")
            .env("AUDITLOG_TEAM_INGEST_PER_MINUTE", "0")
            .env("AUDITLOG_ENTERPRISE_INGEST_PER_MINUTE", "0")
            .env("AUDITLOG_WS_MAX_SUBSCRIPTIONS", "0")
            .env("AUDITLOG_WS_MAX_CONNECTIONS_PER_CREDENTIAL", "0")
            .env("AUDITLOG_MAX_CONNECTIONS", "0")
            .env("AUDITLOG_MAX_CONNECTIONS_PER_IP", "0")
            // The throwaway cluster runs with fsync off; `extra_env` may say otherwise.
            .env("AUDITLOG_ALLOW_UNSAFE_DURABILITY", "true")
            // The harness's service role may not migrate; its owner may.
            .env(
                "AUDITLOG_MIGRATION_DATABASE_URL",
                crate::postgres::owner_url_of(database_url),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (key, value) in extra_env {
            command.env(key, value);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
        let stdout = child
            .stdout
            .take()
            .unwrap_or_else(|| panic!("no stdout of {binary}"));
        let mut lines = BufReader::new(stdout).lines();
        let address = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(address) = line.strip_prefix("auditlog listening on ") {
                    return address.to_owned();
                }
            }
            panic!("{binary} exited before listening");
        })
        .await
        .unwrap_or_else(|_| panic!("{binary} did not start listening within 60 s"));
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self { child, address }
    }

    /// A [`Client`] of this process; `operator_token` is the one it was started
    /// with (`AUDITLOG_OPERATOR_TOKEN`), or `""` when it has none.
    pub fn client(&self, operator_token: &str) -> Client {
        Client::new(self.address.clone(), operator_token)
    }

    pub fn ws_url(&self) -> String {
        format!("{}/graphql", self.address.replacen("http://", "ws://", 1))
    }

    /// Sends SIGTERM.
    pub async fn terminate(&self) {
        send_signal(&self.child, "TERM").await;
    }

    /// Waits for the process to exit and returns its exit code.
    pub async fn wait(&mut self) -> Option<i32> {
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("the server did not exit within 60 s"))
            .unwrap_or_else(|e| panic!("cannot wait for the server: {e}"));
        status.code()
    }
}

/// Sends `signal` (e.g. `TERM`, `KILL`) to `child` through the `kill` command, so
/// the harness needs no unsafe code.
pub async fn send_signal(child: &Child, signal: &str) {
    let pid = child
        .id()
        .unwrap_or_else(|| panic!("the process has already exited"));
    let status = Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()
        .await
        .unwrap_or_else(|e| panic!("cannot run kill: {e}"));
    assert!(status.success(), "kill -{signal} {pid} failed");
}

/// Reads `stdout` up to the first line starting with `prefix` and returns the
/// rest of that line; keeps draining the pipe afterwards so the child never
/// blocks on it. Panics if the child exits first or after 60 s.
pub async fn await_stdout_line(stdout: tokio::process::ChildStdout, prefix: &str) -> String {
    let mut lines = BufReader::new(stdout).lines();
    let rest = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.strip_prefix(prefix) {
                return rest.to_owned();
            }
        }
        panic!("the process exited before printing {prefix:?}");
    })
    .await
    .unwrap_or_else(|_| panic!("no {prefix:?} line within 60 s"));
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    rest
}
