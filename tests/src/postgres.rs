//! The PostgreSQL server of this test process, started at most once.
//!
//! With `AUDITLOG_TEST_DATABASE_URL` set, that server is used as it is: the URL names
//! a database on which the harness may run `CREATE DATABASE` and create roles (a
//! superuser's, in practice).
//!
//! Every test database is owned by `auditlog_owner`, which migrates it; the
//! service under test connects as `auditlog_app_login` (a member of the group
//! role `auditlog_app`, owner of nothing, no BYPASSRLS), so the whole suite runs
//! under row-level security, as a production installation does. Otherwise the harness
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
mod replicated;

use std::process::Child;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database};

use cluster::{Cluster, find_bindir, free_port};
pub use dedicated::DedicatedCluster;
pub use replicated::ReplicatedCluster;

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

    /// Creates an empty database owned by [`OWNER_ROLE`] and returns its URLs.
    /// The roles are created on first use (idempotently, so concurrent tests and
    /// an `AUDITLOG_TEST_DATABASE_URL` server that already has them are fine).
    pub async fn create_database(&self, name: &str) -> DatabaseUrls {
        let mut options = ConnectOptions::new(self.admin_url.clone());
        options
            .max_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        let admin = Database::connect(options)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the PostgreSQL test server: {e}"));
        admin
            .execute_unprepared(CREATE_ROLES)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot create the test roles {OWNER_ROLE}, auditlog_app and {APP_ROLE}                      (the server's user needs CREATEROLE): {e}"
                )
            });
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\" OWNER {OWNER_ROLE}"))
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        // Closing only releases the admin connection early; an error here is harmless.
        let _ = admin.close().await;
        let superuser = with_database(&self.admin_url, name);
        DatabaseUrls {
            app: with_user(&superuser, APP_ROLE),
            owner: with_user(&superuser, OWNER_ROLE),
            superuser,
        }
    }
}

/// The role that owns each test database and runs its migrations.
pub const OWNER_ROLE: &str = "auditlog_owner";

/// The service's login role: a member of `auditlog_app`, owner of nothing.
pub const APP_ROLE: &str = "auditlog_app_login";

/// Creates the owner, the group role and the service's login role, unless they
/// exist. Each role's password is its name (ignored by the throwaway cluster,
/// which trusts local connections).
pub(crate) const CREATE_ROLES: &str = r#"
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'auditlog_owner') THEN
    CREATE ROLE auditlog_owner LOGIN CREATEROLE PASSWORD 'auditlog_owner';
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'auditlog_app') THEN
    CREATE ROLE auditlog_app NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'auditlog_app_login') THEN
    CREATE ROLE auditlog_app_login LOGIN PASSWORD 'auditlog_app_login' IN ROLE auditlog_app;
  END IF;
EXCEPTION
  -- Another test created them at the same moment.
  WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;
"#;

/// The three connections to one test database.
#[derive(Clone, Debug)]
pub struct DatabaseUrls {
    /// The service's role (`auditlog_app_login`): bound by row-level security.
    pub app: String,
    /// The schema owner (`auditlog_owner`): runs migrations.
    pub owner: String,
    /// The server's superuser (raw SQL of the benchmarks, test set-up).
    pub superuser: String,
}

/// The schema owner's URL for a harness URL of the service role; any other
/// URL (SQLite, an operator's own) is returned unchanged.
pub fn owner_url_of(database_url: &str) -> String {
    if database_url.contains(&format!("://{APP_ROLE}:")) {
        with_user(database_url, OWNER_ROLE)
    } else {
        database_url.to_owned()
    }
}

/// `url` with its user (and password) replaced by `role`, whose password is its name.
pub fn with_user(url: &str, role: &str) -> String {
    let authority = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[authority..];
    let host_start = rest.find('@').map_or(0, |at| at + 1);
    format!("{}{role}:{role}@{}", &url[..authority], &rest[host_start..])
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
    use super::{with_database, with_user};

    #[test]
    fn replaces_the_user() {
        assert_eq!(
            with_user("postgres://postgres@h:5/t_1", "app"),
            "postgres://app:app@h:5/t_1"
        );
        assert_eq!(
            with_user("postgres://u:p@h/t_1?sslmode=disable", "app"),
            "postgres://app:app@h/t_1?sslmode=disable"
        );
        assert_eq!(
            with_user("postgres://h:5/t", "app"),
            "postgres://app:app@h:5/t"
        );
    }

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
