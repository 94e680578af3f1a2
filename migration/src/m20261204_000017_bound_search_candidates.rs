//! PostgreSQL: `auditlog_search_candidates(tenant, pattern, limit)`, the
//! trigram index's candidates for a search pattern, at most `limit` of them.
//!
//! `auditlog_search_event_ids` (`m20261203_000009_index_search_and_ip`)
//! returns every candidate, which a term common in the log makes millions:
//! a search page lists at most a bound of candidates and, when there are
//! more, reads the log in order instead (`store::events::search`). Like the
//! older function it runs as the owner, whose policy lets the index serve
//! the `LIKE` (row-level security keeps the service's own query from using
//! it), and only for the transaction's tenant. The older function stays for
//! a service of the previous release during a rolling upgrade.
//!
//! SQLite lists its FTS5 candidates with a plain `LIMIT`: nothing to create.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::m20261203_000009_index_search_and_ip::SEARCH_TEXT;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

/// The function, bound to the schema being migrated (`%1$I`).
fn postgres_up() -> String {
    format!(
        r#"
DO $$
DECLARE
  schema_name text := current_schema();
BEGIN
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION %1$I.auditlog_search_candidates(p_tenant uuid, p_pattern text, p_limit bigint)
    RETURNS SETOF uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = %1$I, pg_temp
    SET plan_cache_mode = force_custom_plan
    AS $body$
    BEGIN
      IF p_tenant IS DISTINCT FROM NULLIF(current_setting('app.tenant_id', true), '')::uuid THEN
        RAISE EXCEPTION 'auditlog_search_candidates: %% is not this transaction''s tenant', p_tenant
          USING ERRCODE = '42501';
      END IF;
      RETURN QUERY SELECT id FROM audit_events
        WHERE tenant_id = p_tenant AND {SEARCH_TEXT} LIKE p_pattern
        LIMIT p_limit;
    END
    $body$
  $f$, schema_name);
END
$$;
REVOKE ALL ON FUNCTION auditlog_search_candidates(uuid, text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auditlog_search_candidates(uuid, text, bigint) TO auditlog_app;
"#
    )
}

const POSTGRES_DOWN: &str =
    "DROP FUNCTION IF EXISTS auditlog_search_candidates(uuid, text, bigint);";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(&postgres_up())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(POSTGRES_DOWN)
                .await?;
        }
        Ok(())
    }
}
