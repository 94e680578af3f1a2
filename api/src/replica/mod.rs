//! [`ReadPool`]: which server a tenant read runs on, the primary or a
//! PostgreSQL hot standby (`AUDITLOG_READ_DATABASE_URL`).
//!
//! Only the reads that may be a little stale go to the standby: event lists
//! and searches (`auditEvents`), facets, and permalinks (`auditEvent`), which
//! fall back to the primary when the standby does not have the event yet (a
//! link shared right after the event was recorded must open). Everything
//! else stays on the primary: writes, idempotency lookups, authentication
//! (keys, sessions, the tenant row), the live feed, whose replay relies on
//! "who has seen sequence N has seen everything up to N", and readiness.
//!
//! The standby is used only while its background check (`health`) says it
//! answers and lags at most `AUDITLOG_READ_MAX_LAG_MS`; a read that fails
//! there with a connection error (or is cancelled by a recovery conflict) is
//! run again on the primary, so a standby going away costs clients nothing.
//! Reads on the standby run in the same `tenant_scope::begin` transaction as
//! on the primary: a physical standby has the same roles and row-level
//! security policies, and `set_config` is allowed in its read-only
//! transactions.

mod health;
mod lag;

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use sea_orm::{DatabaseConnection, DbBackend, DbErr};

use crate::config::{Settings, redact_url};
use crate::error::{ApiError, ApiResult};
pub(crate) use health::{StandbyHealth, StandbyState, StandbyStatus};

/// The server that answered a read: the `server` label of
/// `auditlog_db_reads_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Server {
    Primary,
    Standby,
}

impl Server {
    fn label(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Standby => "standby",
        }
    }
}

/// The primary, and the standby with its health when one is configured.
#[derive(Clone)]
pub(crate) struct ReadPool {
    primary: DatabaseConnection,
    standby: Option<(DatabaseConnection, StandbyHealth)>,
}

impl ReadPool {
    /// Every read on `primary` (no standby configured).
    pub(crate) fn primary_only(primary: DatabaseConnection) -> Self {
        Self {
            primary,
            standby: None,
        }
    }

    /// The pool of `settings`: with a standby when `AUDITLOG_READ_DATABASE_URL`
    /// is set, whose first check runs now. A standby that is down or behind
    /// does not delay the start; one whose role could bypass row-level
    /// security refuses it (in production, like the primary's role).
    pub(crate) async fn connect(
        settings: &Settings,
        primary: DatabaseConnection,
    ) -> anyhow::Result<Self> {
        let Some(url) = settings.read_replica.url() else {
            return Ok(Self::primary_only(primary));
        };
        anyhow::ensure!(
            primary.get_database_backend() == DbBackend::Postgres && url.starts_with("postgres"),
            "AUDITLOG_READ_DATABASE_URL needs PostgreSQL: a hot standby of a PostgreSQL DATABASE_URL"
        );
        let statement_timeout = (settings.limits.db_statement_timeout_ms > 0)
            .then(|| Duration::from_millis(settings.limits.db_statement_timeout_ms));
        let standby = crate::store::connection::connect_standby(
            url,
            settings.db_max_connections,
            Duration::from_millis(settings.db_acquire_timeout_ms),
            statement_timeout,
        )
        .await
        .with_context(|| format!("cannot open a pool on {}", redact_url(url)))?;
        let refuse_rls_bypass =
            !settings.is_development() && !settings.database_roles.allow_rls_bypass;
        let health = health::Checker::new(
            primary.clone(),
            standby.clone(),
            settings.read_replica.max_lag(),
            refuse_rls_bypass,
        )
        .start()
        .await;
        anyhow::ensure!(
            health.status().state != StandbyState::Refused,
            "refusing to start: the PostgreSQL role of AUDITLOG_READ_DATABASE_URL could bypass \
             row-level security (see the log); connect there as the service's own role, or set \
             AUDITLOG_ALLOW_RLS_BYPASS=true to start anyway"
        );
        Ok(Self {
            primary,
            standby: Some((standby, health)),
        })
    }

    /// The primary, for the reads that must see every commit.
    pub(crate) fn primary(&self) -> &DatabaseConnection {
        &self.primary
    }

    /// The standby's latest check (`None`: no standby configured).
    pub(crate) fn standby_health(&self) -> Option<StandbyHealth> {
        self.standby.as_ref().map(|(_, health)| health.clone())
    }

    /// Runs `read` on the standby while it is healthy, else on the primary;
    /// a standby that fails with a connection error is bypassed and `read`
    /// runs again on the primary. `read` gets a handle of the pool (a cheap
    /// clone: an async closure borrowing it would make resolvers' futures
    /// fail the `Send` bound async-graphql needs).
    pub(crate) async fn read<T, Read, Reading>(&self, read: Read) -> ApiResult<T>
    where
        Read: Fn(DatabaseConnection) -> Reading,
        Reading: Future<Output = ApiResult<T>>,
    {
        if let Some(result) = self.try_standby(&read).await {
            return result;
        }
        on(Server::Primary, read(self.primary.clone()).await)
    }

    /// [`ReadPool::read`] for one object, which is looked up on the primary
    /// too when the standby does not have it (yet).
    pub(crate) async fn read_found<T, Read, Reading>(&self, read: Read) -> ApiResult<Option<T>>
    where
        Read: Fn(DatabaseConnection) -> Reading,
        Reading: Future<Output = ApiResult<Option<T>>>,
    {
        match self.try_standby(&read).await {
            Some(Ok(Some(found))) => Ok(Some(found)),
            Some(Err(error)) => Err(error),
            Some(Ok(None)) | None => on(Server::Primary, read(self.primary.clone()).await),
        }
    }

    /// `read` on the standby when it serves reads; `None` when it does not,
    /// or when it failed in a way the primary may not.
    async fn try_standby<T, Read, Reading>(&self, read: &Read) -> Option<ApiResult<T>>
    where
        Read: Fn(DatabaseConnection) -> Reading,
        Reading: Future<Output = ApiResult<T>>,
    {
        let (standby, health) = self.standby.as_ref()?;
        if health.status().state != StandbyState::Ok {
            return None;
        }
        match read(standby.clone()).await {
            Err(error) if is_unavailable(&error) => {
                tracing::warn!(error = %format!("{error:#}"), "a read on the read replica failed; retrying on the primary");
                health.mark_unreachable();
                None
            }
            Err(error) if is_recovery_conflict(&error) => {
                tracing::info!(
                    "a read on the read replica conflicted with replay; retrying on the primary"
                );
                None
            }
            result => Some(on(Server::Standby, result)),
        }
    }
}

/// Counts a read that `server` answered.
fn on<T>(server: Server, result: ApiResult<T>) -> ApiResult<T> {
    if result.is_ok() {
        metrics::counter!("auditlog_db_reads_total", "server" => server.label()).increment(1);
    }
    result
}

fn is_unavailable(error: &ApiError) -> bool {
    error.code() == crate::error::code::UNAVAILABLE
}

/// A hot standby cancels a query whose snapshot replay must overwrite
/// (`canceling statement due to conflict with recovery`): SQLSTATE 40001,
/// or 40P01 for a buffer-pin deadlock. A standby's transactions are
/// read-only, so there these codes mean nothing else; the primary has no
/// such conflict.
fn is_recovery_conflict(error: &ApiError) -> bool {
    let ApiError::Internal(cause) = error else {
        return false;
    };
    cause
        .chain()
        .filter_map(|cause| cause.downcast_ref::<DbErr>())
        .any(|error| {
            let (DbErr::Exec(sea_orm::RuntimeErr::SqlxError(error))
            | DbErr::Query(sea_orm::RuntimeErr::SqlxError(error))) = error
            else {
                return false;
            };
            error
                .as_database_error()
                .and_then(|database| database.code())
                .is_some_and(|code| code == "40001" || code == "40P01")
        })
}
