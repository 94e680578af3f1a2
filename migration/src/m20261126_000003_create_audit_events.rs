//! Creates `audit_events` and the indexes behind every hot query:
//! newest-first listing, filtering by action, actor and target, sequence
//! ranges (live-event catch-up) and idempotency-key lookups.

use sea_orm_migration::prelude::*;

use crate::column_types;
use crate::m20261126_000001_create_tenants::Tenants;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden, Clone)]
enum AuditEvents {
    Table,
    TenantId,
    Id,
    Sequence,
    Action,
    ActorType,
    ActorId,
    ActorName,
    ActorEmail,
    TargetType,
    TargetId,
    TargetName,
    Outcome,
    IpAddress,
    UserAgent,
    RequestId,
    Payload,
    OccurredAt,
    ReceivedAt,
    IdempotencyKey,
    RequestHash,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(AuditEvents::TenantId).uuid().not_null())
                    .col(ColumnDef::new(AuditEvents::Id).uuid().not_null())
                    .col(
                        ColumnDef::new(AuditEvents::Sequence)
                            .big_integer()
                            .not_null(),
                    )
                    .col(column_types::identifier(backend, AuditEvents::Action))
                    .col(ColumnDef::new(AuditEvents::ActorType).text().not_null())
                    .col(ColumnDef::new(AuditEvents::ActorId).text().not_null())
                    .col(ColumnDef::new(AuditEvents::ActorName).text().null())
                    .col(ColumnDef::new(AuditEvents::ActorEmail).text().null())
                    .col(ColumnDef::new(AuditEvents::TargetType).text().null())
                    .col(ColumnDef::new(AuditEvents::TargetId).text().null())
                    .col(ColumnDef::new(AuditEvents::TargetName).text().null())
                    .col(ColumnDef::new(AuditEvents::Outcome).text().not_null())
                    .col(column_types::ip_address(backend, AuditEvents::IpAddress))
                    .col(ColumnDef::new(AuditEvents::UserAgent).text().null())
                    .col(ColumnDef::new(AuditEvents::RequestId).text().null())
                    .col(ColumnDef::new(AuditEvents::Payload).json_binary().null())
                    .col(
                        ColumnDef::new(AuditEvents::OccurredAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuditEvents::ReceivedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditEvents::IdempotencyKey).text().null())
                    .col(ColumnDef::new(AuditEvents::RequestHash).text().null())
                    .primary_key(
                        Index::create()
                            .col(AuditEvents::TenantId)
                            .col(AuditEvents::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("audit_events_tenant_id_fkey")
                            .from(AuditEvents::Table, AuditEvents::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .check(Expr::col(AuditEvents::ActorType).is_in(["user", "api_key", "system"]))
                    .check(Expr::col(AuditEvents::Outcome).is_in(["success", "failure"]))
                    .check(Expr::col(AuditEvents::Sequence).gt(0))
                    .to_owned(),
            )
            .await?;

        let unique = |name: &str, cols: &[AuditEvents]| index(name, cols, true);
        let plain = |name: &str, cols: &[AuditEvents]| index(name, cols, false);
        for statement in [
            // Gapless per-tenant order; also serves replay by sequence range.
            unique(
                "audit_events_tenant_sequence_key",
                &[AuditEvents::TenantId, AuditEvents::Sequence],
            ),
            // One event per idempotency key and tenant (NULLs never collide).
            unique(
                "audit_events_tenant_idempotency_key",
                &[AuditEvents::TenantId, AuditEvents::IdempotencyKey],
            ),
            // Newest-first listing and time-range filters (keyset on occurred_at, id).
            plain(
                "audit_events_tenant_occurred_idx",
                &[
                    AuditEvents::TenantId,
                    AuditEvents::OccurredAt,
                    AuditEvents::Id,
                ],
            ),
            plain(
                "audit_events_tenant_action_idx",
                &[
                    AuditEvents::TenantId,
                    AuditEvents::Action,
                    AuditEvents::OccurredAt,
                    AuditEvents::Id,
                ],
            ),
            plain(
                "audit_events_tenant_actor_idx",
                &[
                    AuditEvents::TenantId,
                    AuditEvents::ActorId,
                    AuditEvents::OccurredAt,
                    AuditEvents::Id,
                ],
            ),
            plain(
                "audit_events_tenant_target_idx",
                &[
                    AuditEvents::TenantId,
                    AuditEvents::TargetType,
                    AuditEvents::TargetId,
                    AuditEvents::OccurredAt,
                    AuditEvents::Id,
                ],
            ),
        ] {
            manager.create_index(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEvents::Table).to_owned())
            .await
    }
}

fn index(name: &str, columns: &[AuditEvents], unique: bool) -> IndexCreateStatement {
    let mut statement = Index::create();
    statement
        .name(name)
        .table(AuditEvents::Table)
        .if_not_exists();
    for column in columns {
        statement.col(column.clone());
    }
    if unique {
        statement.unique();
    }
    statement.to_owned()
}
