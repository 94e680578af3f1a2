//! Creates `api_keys`.

use sea_orm_migration::prelude::*;

use crate::column_types;
use crate::m20261126_000001_create_tenants::Tenants;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    TenantId,
    Id,
    Name,
    Role,
    Prefix,
    SecretHash,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(ApiKeys::TenantId).uuid().not_null())
                    .col(ColumnDef::new(ApiKeys::Id).uuid().not_null())
                    .col(ColumnDef::new(ApiKeys::Name).text().not_null())
                    .col(ColumnDef::new(ApiKeys::Role).text().not_null())
                    .col(column_types::identifier(backend, ApiKeys::Prefix))
                    .col(ColumnDef::new(ApiKeys::SecretHash).text().not_null())
                    .col(
                        ColumnDef::new(ApiKeys::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ApiKeys::LastUsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(ApiKeys::RevokedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .primary_key(Index::create().col(ApiKeys::TenantId).col(ApiKeys::Id))
                    .foreign_key(
                        ForeignKey::create()
                            .name("api_keys_tenant_id_fkey")
                            .from(ApiKeys::Table, ApiKeys::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .check(Expr::col(ApiKeys::Role).is_in(["admin", "auditor", "publisher"]))
                    .to_owned(),
            )
            .await?;
        // Authentication looks a key up by (tenant, prefix): the tenant comes from
        // the slug embedded in the key, so this index, too, leads with tenant_id.
        manager
            .create_index(
                Index::create()
                    .name("api_keys_tenant_prefix_key")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::TenantId)
                    .col(ApiKeys::Prefix)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApiKeys::Table).to_owned())
            .await
    }
}
