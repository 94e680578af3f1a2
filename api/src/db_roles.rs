//! The two PostgreSQL roles of an installation (README, "Production";
//! docs/operations.md, "PostgreSQL roles and row-level security"): the
//! schema's *owner*, which only migrates, and the service's own role, which
//! owns nothing and so is bound by row-level security.
//!
//! - [`migrate`] applies pending migrations as the owner
//!   (`AUDITLOG_MIGRATION_DATABASE_URL`), or on the service's own connection
//!   when that is unset and something is pending (then that role must be able
//!   to migrate: the single-role setup of SQLite and of development).
//! - [`check`] asks PostgreSQL whether the service's role could bypass
//!   row-level security — a superuser, `BYPASSRLS`, or (a member of) the owner
//!   of the tables — and in production mode refuses to start, saying why,
//!   unless `AUDITLOG_ALLOW_RLS_BYPASS` is set; development mode only warns.
//!   The same goes for a role that may UPDATE or DELETE `audit_events`
//!   (append-only for the service since migration 8).
//!
//! Nothing here runs on SQLite, which has no roles.

use std::collections::HashSet;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::config::{Settings, redact_url};
use crate::db;
use crate::store::role_check::bypass_reasons;

/// Applies pending migrations, as the owner when its connection is configured.
pub(crate) async fn migrate(
    settings: &Settings,
    service_db: &DatabaseConnection,
) -> anyhow::Result<()> {
    if let Some(url) = settings.database_roles.migration_url() {
        let owner = db::connect_url(url, 1)
            .await
            .context("connecting as the schema owner (AUDITLOG_MIGRATION_DATABASE_URL)")?;
        let migrated = db::migrate(&owner).await;
        owner.close().await.ok();
        return migrated
            .with_context(|| format!("migrating as the schema owner ({})", redact_url(url)));
    }
    if schema_is_current(service_db).await {
        return Ok(());
    }
    db::migrate_at_start(settings, service_db).await.context(
        "the service's own database role cannot migrate; set AUDITLOG_MIGRATION_DATABASE_URL \
         to the schema owner's connection, or run `migration up` as the owner and set \
         AUDITLOG_AUTO_MIGRATE=false",
    )
}

/// Whether every migration of this build is recorded as applied (read only:
/// the service's role may read the migration table but not create it).
async fn schema_is_current(db: &DatabaseConnection) -> bool {
    let statement = Statement::from_string(
        db.get_database_backend(),
        "SELECT version FROM seaql_migrations",
    );
    let Ok(rows) = db.query_all_raw(statement).await else {
        return false;
    };
    let applied: HashSet<String> = rows
        .iter()
        .filter_map(|row| row.try_get_by_index::<String>(0).ok())
        .collect();
    Migrator::migrations()
        .iter()
        .all(|migration| applied.contains(migration.name()))
}

/// Refuses (production) or warns (development, or with the override) when the
/// service's PostgreSQL role could bypass row-level security.
pub(crate) async fn check(settings: &Settings, db: &DatabaseConnection) -> anyhow::Result<()> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let (role, reasons) = bypass_reasons(db).await?;
    if reasons.is_empty() {
        return Ok(());
    }
    let problem = format!(
        "the PostgreSQL role \"{role}\" of DATABASE_URL could bypass row-level security or \
         rewrite the audit log ({}), so tenant isolation and an append-only log would rest on \
         the application alone",
        reasons.join("; ")
    );
    if settings.is_development() || settings.database_roles.allow_rls_bypass {
        tracing::warn!(role = %role, "{problem}");
        return Ok(());
    }
    anyhow::bail!(
        "refusing to start: {problem}. Connect as a role that owns nothing and has neither \
         SUPERUSER nor BYPASSRLS (e.g. CREATE ROLE auditlog_service LOGIN PASSWORD '...' IN ROLE \
         auditlog_app), migrate as the owner (AUDITLOG_MIGRATION_DATABASE_URL), see README \
         \"Tenant isolation in PostgreSQL\"; or set AUDITLOG_ALLOW_RLS_BYPASS=true to start anyway"
    )
}
