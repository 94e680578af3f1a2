//! Readiness: may this process take traffic? Yes when a database round trip
//! succeeds within a short time and every migration this build knows is applied.
//!
//! The migration check reads `seaql_migrations` only (no `CREATE TABLE`, which
//! `MigratorTrait::get_pending_migrations` would try), so it works for a role
//! that may only read the schema. Once the schema is current it stays current
//! for this process (migrations are never rolled back under a running
//! service), so later checks are a single ping. A schema *newer* than this build
//! (a rolling upgrade migrated ahead) counts as current.
//!
//! A read replica's state (`AUDITLOG_READ_DATABASE_URL`) is reported but
//! never makes the process unready: while it is down or behind, reads go to
//! the primary. It comes from the replica's background check, not from a
//! probe of its own here.
//!
//! Liveness (`/healthz`) is not here: it needs nothing but a running process.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::replica::{StandbyHealth, StandbyStatus};

/// Longest a readiness check waits for the database.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// The outcome of one check, by name; `failing` names the first failed check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadinessReport {
    pub database: CheckState,
    pub migrations: CheckState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckState {
    Ok,
    /// The database did not answer (or not in time).
    Unreachable,
    /// Migrations of this build are not applied yet.
    Pending,
    /// Not checked because an earlier check failed.
    Unknown,
}

impl CheckState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Unreachable => "unreachable",
            Self::Pending => "pending",
            Self::Unknown => "unknown",
        }
    }
}

impl ReadinessReport {
    pub fn is_ready(&self) -> bool {
        self.database == CheckState::Ok && self.migrations == CheckState::Ok
    }

    /// The name of the first failing check, if any.
    pub fn failing(&self) -> Option<&'static str> {
        if self.database != CheckState::Ok {
            Some("database")
        } else if self.migrations != CheckState::Ok {
            Some("migrations")
        } else {
            None
        }
    }
}

#[derive(Clone)]
pub struct Readiness {
    db: DatabaseConnection,
    /// Set once every known migration was seen applied.
    schema_current: Arc<AtomicBool>,
    /// The read replica's health, when one is configured.
    standby: Option<StandbyHealth>,
}

impl Readiness {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            schema_current: Arc::new(AtomicBool::new(false)),
            standby: None,
        }
    }

    /// Reports `standby` too.
    pub(crate) fn with_standby(mut self, standby: Option<StandbyHealth>) -> Self {
        self.standby = standby;
        self
    }

    /// The read replica's latest check (`None`: no replica configured).
    pub(crate) fn standby(&self) -> Option<StandbyStatus> {
        self.standby.as_ref().map(StandbyHealth::status)
    }

    pub async fn check(&self) -> ReadinessReport {
        match tokio::time::timeout(CHECK_TIMEOUT, self.check_unbounded()).await {
            Ok(report) => report,
            Err(_) => {
                tracing::warn!("readiness check: the database did not answer in time");
                ReadinessReport {
                    database: CheckState::Unreachable,
                    migrations: CheckState::Unknown,
                }
            }
        }
    }

    async fn check_unbounded(&self) -> ReadinessReport {
        if let Err(error) = self.db.ping().await {
            tracing::warn!(error = %error, "readiness check: database unreachable");
            return ReadinessReport {
                database: CheckState::Unreachable,
                migrations: CheckState::Unknown,
            };
        }
        if self.schema_current.load(Ordering::Relaxed) {
            return ReadinessReport {
                database: CheckState::Ok,
                migrations: CheckState::Ok,
            };
        }
        let migrations = match self.pending_migrations().await {
            Ok(pending) if pending.is_empty() => {
                self.schema_current.store(true, Ordering::Relaxed);
                CheckState::Ok
            }
            Ok(pending) => {
                tracing::warn!(pending = ?pending, "readiness check: migrations pending");
                CheckState::Pending
            }
            Err(error) if crate::error::unavailable::is_unavailable(&error) => {
                return ReadinessReport {
                    database: CheckState::Unreachable,
                    migrations: CheckState::Unknown,
                };
            }
            Err(error) => {
                // Typically: the migration table does not exist yet.
                tracing::warn!(error = %error, "readiness check: cannot read the applied migrations");
                CheckState::Pending
            }
        };
        ReadinessReport {
            database: CheckState::Ok,
            migrations,
        }
    }

    /// Names of this build's migrations that the database has not applied.
    async fn pending_migrations(&self) -> Result<Vec<String>, sea_orm::DbErr> {
        let backend = self.db.get_database_backend();
        let rows = self
            .db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT version FROM seaql_migrations",
            ))
            .await?;
        let applied = rows
            .iter()
            .map(|row| row.try_get::<String>("", "version"))
            .collect::<Result<HashSet<_>, _>>()?;
        Ok(Migrator::migrations()
            .iter()
            .map(|migration| migration.name().to_owned())
            .filter(|name| !applied.contains(name))
            .collect())
    }
}
