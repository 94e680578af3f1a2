//! Creates `audit_view_marks`: when a reader's look at a tenant's log was last
//! recorded as `audit_log.view` (issue 17), so the service records one view per
//! reader per window (`AUDITLOG_VIEW_AUDIT_INTERVAL_SECS`) however many
//! service instances share the database.
//!
//! - `audit_view_marks (tenant_id, reader_key, last_recorded_at)`: one row per
//!   tenant and reader that was ever recorded; `reader_key` names the reader by
//!   credential kind and id (e.g. `user:<sub>`, never a secret). The service
//!   claims a window with one conditional upsert on the primary key (`store::view_marks`),
//!   so of several instances exactly one wins it.
//!
//! On PostgreSQL it is a tenant table: `FORCE ROW LEVEL SECURITY` and the
//! `tenant_isolation` policy of migration 7. `auditlog_app` gets `SELECT,
//! INSERT, UPDATE` only: the service never deletes a mark (a tenant's marks go
//! with the tenant, by the foreign key).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

use crate::m20261126_000001_create_tenants::Tenants;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum AuditViewMarks {
    Table,
    TenantId,
    ReaderKey,
    LastRecordedAt,
}

const ROW_LEVEL_SECURITY: &str = "\
ALTER TABLE audit_view_marks ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_view_marks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_view_marks
  USING (tenant_id = current_setting('app.tenant_id')::uuid)
  WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);
GRANT SELECT, INSERT, UPDATE ON audit_view_marks TO auditlog_app;
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use AuditViewMarks as M;
        manager
            .create_table(
                Table::create()
                    .table(M::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(M::TenantId).uuid().not_null())
                    .col(ColumnDef::new(M::ReaderKey).text().not_null())
                    .col(
                        ColumnDef::new(M::LastRecordedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(Index::create().col(M::TenantId).col(M::ReaderKey))
                    .foreign_key(
                        ForeignKey::create()
                            .name("audit_view_marks_tenant_id_fkey")
                            .from(M::Table, M::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(ROW_LEVEL_SECURITY)
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The policy and grants go with the table.
        manager
            .drop_table(
                Table::drop()
                    .table(AuditViewMarks::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }

    /// The table and its policy stand or fall together.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
