//! The PostgreSQL server of this test process, started at most once.
//!
//! With `AUDITLOG_TEST_DATABASE_URL` set, that server is used as it is: the URL names
//! a database on which the harness may run `CREATE DATABASE`. Otherwise the harness
//! starts a throwaway cluster from the system's PostgreSQL binaries (found through
//! `pg_config --bindir`, then `/usr/lib/postgresql/*/bin`) and fails, saying how to
//! install them, when there are none: PostgreSQL tests are never skipped.
//!
//! The cluster lives exactly as long as this process, without signal handlers or
//! unsafe code: it runs under a small shell supervisor whose standard input is a pipe
//! from this process. When the process exits, however it exits, the kernel closes the
//! pipe; the supervisor reads EOF, stops PostgreSQL and deletes its data directory.
//!
//! `initdb` refuses to run as root (CI runs as root), so as root the cluster belongs
//! to the unprivileged `postgres` user and every server command goes through `runuser`.

mod cluster;
mod dedicated;

use std::process::Child;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database};

use cluster::{Cluster, find_bindir, free_port};
pub use dedicated::DedicatedCluster;

/// Environment variable naming an existing PostgreSQL server to test against.
pub const DATABASE_URL_ENV: &str = "AUDITLOG_TEST_DATABASE_URL";

/// A PostgreSQL server on which each test creates its own database.
pub struct PgServer {
    /// URL of a database on which `CREATE DATABASE` may be run.
    admin_url: String,
    /// The throwaway cluster's supervisor, `None` for `AUDITLOG_TEST_DATABASE_URL`.
    /// Never read: it is kept only so that its stdin pipe stays open until this
    /// process exits (the EOF is what stops and removes the cluster).
    _supervisor: Option<Mutex<Child>>,
}

static SERVER: OnceLock<PgServer> = OnceLock::new();

/// The server of this process, starting the throwaway cluster on first use.
/// Blocks for the cluster's start-up: call it from `spawn_blocking`.
pub fn server() -> &'static PgServer {
    SERVER.get_or_init(PgServer::start)
}

impl PgServer {
    fn start() -> PgServer {
        if let Ok(url) = std::env::var(DATABASE_URL_ENV)
            && !url.trim().is_empty()
        {
            return PgServer {
                admin_url: url,
                _supervisor: None,
            };
        }
        let cluster = Cluster::new(find_bindir());
        cluster.init();
        let port = free_port();
        let supervisor = cluster.spawn(port);
        let supervisor = cluster.wait_until_ready(supervisor, port);
        PgServer {
            admin_url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            _supervisor: Some(Mutex::new(supervisor)),
        }
    }

    /// Creates an empty database and returns its URL.
    pub async fn create_database(&self, name: &str) -> String {
        let mut options = ConnectOptions::new(self.admin_url.clone());
        options
            .max_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        let admin = Database::connect(options)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the PostgreSQL test server: {e}"));
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        // Closing only releases the admin connection early; an error here is harmless.
        let _ = admin.close().await;
        with_database(&self.admin_url, name)
    }
}

/// `url` with its database name replaced by `database` (query string kept).
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority..].find('/') {
        Some(slash) => &base[..authority + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{root}/{database}?{query}"),
        None => format!("{root}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_database("postgres://u@h:5/postgres", "t_1"),
            "postgres://u@h:5/t_1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/admin?sslmode=disable", "t_1"),
            "postgres://u:p@h/t_1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@h:5", "t_1"),
            "postgres://u@h:5/t_1"
        );
    }
}
