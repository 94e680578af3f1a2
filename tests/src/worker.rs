//! The real `auditlog-worker` binary as a child process (`run`, `run-once`,
//! SIGTERM, SIGKILL).
//! The binary path comes from the test
//! (`env!("CARGO_BIN_EXE_auditlog-worker-for-tests")`).

use std::process::Stdio;

use tokio::process::{Child, Command};

/// Starts `binary run-once` on `database_url` with `extra_env`; stdout is piped
/// (the summary line), stderr inherited (logs at `warn`).
pub fn spawn_run_once(binary: &str, database_url: &str, extra_env: &[(&str, &str)]) -> Child {
    spawn(binary, "run-once", database_url, extra_env)
}

/// Starts `binary <mode>` (`run` or `run-once`) on `database_url` with `extra_env`.
pub fn spawn(binary: &str, mode: &str, database_url: &str, extra_env: &[(&str, &str)]) -> Child {
    let mut command = Command::new(binary);
    command
        .arg(mode)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for (key, value) in extra_env {
        command.env(key, value);
    }
    command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"))
}

/// Runs `binary run-once` to the end; returns its exit code and stdout.
pub async fn run_once(
    binary: &str,
    database_url: &str,
    extra_env: &[(&str, &str)],
) -> (Option<i32>, String) {
    let child = spawn_run_once(binary, database_url, extra_env);
    let output = child
        .wait_with_output()
        .await
        .unwrap_or_else(|e| panic!("{binary} run-once failed to run: {e}"));
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// Sends SIGTERM to `child`.
pub async fn terminate(child: &Child) {
    crate::process::send_signal(child, "TERM").await;
}
