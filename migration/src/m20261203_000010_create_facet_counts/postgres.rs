//! The rollups on PostgreSQL: statement-level triggers with transition tables.
//!
//! Ingest cost is per statement, not per row: after each `INSERT` (or `COPY`)
//! into `audit_events`, one aggregated upsert per rollup table adds the
//! statement's counts; after each `DELETE` (the purge function's batch), one
//! aggregated upsert per table subtracts them and one `DELETE` drops the rows
//! that reached zero. Every upsert is ordered by the table's key, so an ingest
//! and a purge of the same tenant lock rollup rows in the same order (totals
//! before days, each by key) and cannot deadlock; they still serialize on the
//! rows they share, only for the rest of the other's transaction.
//!
//! The trigger functions are `SECURITY INVOKER`: they run as whoever changed
//! `audit_events` — the service's role on ingest, the schema owner inside the
//! `SECURITY DEFINER` purge function — under that transaction's `app.tenant_id`,
//! which `tenant_isolation` checks on the rollups as on the events (the purge
//! runs only for the transaction's own tenant, so the owner sees the rows it
//! decrements). A subtraction for a row that is missing (only if someone wrote
//! `audit_events` with triggers disabled) inserts a negative count that the
//! following `DELETE` removes, so the purge never fails on it.
//!
//! `UPDATE` and `TRUNCATE` are not counted: the service may do neither on the
//! append-only log (migration 8).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

/// The rollup tables, granted to the service like every tenant table.
const TABLES: [&str; 2] = ["audit_event_facet_totals", "audit_event_facet_days"];

/// Both trigger functions, bound to the schema being migrated (`{schema}`,
/// quoted). `{sign}` is `+` for added rows and `-` for removed ones,
/// `{changed}` the transition table, `{then}` what follows the upserts.
const COUNT_FUNCTION: &str = r#"
CREATE OR REPLACE FUNCTION {schema}.{name}() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER SET search_path = {schema}, pg_temp
AS $body$
BEGIN
  INSERT INTO audit_event_facet_totals AS t (tenant_id, facet, value, label, count)
  SELECT tenant_id, facet, value, max(label), {sign} count(*)
  FROM (SELECT tenant_id, 'action' AS facet, action COLLATE "C" AS value, NULL::text AS label
        FROM {changed}
        UNION ALL
        SELECT tenant_id, 'actor', actor_id COLLATE "C", actor_name FROM {changed}) AS changed
  GROUP BY tenant_id, facet, value
  ORDER BY tenant_id, facet, value
  ON CONFLICT (tenant_id, facet, value) DO UPDATE
    SET count = t.count + excluded.count, label = GREATEST(t.label, excluded.label);

  INSERT INTO audit_event_facet_days AS d (tenant_id, facet, day, value, count)
  SELECT tenant_id, facet, day, value, {sign} count(*)
  FROM (SELECT tenant_id, 'action' AS facet, (occurred_at AT TIME ZONE 'UTC')::date AS day,
               action COLLATE "C" AS value
        FROM {changed}
        UNION ALL
        SELECT tenant_id, 'actor', (occurred_at AT TIME ZONE 'UTC')::date, actor_id COLLATE "C"
        FROM {changed}) AS changed
  GROUP BY tenant_id, facet, day, value
  ORDER BY tenant_id, facet, day, value
  ON CONFLICT (tenant_id, facet, day, value) DO UPDATE SET count = d.count + excluded.count;
{then}  RETURN NULL;
END
$body$;
"#;

/// After a subtraction: the rows that reached zero go (they are locked already).
const DROP_ZEROS: &str = r#"
  DELETE FROM audit_event_facet_totals t
  WHERE t.count <= 0 AND (t.tenant_id, t.facet, t.value) IN
    (SELECT tenant_id, 'action', action COLLATE "C" FROM removed
     UNION SELECT tenant_id, 'actor', actor_id COLLATE "C" FROM removed);
  DELETE FROM audit_event_facet_days d
  WHERE d.count <= 0 AND (d.tenant_id, d.facet, d.day) IN
    (SELECT DISTINCT tenant_id, f.facet, (occurred_at AT TIME ZONE 'UTC')::date
     FROM removed CROSS JOIN (VALUES ('action'), ('actor')) AS f(facet));
"#;

/// Creates the functions and triggers, then counts the events already stored.
pub(super) async fn up(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let schema = quoted_schema(db).await?;
    let added = function_sql(&schema, "auditlog_facet_counts_added", "+", "added", "");
    let removed = function_sql(
        &schema,
        "auditlog_facet_counts_removed",
        "-",
        "removed",
        DROP_ZEROS,
    );
    let mut sql = format!("{added}\n{removed}\n");
    sql.push_str(
        "REVOKE ALL ON FUNCTION auditlog_facet_counts_added() FROM PUBLIC;\n\
         REVOKE ALL ON FUNCTION auditlog_facet_counts_removed() FROM PUBLIC;\n\
         CREATE TRIGGER audit_events_facet_counts_added AFTER INSERT ON audit_events\n\
           REFERENCING NEW TABLE AS added FOR EACH STATEMENT\n\
           EXECUTE FUNCTION auditlog_facet_counts_added();\n\
         CREATE TRIGGER audit_events_facet_counts_removed AFTER DELETE ON audit_events\n\
           REFERENCING OLD TABLE AS removed FOR EACH STATEMENT\n\
           EXECUTE FUNCTION auditlog_facet_counts_removed();\n",
    );
    for table in TABLES {
        let tenant = "tenant_id = current_setting('app.tenant_id')::uuid";
        sql.push_str(&format!(
            "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;\n\
             ALTER TABLE {table} FORCE ROW LEVEL SECURITY;\n\
             CREATE POLICY tenant_isolation ON {table} USING ({tenant}) WITH CHECK ({tenant});\n\
             GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO auditlog_app;\n"
        ));
    }
    db.execute_unprepared(&sql).await?;
    db.execute_unprepared(BACK_FILL).await?;
    Ok(())
}

/// Counts every stored event, one tenant at a time: the owner is bound by
/// `FORCE ROW LEVEL SECURITY` too, so each tenant's rows are read and written
/// under its own `app.tenant_id` (the `registry_lookup` policy lets the owner
/// list the tenants).
const BACK_FILL: &str = r#"
DO $$
DECLARE
  v_tenant uuid;
BEGIN
  FOR v_tenant IN SELECT id FROM tenants ORDER BY id LOOP
    PERFORM set_config('app.tenant_id', v_tenant::text, true);
    INSERT INTO audit_event_facet_totals (tenant_id, facet, value, label, count)
    SELECT v_tenant, 'action', action, NULL, count(*) FROM audit_events
    WHERE tenant_id = v_tenant GROUP BY action;
    INSERT INTO audit_event_facet_totals (tenant_id, facet, value, label, count)
    SELECT v_tenant, 'actor', actor_id COLLATE "C", max(actor_name), count(*) FROM audit_events
    WHERE tenant_id = v_tenant GROUP BY actor_id COLLATE "C";
    INSERT INTO audit_event_facet_days (tenant_id, facet, day, value, count)
    SELECT v_tenant, 'action', (occurred_at AT TIME ZONE 'UTC')::date, action, count(*)
    FROM audit_events WHERE tenant_id = v_tenant GROUP BY 3, 4;
    INSERT INTO audit_event_facet_days (tenant_id, facet, day, value, count)
    SELECT v_tenant, 'actor', (occurred_at AT TIME ZONE 'UTC')::date, actor_id COLLATE "C", count(*)
    FROM audit_events WHERE tenant_id = v_tenant GROUP BY 3, 4;
  END LOOP;
  PERFORM set_config('app.tenant_id', '', true);
END
$$;
"#;

/// One trigger function's `CREATE` statement (`schema` already quoted).
fn function_sql(schema: &str, name: &str, sign: &str, changed: &str, then: &str) -> String {
    COUNT_FUNCTION
        .replace("{schema}", schema)
        .replace("{name}", name)
        .replace("{sign}", sign)
        .replace("{changed}", changed)
        .replace("{then}", then)
}

/// The schema being migrated, quoted as an identifier by PostgreSQL itself.
async fn quoted_schema(db: &impl ConnectionTrait) -> Result<String, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT quote_ident(current_schema())",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("current_schema() returned no row".into()))?;
    row.try_get_by_index(0)
}

/// Drops the triggers and functions; the tables go in the caller.
pub(super) async fn down(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    db.execute_unprepared(
        "DROP TRIGGER IF EXISTS audit_events_facet_counts_added ON audit_events;\n\
         DROP TRIGGER IF EXISTS audit_events_facet_counts_removed ON audit_events;\n\
         DROP FUNCTION IF EXISTS auditlog_facet_counts_added();\n\
         DROP FUNCTION IF EXISTS auditlog_facet_counts_removed();\n",
    )
    .await?;
    Ok(())
}
