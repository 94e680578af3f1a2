//! Start-up check of the database settings that "acknowledged means durable"
//! depends on: a `recordAuditEvents` that returned success must survive a crash
//! of the service, of the database server, or of the machine.
//!
//! - PostgreSQL: `fsync=off` (a crash of the machine can corrupt or lose
//!   committed data) and `synchronous_commit=off` (a commit is acknowledged
//!   before its WAL is flushed) are unsafe; `on`, `local`, `remote_write` and
//!   `remote_apply` are fine.
//! - SQLite in WAL mode: `synchronous` below FULL (2) acknowledges commits
//!   before they reach the disk. The service opens SQLite with FULL itself, so
//!   this guards operator overrides.
//!
//! In production mode an unsafe setting refuses the start with a message naming
//! it, unless `AUDITLOG_ALLOW_UNSAFE_DURABILITY=true`; in development mode (and
//! with the override) it is a warning. This module only reads settings.

use anyhow::Context;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::config::Settings;

/// One setting that breaks durability, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsafeSetting {
    /// e.g. `PostgreSQL fsync`.
    pub setting: &'static str,
    /// The value found.
    pub value: String,
    /// What to set instead.
    pub fix: &'static str,
}

impl std::fmt::Display for UnsafeSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is `{}` ({})", self.setting, self.value, self.fix)
    }
}

/// Refuses (production) or warns (development, or with the override) when the
/// database's settings break durability.
pub async fn check(db: &DatabaseConnection, settings: &Settings) -> anyhow::Result<()> {
    let found = unsafe_settings(db)
        .await
        .context("reading the database's durability settings")?;
    if found.is_empty() {
        return Ok(());
    }
    let list = found
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    if settings.is_development() || settings.allow_unsafe_durability {
        tracing::warn!(
            unsafe_settings = %list,
            "the database's settings can lose acknowledged events in a crash; starting anyway \
             (development mode or AUDITLOG_ALLOW_UNSAFE_DURABILITY=true)"
        );
        return Ok(());
    }
    anyhow::bail!(
        "refusing to start in production mode: the database's settings can lose acknowledged \
         events in a crash: {list}. Fix the setting, or set AUDITLOG_ALLOW_UNSAFE_DURABILITY=true \
         (--allow-unsafe-durability true) to start anyway"
    )
}

/// Every setting of the connected database that breaks durability.
pub async fn unsafe_settings(
    db: &DatabaseConnection,
) -> Result<Vec<UnsafeSetting>, sea_orm::DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => postgres(db).await,
        DbBackend::Sqlite => sqlite(db).await,
        _ => Ok(Vec::new()),
    }
}

async fn postgres(db: &DatabaseConnection) -> Result<Vec<UnsafeSetting>, sea_orm::DbErr> {
    let mut found = Vec::new();
    let fsync = show(db, "fsync").await?;
    if fsync.eq_ignore_ascii_case("off") {
        found.push(UnsafeSetting {
            setting: "PostgreSQL fsync",
            value: fsync,
            fix: "set `fsync = on` in postgresql.conf",
        });
    }
    let synchronous_commit = show(db, "synchronous_commit").await?;
    if synchronous_commit.eq_ignore_ascii_case("off") {
        found.push(UnsafeSetting {
            setting: "PostgreSQL synchronous_commit",
            value: synchronous_commit,
            fix: "set `synchronous_commit = on` for the server, database or role",
        });
    }
    Ok(found)
}

async fn show(db: &DatabaseConnection, name: &'static str) -> Result<String, sea_orm::DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SHOW {name}"),
        ))
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(format!("SHOW {name}")))?;
    row.try_get::<String>("", name)
}

async fn sqlite(db: &DatabaseConnection) -> Result<Vec<UnsafeSetting>, sea_orm::DbErr> {
    let journal_mode: String = pragma(db, "journal_mode").await?;
    let synchronous: i64 = pragma(db, "synchronous").await?;
    // 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA.
    if journal_mode.eq_ignore_ascii_case("wal") && synchronous < 2 {
        let value = match synchronous {
            0 => "OFF".to_owned(),
            1 => "NORMAL".to_owned(),
            other => other.to_string(),
        };
        return Ok(vec![UnsafeSetting {
            setting: "SQLite synchronous (WAL mode)",
            value,
            fix: "use `synchronous=FULL`, the service's own setting",
        }]);
    }
    Ok(Vec::new())
}

async fn pragma<T: sea_orm::TryGetable>(
    db: &DatabaseConnection,
    name: &'static str,
) -> Result<T, sea_orm::DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            format!("PRAGMA {name}"),
        ))
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(format!("PRAGMA {name}")))?;
    row.try_get::<T>("", name)
}
