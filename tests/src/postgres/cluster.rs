//! The throwaway cluster: `initdb`, the supervised `postgres` process, and readiness.
//!
//! `initdb` refuses to run as root (CI runs as root), so as root the cluster belongs
//! to the unprivileged `postgres` user and every server command goes through `runuser`.
//! The supervisor is `sh -c 'postgres ... & cat >/dev/null; kill -INT ...; rm -rf ...'`
//! with stdin piped from the test process: EOF at process exit stops and removes it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::DATABASE_URL_ENV;

/// How long the throwaway cluster may take to accept connections.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// The unprivileged user that owns the cluster when the tests run as root.
const CLUSTER_USER: &str = "postgres";

/// A cluster directory and the binaries that serve it.
pub(super) struct Cluster {
    pub(super) bindir: PathBuf,
    pub(super) datadir: PathBuf,
    /// Whether commands must run as [`CLUSTER_USER`] (the tests run as root).
    as_cluster_user: bool,
}

impl Cluster {
    pub(super) fn new(bindir: PathBuf) -> Cluster {
        let datadir =
            std::env::temp_dir().join(format!("auditlog-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&datadir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", datadir.display()));
        let as_cluster_user = running_as_root();
        if as_cluster_user {
            let owner = format!("{CLUSTER_USER}:{CLUSTER_USER}");
            run_checked(
                Command::new("chown").arg(&owner).arg(&datadir),
                "chown the data directory",
            );
        }
        Cluster {
            bindir,
            datadir,
            as_cluster_user,
        }
    }

    /// A command for `program`, run as the cluster's owner.
    pub(super) fn command(&self, program: impl AsRef<Path>) -> Command {
        if self.as_cluster_user {
            let mut command = Command::new("runuser");
            command
                .args(["-u", CLUSTER_USER, "--"])
                .arg(program.as_ref());
            command
        } else {
            Command::new(program.as_ref())
        }
    }

    pub(super) fn init(&self) {
        let mut initdb = self.command(self.bindir.join("initdb"));
        initdb.arg("-D").arg(&self.datadir).args([
            "--auth=trust",
            "-U",
            "postgres",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ]);
        if let Err(message) = run(&mut initdb) {
            let _ = std::fs::remove_dir_all(&self.datadir);
            panic!(
                "initdb failed (as root, the `{CLUSTER_USER}` user must exist and reach {}): {message}",
                self.datadir.display()
            );
        }
    }

    /// Starts the supervisor: `postgres` in the background, then `cat` until EOF on
    /// stdin, then a fast shutdown and removal of the data directory.
    pub(super) fn spawn(&self, port: u16) -> Child {
        let data = quote(&self.datadir.to_string_lossy());
        let postgres = quote(&self.bindir.join("postgres").to_string_lossy());
        let script = format!(
            "{postgres} -D {data} -k {data} -h 127.0.0.1 -p {port} \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
             -c max_connections=300 >{data}/server.log 2>&1 & P=$!; \
             cat >/dev/null; kill -INT $P; wait $P; rm -rf {data}"
        );
        self.command("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the PostgreSQL supervisor: {e}"))
    }

    pub(super) fn wait_until_ready(&self, mut supervisor: Child, port: u16) -> Child {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            let mut probe = Command::new(self.bindir.join("pg_isready"));
            probe
                .args([
                    "-q",
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                    "-d",
                    "postgres",
                    "-p",
                ])
                .arg(port.to_string());
            if probe.status().is_ok_and(|status| status.success()) {
                return supervisor;
            }
            let exited = matches!(supervisor.try_wait(), Ok(Some(_)));
            if exited || Instant::now() > deadline {
                let log =
                    std::fs::read_to_string(self.datadir.join("server.log")).unwrap_or_default();
                panic!(
                    "the throwaway PostgreSQL cluster did not start on port {port}; server log:\n{log}"
                );
            }
            sleep(Duration::from_millis(100));
        }
    }
}

impl Cluster {
    /// `pg_ctl -D <datadir> <args>` as the cluster's owner.
    pub(super) fn pg_ctl_command(&self, args: &[&str]) -> Command {
        let mut command = self.command(self.bindir.join("pg_ctl"));
        command.arg("-D").arg(&self.datadir).args(args);
        command
    }

    /// Runs `pg_ctl <args>`, panicking with the server log if it fails. Blocking.
    pub(super) fn pg_ctl(&self, args: &[&str]) {
        if let Err(message) = run(&mut self.pg_ctl_command(args)) {
            panic!(
                "pg_ctl {args:?} failed: {message}\nserver log:\n{}",
                self.log()
            );
        }
    }

    /// The server log of a cluster started with `-l <datadir>/server.log`.
    pub(super) fn log(&self) -> String {
        std::fs::read_to_string(self.datadir.join("server.log")).unwrap_or_default()
    }

    /// Creates the test roles and `database` (owned by [`super::OWNER_ROLE`])
    /// on this cluster's server at `port`. Blocking.
    pub(super) fn create_roles_and_database(&self, port: u16, database: &str) {
        let mut command = self.command(self.bindir.join("psql"));
        command
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres"])
            .args(["-p", &port.to_string(), "-v", "ON_ERROR_STOP=1", "-q"])
            .args(["-c", super::CREATE_ROLES])
            .args([
                "-c",
                &format!("CREATE DATABASE {database} OWNER {}", super::OWNER_ROLE),
            ]);
        if let Err(message) = run(&mut command) {
            panic!("cannot create the test roles and database on port {port}: {message}");
        }
    }
}

/// The directory of `initdb`/`postgres`, or a panic telling how to install them.
pub(super) fn find_bindir() -> PathBuf {
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    let from_debian_layout = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"));
    from_pg_config
        .into_iter()
        .chain(from_debian_layout)
        .find(|dir| dir.join("initdb").is_file() && dir.join("postgres").is_file())
        .unwrap_or_else(|| {
            panic!(
                "no PostgreSQL server binaries found (initdb, postgres): install them with \
                 `apt-get install postgresql` (the tests use pg_config --bindir or \
                 /usr/lib/postgresql/*/bin), or set {DATABASE_URL_ENV} to a server URL"
            )
        })
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// A port that was free a moment ago on 127.0.0.1.
pub(super) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or_else(|e| panic!("cannot find a free port: {e}"))
}

/// Runs a command to completion; the error carries its output.
pub(super) fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    outcome(&format!("{command:?}"), &output)
}

/// [`run`] without blocking the async runtime.
pub(super) async fn run_async(command: Command) -> Result<(), String> {
    let shown = format!("{command:?}");
    let output = tokio::process::Command::from(command)
        .output()
        .await
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    outcome(&shown, &output)
}

fn outcome(command: &str, output: &std::process::Output) -> Result<(), String> {
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{command} exited with {}\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}

fn run_checked(command: &mut Command, what: &str) {
    if let Err(message) = run(command) {
        panic!("cannot {what}: {message}");
    }
}

/// Quotes a string for `sh`.
pub(super) fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_for_the_shell() {
        assert_eq!(quote("/tmp/a b"), "'/tmp/a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
