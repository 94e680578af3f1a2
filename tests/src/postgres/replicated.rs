//! A PostgreSQL primary with a real hot standby, both belonging to one test:
//! the standby is made with `pg_basebackup -R` (streaming replication, a
//! physical copy: same roles, databases and row-level security policies),
//! and the test may pause and resume its replay, or stop and start it.
//!
//! Why a primary of its own rather than a standby of the shared cluster: that
//! one holds every test's database, so a base backup of it grows with the
//! suite, and a paused or stopped standby would be every test's. A fresh
//! cluster copies in about a second, and tests using one run in parallel.
//! Like the shared cluster it runs with `fsync=off` for speed.
//!
//! Like the dedicated cluster, its database `auditlog` is owned by
//! [`super::OWNER_ROLE`] and the service connects as [`super::APP_ROLE`], on
//! both servers. Clean-up: a supervisor `sh` waits for EOF on its stdin (a
//! pipe from this process), then stops both servers and deletes both
//! directories, when the [`ReplicatedCluster`] is dropped or the process exits.

use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};

use super::cluster::{Cluster, find_bindir, free_port, quote, run, run_async};

/// The database the tests use.
const DATABASE: &str = "auditlog";

/// How long the standby may take to accept read-only connections, or to
/// reach a replay state asked for.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

pub struct ReplicatedCluster {
    primary: Cluster,
    primary_port: u16,
    standby: Cluster,
    standby_port: u16,
    /// Kept for its stdin pipe only: dropping it starts the clean-up.
    _supervisor: Child,
}

impl ReplicatedCluster {
    /// Starts a primary with the test database and a hot standby of it, and
    /// returns once the standby accepts connections in recovery.
    pub async fn start() -> ReplicatedCluster {
        let cluster = tokio::task::spawn_blocking(Self::primary_and_backup)
            .await
            .unwrap_or_else(|e| panic!("setting up the replicated cluster failed: {e}"));
        cluster.start_standby().await;
        cluster
    }

    /// The primary, running, with the test database, and its base backup in
    /// the standby's directory. Blocking.
    fn primary_and_backup() -> ReplicatedCluster {
        let bindir = find_bindir();
        let primary = Cluster::new(bindir.clone());
        primary.init();
        let standby = Cluster::new(bindir);
        let pg_ctl = quote(&primary.bindir.join("pg_ctl").to_string_lossy());
        let (primary_data, standby_data) = (
            quote(&primary.datadir.to_string_lossy()),
            quote(&standby.datadir.to_string_lossy()),
        );
        let supervisor = primary
            .command("sh")
            .arg("-c")
            .arg(format!(
                "cat >/dev/null; \
                 {pg_ctl} -D {standby_data} stop -m immediate >/dev/null 2>&1; \
                 {pg_ctl} -D {primary_data} stop -m immediate >/dev/null 2>&1; \
                 rm -rf {standby_data} {primary_data}"
            ))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the replicated cluster's supervisor: {e}"));
        let cluster = ReplicatedCluster {
            primary,
            primary_port: free_port(),
            standby,
            standby_port: free_port(),
            _supervisor: supervisor,
        };
        cluster.start_primary();
        cluster
            .primary
            .create_roles_and_database(cluster.primary_port, DATABASE);
        cluster.base_backup();
        cluster
    }

    /// The primary's URLs of the test database (service role, owner, superuser).
    pub fn primary_urls(&self) -> super::DatabaseUrls {
        let superuser = url(self.primary_port, "postgres");
        super::DatabaseUrls {
            app: super::with_user(&superuser, super::APP_ROLE),
            owner: super::with_user(&superuser, super::OWNER_ROLE),
            superuser,
        }
    }

    /// The standby's URL of the test database as the service's role
    /// (`AUDITLOG_READ_DATABASE_URL`).
    pub fn standby_url(&self) -> String {
        super::with_user(&self.standby_superuser_url(), super::APP_ROLE)
    }

    /// The standby's URL of the test database as the superuser.
    pub fn standby_superuser_url(&self) -> String {
        url(self.standby_port, "postgres")
    }

    /// Pauses the standby's replay (`pg_wal_replay_pause()`) and waits until it
    /// has paused: from then on it receives WAL but applies none.
    pub async fn pause_replay(&self) {
        let standby = self.standby_superuser().await;
        execute(&standby, "SELECT pg_wal_replay_pause()").await;
        let deadline = Instant::now() + READY_TIMEOUT;
        while query_text(&standby, "SELECT pg_get_wal_replay_pause_state()").await != "paused" {
            assert!(
                Instant::now() < deadline,
                "the standby's replay never paused"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = standby.close().await;
    }

    /// Resumes the standby's replay (`pg_wal_replay_resume()`).
    pub async fn resume_replay(&self) {
        let standby = self.standby_superuser().await;
        execute(&standby, "SELECT pg_wal_replay_resume()").await;
        let _ = standby.close().await;
    }

    /// Stops the standby (fast shutdown: its connections are closed).
    pub async fn stop_standby(&self) {
        let command = self.standby.pg_ctl_command(&["stop", "-m", "fast", "-w"]);
        if let Err(message) = run_async(command).await {
            panic!("cannot stop the standby: {message}");
        }
    }

    fn start_primary(&self) {
        let data = self.primary.datadir.to_string_lossy().into_owned();
        // `wal_level=replica` and ten WAL senders are PostgreSQL's defaults,
        // and `initdb --auth=trust` writes `host replication all
        // 127.0.0.1/32 trust`; they are spelled out so the test does not
        // depend on a packager's defaults.
        let options = format!(
            "-h 127.0.0.1 -p {} -k {} -c fsync=off -c synchronous_commit=off \
             -c wal_level=replica -c max_wal_senders=4 -c max_connections=100",
            self.primary_port,
            quote(&data)
        );
        let log = format!("{data}/server.log");
        self.primary
            .pg_ctl(&["start", "-w", "-t", "60", "-l", &log, "-o", &options]);
    }

    /// `pg_basebackup -R`: a copy of the primary that starts as its standby
    /// (`standby.signal`, and `primary_conninfo` in `postgresql.auto.conf`).
    fn base_backup(&self) {
        // The server refuses a data directory others may read; `pg_basebackup`
        // keeps the mode of the existing (empty) directory.
        let private = std::fs::Permissions::from_mode(0o700);
        std::fs::set_permissions(&self.standby.datadir, private)
            .unwrap_or_else(|e| panic!("cannot restrict the standby's directory: {e}"));
        let mut backup = self
            .primary
            .command(self.primary.bindir.join("pg_basebackup"));
        backup
            .arg("-R")
            .arg("-D")
            .arg(&self.standby.datadir)
            .args([
                "-d",
                &format!("host=127.0.0.1 port={} user=postgres", self.primary_port),
            ])
            .args(["--checkpoint=fast", "--wal-method=stream", "--no-sync"]);
        if let Err(message) = run(&mut backup) {
            panic!(
                "pg_basebackup failed: {message}\nprimary log:\n{}",
                self.primary.log()
            );
        }
    }

    /// Starts the standby again on its port and directory; it catches up
    /// with the primary by itself.
    pub async fn start_standby(&self) {
        let data = self.standby.datadir.to_string_lossy().into_owned();
        let options = format!(
            "-h 127.0.0.1 -p {} -k {} -c hot_standby=on -c fsync=off -c max_connections=100",
            self.standby_port,
            quote(&data)
        );
        let log = format!("{data}/server.log");
        let command = self
            .standby
            .pg_ctl_command(&["start", "-w", "-t", "60", "-l", &log, "-o", &options]);
        if let Err(message) = run_async(command).await {
            panic!(
                "cannot start the standby: {message}\nlog:\n{}",
                self.standby.log()
            );
        }
        self.wait_in_recovery().await;
    }

    /// Polls until the standby accepts connections and says it is in recovery.
    async fn wait_in_recovery(&self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(standby) = connect(&self.standby_superuser_url()).await {
                let in_recovery = query_text(&standby, "SELECT pg_is_in_recovery()::text").await;
                let _ = standby.close().await;
                if in_recovery == "true" {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the standby did not come up in recovery; log:\n{}",
                self.standby.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn standby_superuser(&self) -> DatabaseConnection {
        connect(&self.standby_superuser_url())
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the standby: {e}"))
    }
}

fn url(port: u16, user: &str) -> String {
    format!("postgres://{user}@127.0.0.1:{port}/{DATABASE}")
}

/// One connection, without sqlx's statement logging.
async fn connect(url: &str) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    Database::connect(options).await
}

async fn execute(db: &DatabaseConnection, sql: &str) {
    db.execute_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The first column of the first row of `sql`, as text.
async fn query_text(db: &DatabaseConnection, sql: &str) -> String {
    db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .and_then(|row| row.try_get_by_index::<String>(0).ok())
        .unwrap_or_default()
}
