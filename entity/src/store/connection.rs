//! Connecting to the database: the pool options per backend, shared by the
//! service and the worker.
//!
//! SQLite is the embedded default. It gets WAL journaling (readers never block the
//! writer), `synchronous=FULL` (an acknowledged event survives a power cut), a busy
//! timeout (concurrent writers queue instead of failing) and foreign keys on.
//! PostgreSQL connections may get a `statement_timeout`; a hot standby's pool
//! ([`connect_standby`]) is lazy and read-only.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// The pool reconnects by itself: a connection that fails its check before use
/// is replaced, and while the database is down each acquisition gives up after
/// `acquire_timeout` (an `UNAVAILABLE` error, see `error::unavailable`).
/// `statement_timeout` is PostgreSQL's (`None`: none; SQLite has no such setting).
pub async fn connect_with(
    database_url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
    statement_timeout: Option<Duration>,
) -> Result<DatabaseConnection, DbErr> {
    let options = pool_options(
        database_url,
        max_connections,
        acquire_timeout,
        postgres_settings(statement_timeout),
    );
    Database::connect(options).await
}

/// A pool on a PostgreSQL hot standby, for reads only. It connects lazily, so
/// a standby that is down at start delays nothing (its health is checked in
/// the background), and every transaction on it is read-only
/// (`default_transaction_read_only`): a hot standby refuses writes anyway, and
/// so does a promoted one reached through this pool.
pub async fn connect_standby(
    database_url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
    statement_timeout: Option<Duration>,
) -> Result<DatabaseConnection, DbErr> {
    let mut settings = postgres_settings(statement_timeout);
    settings.push(("default_transaction_read_only", "on".to_owned()));
    let mut options = pool_options(database_url, max_connections, acquire_timeout, settings);
    options.connect_lazy(true);
    Database::connect(options).await
}

/// The session settings of a PostgreSQL connection.
fn postgres_settings(statement_timeout: Option<Duration>) -> Vec<(&'static str, String)> {
    statement_timeout
        .map(|timeout| {
            (
                "statement_timeout",
                format!("{}ms", timeout.as_millis().max(1)),
            )
        })
        .into_iter()
        .collect()
}

fn pool_options(
    database_url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
    postgres_settings: Vec<(&'static str, String)>,
) -> ConnectOptions {
    let mut options = ConnectOptions::new(database_url.to_owned());
    options
        .max_connections(max_connections)
        // No pool maintenance task: sqlx 0.9's reaper can spin a core forever
        // on a racy idle count (transact-rs/sqlx#3645, fixed by #4289 after
        // 0.9.0); it runs only with a minimum size, an idle timeout or a
        // maximum lifetime. Connections are opened on demand and checked
        // before use, so a dead one is replaced anyway.
        .min_connections(0)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_timeout(acquire_timeout)
        .acquire_timeout(acquire_timeout)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|options| {
            options
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
        });
    if !postgres_settings.is_empty() {
        options.map_sqlx_postgres_opts(move |options| {
            options.options(
                postgres_settings
                    .iter()
                    .map(|(name, value)| (*name, value.as_str())),
            )
        });
    }
    options
}

/// Hides the password of a `scheme://user:password@host/db` URL.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}://{}:***{}", &url[..scheme_end], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redacts_password_only() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/audit"),
            "postgres://app:***@db:5432/audit"
        );
        assert_eq!(
            redact_url("sqlite://auditlog.db?mode=rwc"),
            "sqlite://auditlog.db?mode=rwc"
        );
    }
}
