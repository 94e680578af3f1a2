//! An index for `targetId` alone: `audit_events_tenant_target_idx` leads with
//! `target_type`, so a filter on the target's id without its type (the
//! viewer's "target id" box) walked the tenant's whole log. This one leads
//! with `target_id`, then the page's own order, so such a page (also with a
//! time window) stops after its rows. The type-led index stays for
//! `targetType` alone and for both together.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const NAME: &str = "audit_events_tenant_target_id_idx";

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    TenantId,
    TargetId,
    OccurredAt,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table(AuditEvents::Table)
                    .if_not_exists()
                    .col(AuditEvents::TenantId)
                    .col(AuditEvents::TargetId)
                    .col(AuditEvents::OccurredAt)
                    .col(AuditEvents::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(NAME)
                    .table(AuditEvents::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
