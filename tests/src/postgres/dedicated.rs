//! A PostgreSQL cluster that belongs to one test, which may crash it
//! (`pg_ctl stop -m immediate`: every server process quits at once, without a
//! checkpoint, as after a power cut of the server) and start it again on the
//! same port and data directory (crash recovery replays the WAL).
//!
//! Unlike the shared throwaway cluster it runs with `fsync=on` and
//! `synchronous_commit=on`, the production settings, so what it proves about
//! acknowledged events is what production gets. The shared cluster is never
//! stopped by a test.
//!
//! Like the shared cluster's test databases, its database `auditlog` is owned
//! by [`super::OWNER_ROLE`] and the service connects as [`super::APP_ROLE`],
//! so row-level security holds here too.
//!
//! Clean-up: a supervisor `sh` waits for EOF on its stdin (a pipe from this
//! process); when the [`DedicatedCluster`] is dropped, or the test process
//! exits however it exits, it stops the server and deletes the directory.

use std::process::{Child, Stdio};

use super::cluster::{Cluster, find_bindir, free_port, quote};

/// The database the tests use on a dedicated cluster.
const DATABASE: &str = "auditlog";

pub struct DedicatedCluster {
    cluster: Cluster,
    port: u16,
    /// Kept for its stdin pipe only: dropping it starts the clean-up.
    _supervisor: Child,
}

impl DedicatedCluster {
    /// Initializes and starts a new cluster. Blocking: call from `spawn_blocking`.
    pub fn start() -> DedicatedCluster {
        let cluster = Cluster::new(find_bindir());
        cluster.init();
        let port = free_port();
        let data = quote(&cluster.datadir.to_string_lossy());
        let pg_ctl = quote(&cluster.bindir.join("pg_ctl").to_string_lossy());
        let supervisor = cluster
            .command("sh")
            .arg("-c")
            .arg(format!(
                "cat >/dev/null; {pg_ctl} -D {data} stop -m immediate >/dev/null 2>&1; rm -rf {data}"
            ))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the dedicated cluster's supervisor: {e}"));
        let dedicated = DedicatedCluster {
            cluster,
            port,
            _supervisor: supervisor,
        };
        dedicated.start_server();
        dedicated
            .cluster
            .create_roles_and_database(dedicated.port, DATABASE);
        dedicated
    }

    /// The service's URL: role [`super::APP_ROLE`] on database `auditlog`.
    pub fn url(&self) -> String {
        super::with_user(&self.superuser_url(), super::APP_ROLE)
    }

    /// The schema owner's URL (`AUDITLOG_MIGRATION_DATABASE_URL`).
    pub fn owner_url(&self) -> String {
        super::with_user(&self.superuser_url(), super::OWNER_ROLE)
    }

    /// The superuser's URL, for checks that must see every tenant's rows.
    pub fn superuser_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{DATABASE}", self.port)
    }

    /// `pg_ctl stop -m immediate`: the server quits without a checkpoint.
    /// Blocking.
    pub fn stop_immediate(&self) {
        self.cluster.pg_ctl(&["stop", "-m", "immediate", "-w"]);
    }

    /// Starts the server again on the same port and data directory, waiting
    /// until it accepts connections (after crash recovery). Blocking.
    pub fn start_server(&self) {
        let data = self.cluster.datadir.to_string_lossy().into_owned();
        let options = format!(
            "-h 127.0.0.1 -p {} -k {} -c fsync=on -c synchronous_commit=on \
             -c full_page_writes=on -c max_connections=100",
            self.port,
            quote(&data)
        );
        let log = format!("{data}/server.log");
        self.cluster
            .pg_ctl(&["start", "-w", "-t", "60", "-l", &log, "-o", &options]);
    }
}
