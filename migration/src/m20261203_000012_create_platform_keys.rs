//! Creates `platform_keys`: credentials of the SaaS that embeds auditlog, not
//! of one tenant. A platform key acts for the tenant a request names (the
//! `Auditlog-Tenant` header), so the table has no `tenant_id` and no
//! row-level security: like `instance_settings`, it is installation-wide, and
//! the service reads it before any tenant is known. `prefix` is unique: it is
//! how a presented key finds its row (only the SHA-256 of the secret is kept).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::column_types;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum PlatformKeys {
    Table,
    Id,
    Name,
    Role,
    Prefix,
    SecretHash,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

const PREFIX_INDEX: &str = "platform_keys_prefix_key";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let timestamp = |column: PlatformKeys| {
            let mut def = ColumnDef::new(column);
            def.timestamp_with_time_zone();
            def
        };
        manager
            .create_table(
                Table::create()
                    .table(PlatformKeys::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(PlatformKeys::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(PlatformKeys::Name).text().not_null())
                    .col(ColumnDef::new(PlatformKeys::Role).text().not_null())
                    .col(column_types::identifier(backend, PlatformKeys::Prefix))
                    .col(ColumnDef::new(PlatformKeys::SecretHash).text().not_null())
                    .col(timestamp(PlatformKeys::CreatedAt).not_null())
                    .col(timestamp(PlatformKeys::LastUsedAt).null())
                    .col(timestamp(PlatformKeys::RevokedAt).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(PREFIX_INDEX)
                    .table(PlatformKeys::Table)
                    .if_not_exists()
                    .unique()
                    .col(PlatformKeys::Prefix)
                    .to_owned(),
            )
            .await?;
        if backend == DatabaseBackend::Postgres {
            // No DELETE: a key is revoked, never erased, so the platform log's
            // actor ids keep naming a row.
            manager
                .get_connection()
                .execute_unprepared("GRANT SELECT, INSERT, UPDATE ON platform_keys TO auditlog_app")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(PlatformKeys::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
