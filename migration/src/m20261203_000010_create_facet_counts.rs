//! Creates the facet rollups, `audit_event_facet_totals` and
//! `audit_event_facet_days`, so `auditEventFacets` reads counts instead of
//! counting the log (issue 15).
//!
//! - `audit_event_facet_totals (tenant_id, facet, value, label, count)`: one row
//!   per tenant and distinct value of a facet (`facet` is `action` or `actor`)
//!   with the number of stored events that have it. For `actor`, `label` is
//!   the greatest non-null actor name ever seen with the id; it only grows, so
//!   a name recorded only by events the purge deleted may remain while the actor
//!   still has events.
//! - `audit_event_facet_days (tenant_id, facet, day, value, count)`: the same
//!   counts per UTC day of `occurred_at` (retention is measured on
//!   `occurred_at`), so a reader can subtract the expired days from the totals.
//!
//! The database keeps both exact for every writer (the service's batch insert,
//! a bulk `COPY`, the purge function), by triggers on `audit_events` (see
//! [`postgres`] and [`sqlite`]). Zero counts are deleted, never kept. Existing
//! events are counted here, after the triggers exist, in the migration's own
//! transaction: on PostgreSQL creating a trigger locks out writers of
//! `audit_events` until commit, on SQLite there is one writer anyway, so no
//! event is counted twice or missed.
//!
//! On PostgreSQL both tables are tenant tables: `FORCE ROW LEVEL SECURITY`, the
//! `tenant_isolation` policy of migration 7, and DML granted to `auditlog_app`
//! (whose inserts into `audit_events` fire the triggers as itself).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

use crate::column_types;
use crate::m20261126_000001_create_tenants::Tenants;

mod postgres;
mod sqlite;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum AuditEventFacetTotals {
    Table,
    TenantId,
    Facet,
    Value,
    Label,
    Count,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditEventFacetDays {
    Table,
    TenantId,
    Facet,
    Day,
    Value,
    Count,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager.create_table(totals_table(backend)).await?;
        manager.create_table(days_table(backend)).await?;
        let db = manager.get_connection();
        match backend {
            DatabaseBackend::Postgres => postgres::up(db).await,
            _ => sqlite::up(db).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => postgres::down(db).await?,
            _ => sqlite::down(db).await?,
        }
        for table in [
            AuditEventFacetDays::Table.into_iden(),
            AuditEventFacetTotals::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }

    /// Tables, triggers and back-fill stand or fall together, on SQLite too.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

fn totals_table(backend: DatabaseBackend) -> TableCreateStatement {
    use AuditEventFacetTotals as T;
    Table::create()
        .table(T::Table)
        .if_not_exists()
        .col(ColumnDef::new(T::TenantId).uuid().not_null())
        .col(ColumnDef::new(T::Facet).text().not_null())
        // Byte-ordered, so ties rank the same on both backends.
        .col(column_types::identifier(backend, T::Value))
        .col(ColumnDef::new(T::Label).text().null())
        .col(ColumnDef::new(T::Count).big_integer().not_null())
        .primary_key(Index::create().col(T::TenantId).col(T::Facet).col(T::Value))
        .foreign_key(&mut tenant_key(
            "audit_event_facet_totals_tenant_id_fkey",
            T::Table,
        ))
        .check(Expr::col(T::Facet).is_in(["action", "actor"]))
        .to_owned()
}

fn days_table(backend: DatabaseBackend) -> TableCreateStatement {
    use AuditEventFacetDays as D;
    Table::create()
        .table(D::Table)
        .if_not_exists()
        .col(ColumnDef::new(D::TenantId).uuid().not_null())
        .col(ColumnDef::new(D::Facet).text().not_null())
        .col(ColumnDef::new(D::Day).date().not_null())
        .col(column_types::identifier(backend, D::Value))
        .col(ColumnDef::new(D::Count).big_integer().not_null())
        // `day` before `value`: readers sum a range of days per facet.
        .primary_key(
            Index::create()
                .col(D::TenantId)
                .col(D::Facet)
                .col(D::Day)
                .col(D::Value),
        )
        .foreign_key(&mut tenant_key(
            "audit_event_facet_days_tenant_id_fkey",
            D::Table,
        ))
        .check(Expr::col(D::Facet).is_in(["action", "actor"]))
        .to_owned()
}

/// The foreign key of a tenant table's `tenant_id` (also used by later migrations).
pub(crate) fn tenant_key(name: &str, table: impl IntoIden) -> ForeignKeyCreateStatement {
    let table = table.into_iden();
    ForeignKey::create()
        .name(name)
        .from(table, Alias::new("tenant_id"))
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}
