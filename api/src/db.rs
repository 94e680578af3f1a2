//! Database connection: pool options per backend, and start-up migration.
//!
//! SQLite is the embedded default. It gets WAL journaling (readers never block the
//! writer), `synchronous=FULL` (an acknowledged event survives a power cut), a busy
//! timeout (concurrent writers queue instead of failing) and foreign keys on.
//!
//! PostgreSQL connections of the service get `statement_timeout`
//! (`AUDITLOG_DB_STATEMENT_TIMEOUT_MS`): a statement running longer is cancelled
//! with SQLSTATE 57014, which [`is_statement_timeout`] recognises so the API
//! answers `TIMEOUT`. Migrations run on a connection of their own without it
//! (an index build may take long); `auditlog-worker` sets none either.

use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{DatabaseConnection, DbBackend, DbErr, RuntimeErr};

use crate::config::Settings;
use crate::store::connection::{self, redact_url};

/// How long the worker's pool waits for a connection (the service's is
/// `AUDITLOG_DB_ACQUIRE_TIMEOUT_MS`).
const WORKER_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The service's pool. While the database is unreachable (starting, or
/// restarting after a crash) it retries for `AUDITLOG_DB_STARTUP_WAIT_SECS`,
/// so a service started during an outage comes up when the database does.
pub async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let statement_timeout = (settings.limits.db_statement_timeout_ms > 0)
        .then(|| Duration::from_millis(settings.limits.db_statement_timeout_ms));
    let give_up_at =
        tokio::time::Instant::now() + Duration::from_secs(settings.db_startup_wait_secs);
    loop {
        let connected = connect_with(
            &settings.database_url,
            settings.db_max_connections,
            Duration::from_millis(settings.db_acquire_timeout_ms),
            statement_timeout,
        )
        .await;
        match connected {
            Err(error)
                if tokio::time::Instant::now() < give_up_at
                    && crate::error::unavailable::is_unavailable_chain(&error) =>
            {
                tracing::warn!(error = %format!("{error:#}"), "database unreachable at start; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            other => return other,
        }
    }
}

/// A pool on `database_url` with at most `max_connections` connections (used
/// directly by `auditlog-worker`, which has no HTTP settings).
pub async fn connect_url(
    database_url: &str,
    max_connections: u32,
) -> anyhow::Result<DatabaseConnection> {
    connect_with(database_url, max_connections, WORKER_ACQUIRE_TIMEOUT, None).await
}

/// A pool on `database_url` (see `entity::store::connection`), with the URL,
/// password redacted, in the error.
pub async fn connect_with(
    database_url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
    statement_timeout: Option<Duration>,
) -> anyhow::Result<DatabaseConnection> {
    connection::connect_with(
        database_url,
        max_connections,
        acquire_timeout,
        statement_timeout,
    )
    .await
    .with_context(|| format!("cannot connect to {}", redact_url(database_url)))
}

/// Applies every pending migration at start: on PostgreSQL over a connection
/// of its own without the service's statement timeout, else over `db`.
pub async fn migrate_at_start(settings: &Settings, db: &DatabaseConnection) -> anyhow::Result<()> {
    if db.get_database_backend() != DbBackend::Postgres
        || settings.limits.db_statement_timeout_ms == 0
    {
        return migrate(db).await;
    }
    let own = connect_url(&settings.database_url, 1).await?;
    let result = migrate(&own).await;
    if let Err(error) = own.close().await {
        tracing::warn!(error = %error, "closing the migration connection failed");
    }
    result
}

/// Whether `error` is PostgreSQL cancelling a statement (SQLSTATE 57014
/// `query_canceled`), which here means `statement_timeout` expired.
pub fn is_statement_timeout(error: &DbErr) -> bool {
    let (DbErr::Exec(RuntimeErr::SqlxError(error))
    | DbErr::Query(RuntimeErr::SqlxError(error))
    | DbErr::Conn(RuntimeErr::SqlxError(error))) = error
    else {
        return false;
    };
    error
        .as_database_error()
        .and_then(|database| database.code())
        .is_some_and(|code| code == "57014")
}

/// Applies every pending migration (a no-op when the schema is current).
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None)
        .await
        .context("applying database migrations")
}
