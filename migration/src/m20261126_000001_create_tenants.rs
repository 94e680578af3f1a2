//! Creates `tenants`.

use sea_orm_migration::prelude::*;

use crate::column_types;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Tenants {
    Table,
    Id,
    Slug,
    Name,
    Plan,
    RetentionDays,
    CreatedAt,
    EventCounter,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Tenants::Id).uuid().not_null().primary_key())
                    .col(column_types::identifier(backend, Tenants::Slug))
                    .col(ColumnDef::new(Tenants::Name).text().not_null())
                    .col(ColumnDef::new(Tenants::Plan).text().not_null())
                    .col(ColumnDef::new(Tenants::RetentionDays).integer().not_null())
                    .col(
                        ColumnDef::new(Tenants::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Tenants::EventCounter)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .check(Expr::col(Tenants::Plan).is_in(["team", "enterprise"]))
                    .check(Expr::col(Tenants::EventCounter).gte(0))
                    .to_owned(),
            )
            .await?;
        // The tenants table *is* the tenant key space: its unique slug index is the
        // lookup from API keys (which carry the slug) to the tenant.
        manager
            .create_index(
                Index::create()
                    .name("tenants_slug_key")
                    .table(Tenants::Table)
                    .col(Tenants::Slug)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Tenants::Table).to_owned())
            .await
    }
}
