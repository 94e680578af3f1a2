//! Creates the per-tenant Merkle tree of issue 19 (`entity::domain::merkle`):
//!
//! - `audit_tree_nodes (tenant_id, level, idx, hash)`: the hash of every
//!   perfect subtree of the tenant's log, node `(level, idx)` covering leaves
//!   `[idx·2^level, (idx+1)·2^level)` (level 0: the leaf hashes). Written in
//!   the ingest transaction, about two rows per event, never changed: the
//!   purge deletes events, not their place in the tree, so proofs keep
//!   verifying after it.
//! - `audit_tree_heads (tenant_id, tree_size, tree_origin, root_hash,
//!   signed_at, key_id, signature)`: the signed tree heads. The primary key
//!   makes one head per tenant and size, so two signers racing cannot publish
//!   two heads for the same size (the loser's insert does nothing).
//! - `tenants.tree_origin`: the tree's *origin*, the last sequence that
//!   predates the tree (its leaf 0 is the event with sequence `origin + 1`).
//!   A tenant that already has events when this migration runs (an upgrade)
//!   gets its `event_counter` as origin: its earlier events stay outside the
//!   tree, and its next event is leaf 0. That is one row update per tenant,
//!   with no read of the log (hashing every retained event here would make
//!   the migration as long as the largest log, and purged events could not
//!   be hashed at all). Tenants created later have origin 0. Nothing changes
//!   it after this migration (the trigger below refuses any change, the
//!   service's role included, which may update the other columns of
//!   `tenants`); it is signed into the heads of every tenant whose origin is
//!   not 0 (`entity::domain::merkle::origin`).
//!
//! A trigger on `tenants` (`tenants_tree_guard`, both backends) refuses any
//! change of `tree_origin`, and refuses to advance `event_counter` past the
//! origin unless the tree has the leaf of the new last sequence: a writer that does not maintain the tree
//! (a service of the earlier release still running during an upgrade, a
//! bulk load around the event store) fails instead of leaving sequences
//! without leaves, which would stop the tenant's ingest for good. The event
//! store writes the leaves before the counter; the check is one primary-key
//! lookup per ingest transaction.
//!
//! On PostgreSQL both are tenant tables (`FORCE ROW LEVEL SECURITY`, the
//! `tenant_isolation` policy of migration 7) and, like `audit_events`,
//! append-only for `auditlog_app`: SELECT and INSERT, never UPDATE or DELETE.
//! The owner records the origins with `FORCE ROW LEVEL SECURITY` lifted from
//! `tenants` inside this migration's transaction (the policy of
//! `migration::lib`), so it reaches every tenant.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::m20261203_000010_create_facet_counts::tenant_key;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum AuditTreeNodes {
    Table,
    TenantId,
    Level,
    Idx,
    Hash,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditTreeHeads {
    Table,
    TenantId,
    TreeSize,
    TreeOrigin,
    RootHash,
    SignedAt,
    KeyId,
    Signature,
}

#[derive(DeriveIden, Clone, Copy)]
enum OriginTenants {
    #[sea_orm(iden = "tenants")]
    Table,
    TreeOrigin,
}

/// Every existing tenant's events predate its tree.
const RECORD_ORIGINS: &str = "UPDATE tenants SET tree_origin = event_counter";

/// PostgreSQL: the tree's guard on `tenants` (see the header). It runs as
/// the writer, whose transaction's tenant is the row's, so row-level
/// security lets it see the leaf.
const TREE_GUARD_POSTGRES: &str = r#"
CREATE FUNCTION auditlog_tenant_tree_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.tree_origin IS DISTINCT FROM OLD.tree_origin THEN
    RAISE EXCEPTION 'tenants.tree_origin never changes' USING ERRCODE = '42501';
  END IF;
  IF NEW.event_counter > OLD.event_counter AND NEW.event_counter > NEW.tree_origin
     AND NOT EXISTS (SELECT 1 FROM audit_tree_nodes
                     WHERE tenant_id = NEW.id AND level = 0
                       AND idx = NEW.event_counter - NEW.tree_origin - 1) THEN
    RAISE EXCEPTION 'sequence % of tenant % has no leaf in the Merkle tree: only the event store may record events', NEW.event_counter, NEW.id
      USING ERRCODE = '23514';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER tenants_tree_guard BEFORE UPDATE OF event_counter, tree_origin ON tenants
  FOR EACH ROW EXECUTE FUNCTION auditlog_tenant_tree_guard();
"#;

/// SQLite: the same guard.
const TREE_GUARD_SQLITE: &str = "CREATE TRIGGER IF NOT EXISTS tenants_tree_guard \
     BEFORE UPDATE OF event_counter, tree_origin ON tenants BEGIN \
       SELECT RAISE(ABORT, 'tenants.tree_origin never changes') \
         WHERE NEW.tree_origin IS NOT OLD.tree_origin; \
       SELECT RAISE(ABORT, 'a sequence without a leaf in the Merkle tree: only the event store may record events') \
         WHERE NEW.event_counter > OLD.event_counter AND NEW.event_counter > NEW.tree_origin \
           AND NOT EXISTS (SELECT 1 FROM audit_tree_nodes WHERE tenant_id = NEW.id AND level = 0 \
                           AND idx = NEW.event_counter - NEW.tree_origin - 1); \
     END";

const DROP_TREE_GUARD_POSTGRES: &str = "DROP TRIGGER IF EXISTS tenants_tree_guard ON tenants;\n\
     DROP FUNCTION IF EXISTS auditlog_tenant_tree_guard();";

const TABLES: [&str; 2] = ["audit_tree_nodes", "audit_tree_heads"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use AuditTreeHeads as H;
        use AuditTreeNodes as N;
        manager
            .create_table(
                Table::create()
                    .table(N::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(N::TenantId).uuid().not_null())
                    .col(ColumnDef::new(N::Level).small_integer().not_null())
                    .col(ColumnDef::new(N::Idx).big_integer().not_null())
                    .col(ColumnDef::new(N::Hash).binary().not_null())
                    .primary_key(Index::create().col(N::TenantId).col(N::Level).col(N::Idx))
                    .foreign_key(&mut tenant_key("audit_tree_nodes_tenant_id_fkey", N::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(H::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(H::TenantId).uuid().not_null())
                    .col(ColumnDef::new(H::TreeSize).big_integer().not_null())
                    .col(ColumnDef::new(H::TreeOrigin).big_integer().not_null())
                    .col(ColumnDef::new(H::RootHash).binary().not_null())
                    .col(
                        ColumnDef::new(H::SignedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(H::KeyId).text().not_null())
                    .col(ColumnDef::new(H::Signature).binary().not_null())
                    .primary_key(Index::create().col(H::TenantId).col(H::TreeSize))
                    .foreign_key(&mut tenant_key("audit_tree_heads_tenant_id_fkey", H::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OriginTenants::Table)
                    .add_column(
                        ColumnDef::new(OriginTenants::TreeOrigin)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            db.execute_unprepared(RECORD_ORIGINS).await?;
            db.execute_unprepared(TREE_GUARD_SQLITE).await?;
            return Ok(());
        }
        let tenant = "tenant_id = current_setting('app.tenant_id')::uuid";
        let mut sql = String::new();
        for table in TABLES {
            sql.push_str(&format!(
                "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;\n\
                 ALTER TABLE {table} FORCE ROW LEVEL SECURITY;\n\
                 CREATE POLICY tenant_isolation ON {table} USING ({tenant}) WITH CHECK ({tenant});\n\
                 GRANT SELECT, INSERT ON {table} TO auditlog_app;\n"
            ));
        }
        // The owner reaches every tenant's row only without `FORCE`.
        sql.push_str(&format!(
            "ALTER TABLE tenants NO FORCE ROW LEVEL SECURITY;\n\
             {RECORD_ORIGINS};\n\
             ALTER TABLE tenants FORCE ROW LEVEL SECURITY;\n"
        ));
        sql.push_str(TREE_GUARD_POSTGRES);
        db.execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared(DROP_TREE_GUARD_POSTGRES).await?;
        } else {
            db.execute_unprepared("DROP TRIGGER IF EXISTS tenants_tree_guard")
                .await?;
        }
        for table in [
            AuditTreeHeads::Table.into_iden(),
            AuditTreeNodes::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(OriginTenants::Table)
                    .drop_column(OriginTenants::TreeOrigin)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    /// Both tables, their policies and the origins stand or fall together.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
