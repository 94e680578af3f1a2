//! Indexes behind `search` and `ipAddress` of `AuditEventFilter`, so a first
//! page with either no longer scans the tenant's whole log.
//!
//! - Both backends: `audit_events_tenant_ip_idx` on `(tenant_id, ip_address,
//!   occurred_at, id)`: equality on the address, then the page's own order, so
//!   a page (also within a time window) stops after its rows.
//! - PostgreSQL: the trusted extensions `pg_trgm` and `btree_gin` (a database
//!   owner may create them, PostgreSQL 13 and later), and one trigram GIN index
//!   `audit_events_tenant_search_idx` over `tenant_id` and the ASCII-lowercased
//!   concatenation of the four searched columns ([`SEARCH_TEXT`]).
//!   Row-level security keeps the service's own queries from using it: `LIKE`
//!   is not `LEAKPROOF`, so PostgreSQL evaluates it only after the policy,
//!   never as an index condition. The index is therefore read through
//!   `auditlog_search_event_ids(tenant, pattern)`, a `SECURITY DEFINER`
//!   function of the owner (like the purge's) that returns the ids of the
//!   calling transaction's own tenant whose text matches, and errors for any
//!   other tenant. The owner reads the table under `FORCE` through a
//!   `SELECT`-only policy of its own, `search_lookup` (`USING (true)`): a
//!   policy that is constant lets the planner use the index; its `DELETE`
//!   stays bound to `tenant_isolation`. The service never connects as the owner.
//! - SQLite: an FTS5 table `audit_events_search` with the `trigram` tokenizer
//!   (case-insensitive), external content over `audit_events` by rowid, kept
//!   in step by triggers (insert, delete by the purge, and update, which no
//!   code path does) and filled from the existing rows here. SQLite documents
//!   that `VACUUM` may renumber the rowids of a table without an `INTEGER
//!   PRIMARY KEY` (3.40 and 3.51 keep them); after a `VACUUM`,
//!   `INSERT INTO audit_events_search(audit_events_search) VALUES ('rebuild')`
//!   makes sure the index is in step.
//!
//! `down` drops all of it (the extensions stay: other objects may use them).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

/// The text the PostgreSQL search index holds per event: the four searched
/// columns, ASCII-lowercased (`COLLATE "C"` folds A–Z only, whatever the
/// database's locale, as SQLite and the in-memory filter do), joined by a
/// control character. A match across two columns is only a candidate: the
/// service re-checks every column on its own.
pub const SEARCH_TEXT: &str = r#"lower((action || E'\x1f' || coalesce(actor_name, '') || E'\x1f' || coalesce(actor_email, '') || E'\x1f' || coalesce(target_name, '')) COLLATE "C")"#;

const IP_INDEX: &str = "CREATE INDEX IF NOT EXISTS audit_events_tenant_ip_idx \
     ON audit_events (tenant_id, ip_address, occurred_at, id)";

/// PostgreSQL: extensions, the trigram index, the owner's read policy and the
/// search function, bound to the schema being migrated (`%1$I`).
fn postgres_up() -> String {
    format!(
        r#"
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX IF NOT EXISTS audit_events_tenant_search_idx
  ON audit_events USING gin (tenant_id, ({SEARCH_TEXT}) gin_trgm_ops);
CREATE POLICY search_lookup ON audit_events FOR SELECT TO CURRENT_USER USING (true);
DO $$
DECLARE
  schema_name text := current_schema();
BEGIN
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION %1$I.auditlog_search_event_ids(p_tenant uuid, p_pattern text)
    RETURNS SETOF uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = %1$I, pg_temp
    SET plan_cache_mode = force_custom_plan
    AS $body$
    BEGIN
      IF p_tenant IS DISTINCT FROM NULLIF(current_setting('app.tenant_id', true), '')::uuid THEN
        RAISE EXCEPTION 'auditlog_search_event_ids: %% is not this transaction''s tenant', p_tenant
          USING ERRCODE = '42501';
      END IF;
      RETURN QUERY SELECT id FROM audit_events
        WHERE tenant_id = p_tenant AND {SEARCH_TEXT} LIKE p_pattern;
    END
    $body$
  $f$, schema_name);
END
$$;
REVOKE ALL ON FUNCTION auditlog_search_event_ids(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auditlog_search_event_ids(uuid, text) TO auditlog_app;
{IP_INDEX};
"#
    )
}

const POSTGRES_DOWN: &str = r#"
DROP FUNCTION IF EXISTS auditlog_search_event_ids(uuid, text);
DROP POLICY IF EXISTS search_lookup ON audit_events;
DROP INDEX IF EXISTS audit_events_tenant_search_idx;
DROP INDEX IF EXISTS audit_events_tenant_ip_idx;
"#;

/// SQLite: the FTS5 table, its triggers and the back-fill (`rebuild` reads
/// every row of the content table).
const SQLITE_UP: [&str; 6] = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS audit_events_search USING fts5(\
       action, actor_name, actor_email, target_name, \
       content='audit_events', content_rowid='rowid', \
       tokenize='trigram case_sensitive 0')",
    "CREATE TRIGGER IF NOT EXISTS audit_events_search_insert AFTER INSERT ON audit_events BEGIN \
       INSERT INTO audit_events_search(rowid, action, actor_name, actor_email, target_name) \
       VALUES (new.rowid, new.action, new.actor_name, new.actor_email, new.target_name); \
     END",
    "CREATE TRIGGER IF NOT EXISTS audit_events_search_delete AFTER DELETE ON audit_events BEGIN \
       INSERT INTO audit_events_search(audit_events_search, rowid, action, actor_name, actor_email, target_name) \
       VALUES ('delete', old.rowid, old.action, old.actor_name, old.actor_email, old.target_name); \
     END",
    "CREATE TRIGGER IF NOT EXISTS audit_events_search_update AFTER UPDATE ON audit_events BEGIN \
       INSERT INTO audit_events_search(audit_events_search, rowid, action, actor_name, actor_email, target_name) \
       VALUES ('delete', old.rowid, old.action, old.actor_name, old.actor_email, old.target_name); \
       INSERT INTO audit_events_search(rowid, action, actor_name, actor_email, target_name) \
       VALUES (new.rowid, new.action, new.actor_name, new.actor_email, new.target_name); \
     END",
    "INSERT INTO audit_events_search(audit_events_search) VALUES ('rebuild')",
    IP_INDEX,
];

const SQLITE_DOWN: [&str; 5] = [
    "DROP TRIGGER IF EXISTS audit_events_search_insert",
    "DROP TRIGGER IF EXISTS audit_events_search_delete",
    "DROP TRIGGER IF EXISTS audit_events_search_update",
    "DROP TABLE IF EXISTS audit_events_search",
    "DROP INDEX IF EXISTS audit_events_tenant_ip_idx",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(&postgres_up()).await?;
            }
            _ => {
                for statement in SQLITE_UP {
                    db.execute_unprepared(statement).await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(POSTGRES_DOWN).await?;
            }
            _ => {
                for statement in SQLITE_DOWN {
                    db.execute_unprepared(statement).await?;
                }
            }
        }
        Ok(())
    }
}
