//! Database roles: the owner connection used only to migrate, and the override
//! of the start-up refusal to run as a role that could bypass row-level security
//! (see `db_role_check`).

use clap::Args;

use super::DatabaseUrl;

/// Flags and environment variables of the database roles (PostgreSQL).
#[derive(Clone, Debug, Default, Args)]
pub struct DatabaseRolesConfig {
    /// Connection of the schema's owner, used only to apply migrations at start
    /// (`AUDITLOG_AUTO_MIGRATE`). Unset: migrations use `DATABASE_URL`, which then
    /// must be the owner too unless the schema is already current.
    #[arg(long, env = "AUDITLOG_MIGRATION_DATABASE_URL", hide_env_values = true)]
    pub migration_database_url: Option<DatabaseUrl>,

    /// Start in production mode even if the service's PostgreSQL role could
    /// bypass row-level security (superuser, BYPASSRLS, owner of the tables).
    #[arg(long, env = "AUDITLOG_ALLOW_RLS_BYPASS", default_value_t = false, action = clap::ArgAction::Set)]
    pub allow_rls_bypass: bool,
}

impl DatabaseRolesConfig {
    /// The owner URL when one is set (an empty value counts as unset).
    pub fn migration_url(&self) -> Option<&str> {
        self.migration_database_url
            .as_deref()
            .filter(|url| !url.trim().is_empty())
    }
}
