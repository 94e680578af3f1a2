//! Indexes for `actorType` and `outcome`, the last filter fields without one
//! that keeps the page's order. Both are low-cardinality, so alone they were
//! served by walking `(tenant_id, occurred_at, id)` and skipping the others;
//! combined with a field served by an index that is not in page order (an
//! `actionPrefix` range), PostgreSQL read the whole range and sorted it (over
//! a second on a 10M-event tenant). Led by the field, then the page's order,
//! a page stops after its rows however rare the value.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum AuditEvents {
    Table,
    TenantId,
    ActorType,
    Outcome,
    OccurredAt,
    Id,
}

const INDEXES: [(&str, AuditEvents); 2] = [
    ("audit_events_tenant_actor_type_idx", AuditEvents::ActorType),
    ("audit_events_tenant_outcome_idx", AuditEvents::Outcome),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, column) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuditEvents::Table)
                        .if_not_exists()
                        .col(AuditEvents::TenantId)
                        .col(column)
                        .col(AuditEvents::OccurredAt)
                        .col(AuditEvents::Id)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in INDEXES {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(AuditEvents::Table)
                        .if_exists()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
