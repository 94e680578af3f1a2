//! Adds the retention policy to `tenants` (legal hold, when the policy last
//! changed) and creates `retention_leases`, the per-tenant lease that lets any
//! number of purge workers run while exactly one purges a given tenant.

use sea_orm_migration::prelude::*;

use crate::m20261126_000001_create_tenants::Tenants;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum RetentionTenants {
    #[sea_orm(iden = "tenants")]
    Table,
    LegalHold,
    LegalHoldReason,
    RetentionUpdatedAt,
}

#[derive(DeriveIden)]
enum RetentionLeases {
    Table,
    TenantId,
    Holder,
    ExpiresAt,
    UnreportedDeletions,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE statement.
        for column in [
            ColumnDef::new(RetentionTenants::LegalHold)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(RetentionTenants::LegalHoldReason)
                .text()
                .null()
                .to_owned(),
            // NULL means "never changed": the policy dates from `created_at`.
            ColumnDef::new(RetentionTenants::RetentionUpdatedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RetentionTenants::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(RetentionLeases::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(RetentionLeases::TenantId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    // Which worker process holds (or last held) the lease.
                    .col(ColumnDef::new(RetentionLeases::Holder).text().not_null())
                    // The lease is free once this instant has passed.
                    .col(
                        ColumnDef::new(RetentionLeases::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    // Events deleted but not yet reported in a `retention.purge`
                    // event (a pass that was interrupted leaves them for the next).
                    .col(
                        ColumnDef::new(RetentionLeases::UnreportedDeletions)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("retention_leases_tenant_id_fkey")
                            .from(RetentionLeases::Table, RetentionLeases::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(Expr::col(RetentionLeases::UnreportedDeletions).gte(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RetentionLeases::Table).to_owned())
            .await?;
        for column in [
            RetentionTenants::RetentionUpdatedAt,
            RetentionTenants::LegalHoldReason,
            RetentionTenants::LegalHold,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RetentionTenants::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
