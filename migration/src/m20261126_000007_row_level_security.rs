//! Row-level security on every table of tenant data (PostgreSQL only; on SQLite
//! this migration does nothing and the application-level `tenant_id` filters
//! are the only isolation).
//!
//! - `tenants`, `api_keys`, `audit_events`, `retention_leases` and
//!   `user_sessions` get `ENABLE` and `FORCE ROW LEVEL SECURITY` and one policy,
//!   `tenant_isolation`: a row is visible and writable only when its tenant is
//!   the transaction's `app.tenant_id` (set by `store::tenant_scope::begin`).
//!   The setting is read with `current_setting('app.tenant_id')` (no
//!   `missing_ok`) and cast to `uuid`, so a transaction that never set it fails
//!   with an error as soon as a row is checked — both when the session never
//!   knew the setting (undefined parameter) and when an earlier transaction's
//!   local value has been reset to the empty string (invalid uuid).
//! - The tenant registry must be searchable before a tenant is known (an API
//!   key names its tenant by slug; the purge walks all tenants). Two `SECURITY
//!   DEFINER` functions owned by the migration role, with a fixed `search_path`,
//!   return tenant *ids* only: `auditlog_tenant_id_by_slug(text)` and
//!   `auditlog_tenant_ids_after(uuid, bigint)`. A `SELECT`-only policy for the
//!   migration role itself (`registry_lookup`, `TO CURRENT_USER`) lets them
//!   read `tenants` under `FORCE`; the service never connects as that role.
//! - The service's privileges go to the `NOLOGIN` group role `auditlog_app`
//!   (created here when missing, which needs `CREATEROLE`): DML on the tables,
//!   `SELECT` on the migration table (to see that the schema is current),
//!   `EXECUTE` on the two functions. Its login role is created by the operator
//!   (`CREATE ROLE ... LOGIN IN ROLE auditlog_app`) and owns nothing.
//!
//! Every later migration that creates a table must grant it to `auditlog_app`
//! and, if it holds tenant data, give it the same policy.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

/// The tables of tenant data, each with the column naming its tenant.
const TENANT_TABLES: [(&str, &str); 5] = [
    ("tenants", "id"),
    ("api_keys", "tenant_id"),
    ("audit_events", "tenant_id"),
    ("retention_leases", "tenant_id"),
    ("user_sessions", "tenant_id"),
];

/// Every table the service reads or writes.
const SERVICE_TABLES: &str =
    "tenants, api_keys, audit_events, instance_settings, retention_leases, user_sessions";

/// Creates `auditlog_app` unless it exists; a role without `CREATEROLE` gets
/// an error that says what to do.
const CREATE_APP_ROLE: &str = r#"
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'auditlog_app') THEN
    BEGIN
      CREATE ROLE auditlog_app NOLOGIN;
    EXCEPTION
      WHEN duplicate_object THEN NULL;
      WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'the migration role "%" may not create the group role auditlog_app: create it once as a superuser (CREATE ROLE auditlog_app NOLOGIN;) or give the migration role CREATEROLE (README, "Tenant isolation in PostgreSQL")', current_user;
    END;
  END IF;
END
$$;
"#;

/// The registry functions, bound to the schema being migrated.
const REGISTRY_FUNCTIONS: &str = r#"
DO $$
DECLARE
  schema_name text := current_schema();
BEGIN
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION %1$I.auditlog_tenant_id_by_slug(p_slug text) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = %1$I, pg_temp
    AS 'SELECT id FROM %1$I.tenants WHERE slug = p_slug'
  $f$, schema_name);
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION %1$I.auditlog_tenant_ids_after(p_after uuid, p_limit bigint)
    RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = %1$I, pg_temp
    AS 'SELECT id FROM %1$I.tenants WHERE p_after IS NULL OR id > p_after ORDER BY id LIMIT p_limit'
  $f$, schema_name);
END
$$;
REVOKE ALL ON FUNCTION auditlog_tenant_id_by_slug(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION auditlog_tenant_ids_after(uuid, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auditlog_tenant_id_by_slug(text) TO auditlog_app;
GRANT EXECUTE ON FUNCTION auditlog_tenant_ids_after(uuid, bigint) TO auditlog_app;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(CREATE_APP_ROLE).await?;
        let mut sql = String::new();
        for (table, column) in TENANT_TABLES {
            let tenant = format!("{column} = current_setting('app.tenant_id')::uuid");
            sql.push_str(&format!(
                "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;\n\
                 ALTER TABLE {table} FORCE ROW LEVEL SECURITY;\n\
                 CREATE POLICY tenant_isolation ON {table} USING ({tenant}) WITH CHECK ({tenant});\n"
            ));
        }
        sql.push_str(
            "CREATE POLICY registry_lookup ON tenants FOR SELECT TO CURRENT_USER USING (true);\n",
        );
        sql.push_str(&format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON {SERVICE_TABLES} TO auditlog_app;\n\
             GRANT SELECT ON seaql_migrations TO auditlog_app;\n"
        ));
        db.execute_unprepared(&sql).await?;
        db.execute_unprepared(REGISTRY_FUNCTIONS).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let mut sql = String::from(
            "DROP FUNCTION IF EXISTS auditlog_tenant_id_by_slug(text);\n\
             DROP FUNCTION IF EXISTS auditlog_tenant_ids_after(uuid, bigint);\n\
             DROP POLICY IF EXISTS registry_lookup ON tenants;\n",
        );
        for (table, _) in TENANT_TABLES {
            sql.push_str(&format!(
                "DROP POLICY IF EXISTS tenant_isolation ON {table};\n\
                 ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY;\n\
                 ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;\n"
            ));
        }
        // The group role is cluster-wide and may serve other databases: it stays.
        sql.push_str(&format!(
            "REVOKE ALL ON {SERVICE_TABLES} FROM auditlog_app;\n\
             REVOKE ALL ON seaql_migrations FROM auditlog_app;\n"
        ));
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }
}
