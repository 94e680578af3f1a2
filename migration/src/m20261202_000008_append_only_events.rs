//! The service's role may only add to and read the audit log (PostgreSQL
//! only; on SQLite, which has no roles, this migration does nothing).
//!
//! - `auditlog_app` loses `UPDATE` and `DELETE` on `audit_events`: no code
//!   path changes a recorded event, and a compromised service must not be able
//!   to rewrite or erase history. It keeps `INSERT` and `SELECT` there, and
//!   its `UPDATE`/`DELETE` on the other tables (tenants, api_keys,
//!   retention_leases, user_sessions, instance_settings), which need them.
//! - The retention purge deletes through one `SECURITY DEFINER` function owned
//!   by the schema owner, `auditlog_purge_expired_events(tenant, cutoff,
//!   limit)`. It deletes only the calling transaction's own tenant
//!   (`app.tenant_id`, and row-level security binds it too), nothing while
//!   that tenant is on legal hold, nothing younger than the tenant row's own
//!   `retention_days` whatever cutoff the caller passes (the caller's cutoff
//!   can only make it delete less), and at most 100,000 rows per call, oldest
//!   first. It returns how many it deleted.
//!
//! `down` restores the grants and drops the function.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

/// The purge function, bound to the schema being migrated.
const PURGE_FUNCTION: &str = r#"
DO $$
DECLARE
  schema_name text := current_schema();
BEGIN
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION %1$I.auditlog_purge_expired_events(
      p_tenant uuid, p_cutoff timestamptz, p_limit bigint
    ) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = %1$I, pg_temp
    AS $body$
    DECLARE
      v_hold boolean;
      v_days integer;
      v_bound timestamptz;
      v_deleted bigint;
    BEGIN
      IF p_tenant IS DISTINCT FROM NULLIF(current_setting('app.tenant_id', true), '')::uuid THEN
        RAISE EXCEPTION 'auditlog_purge_expired_events: %% is not this transaction''s tenant', p_tenant
          USING ERRCODE = '42501';
      END IF;
      SELECT legal_hold, retention_days INTO v_hold, v_days FROM tenants WHERE id = p_tenant;
      IF NOT FOUND OR v_hold THEN
        RETURN 0;
      END IF;
      -- Never younger than the tenant's own period (at least one day).
      v_bound := LEAST(p_cutoff, now() - make_interval(days => GREATEST(v_days, 1)));
      DELETE FROM audit_events
      WHERE tenant_id = p_tenant
        AND id IN (SELECT id FROM audit_events
                   WHERE tenant_id = p_tenant AND occurred_at < v_bound
                   ORDER BY occurred_at, id
                   LIMIT LEAST(GREATEST(p_limit, 0), 100000));
      GET DIAGNOSTICS v_deleted = ROW_COUNT;
      RETURN v_deleted;
    END
    $body$
  $f$, schema_name);
END
$$;
REVOKE ALL ON FUNCTION auditlog_purge_expired_events(uuid, timestamptz, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auditlog_purge_expired_events(uuid, timestamptz, bigint) TO auditlog_app;
REVOKE UPDATE, DELETE ON audit_events FROM auditlog_app;
"#;

/// Restores migration 7's grants. The function runs as the owner, whom
/// `FORCE ROW LEVEL SECURITY` binds as well: `tenant_isolation` lets it reach
/// only the transaction's tenant, so no policy had to be added.
const DOWN: &str = r#"
DROP FUNCTION IF EXISTS auditlog_purge_expired_events(uuid, timestamptz, bigint);
GRANT UPDATE, DELETE ON audit_events TO auditlog_app;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(PURGE_FUNCTION)
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        manager.get_connection().execute_unprepared(DOWN).await?;
        Ok(())
    }
}
