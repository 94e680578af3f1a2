//! What the connected PostgreSQL role may do that it should not: bypass
//! row-level security, or rewrite the append-only log. The service refuses to
//! start on such a role in production (`api`'s `db_roles`); the worker warns.

use anyhow::Context;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

/// The tables the owner creates and the service reads and writes.
const SERVICE_TABLES: &str = "'tenants', 'api_keys', 'audit_events', 'instance_settings', \
                              'retention_leases', 'user_sessions', 'audit_view_marks'";

/// What lets the connected role bypass row-level security or rewrite the
/// append-only audit log (empty: nothing).
pub async fn bypass_reasons(db: &DatabaseConnection) -> anyhow::Result<(String, Vec<String>)> {
    let sql = format!(
        "SELECT r.rolname::text, r.rolsuper, r.rolbypassrls, \
           EXISTS (SELECT 1 FROM pg_catalog.pg_class c \
                   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                   WHERE n.nspname = current_schema() AND c.relname IN ({SERVICE_TABLES}) \
                     AND pg_catalog.pg_has_role(r.oid, c.relowner, 'MEMBER')), \
           COALESCE(pg_catalog.has_table_privilege(r.oid, to_regclass('audit_events'), 'UPDATE'), false), \
           COALESCE(pg_catalog.has_table_privilege(r.oid, to_regclass('audit_events'), 'DELETE'), false) \
         FROM pg_catalog.pg_roles r WHERE r.rolname = current_user"
    );
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .context("reading the attributes of the service's database role")?
        .context("the service's database role is not in pg_roles")?;
    let name: String = row.try_get_by_index(0)?;
    let mut reasons = Vec::new();
    if row.try_get_by_index::<bool>(1)? {
        reasons.push("it is a superuser".to_owned());
    }
    if row.try_get_by_index::<bool>(2)? {
        reasons.push("it has BYPASSRLS".to_owned());
    }
    if row.try_get_by_index::<bool>(3)? {
        reasons.push("it owns the tables (or may act as their owner)".to_owned());
    }
    // The log is append-only for the service (migration 8): only the purge
    // function deletes. (Before the first migration there is no table: false.)
    if row.try_get_by_index::<bool>(4)? {
        reasons.push("it may UPDATE audit_events".to_owned());
    }
    if row.try_get_by_index::<bool>(5)? {
        reasons.push("it may DELETE from audit_events outside the purge function".to_owned());
    }
    Ok((name, reasons))
}

/// Warns when the role could bypass row-level security (for `auditlog-worker`,
/// which has no production mode: it sets the tenant per transaction like the
/// service, but should run as the service's role too).
pub async fn warn_if_bypassing(db: &DatabaseConnection) {
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    match bypass_reasons(db).await {
        Ok((role, reasons)) if !reasons.is_empty() => tracing::warn!(
            role = %role,
            "the PostgreSQL role \"{role}\" could bypass row-level security ({}); \
             run the worker as the service's own role",
            reasons.join("; ")
        ),
        Ok(_) => {}
        Err(error) => {
            tracing::warn!(error = %format!("{error:#}"), "cannot check the database role")
        }
    }
}
