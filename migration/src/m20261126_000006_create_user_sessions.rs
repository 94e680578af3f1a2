//! Creates `user_sessions`: the server-side sessions of people signed in through
//! the browser login (`/auth/login` → `/auth/callback`).
//!
//! The cookie carries the tenant id and a random secret; only the SHA-256 of the
//! secret is stored, and a session is found by `(tenant_id, secret_hash)`, so
//! like every key on tenant data the lookup index leads with `tenant_id`.

use sea_orm_migration::prelude::*;

use crate::m20261126_000001_create_tenants::Tenants;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum UserSessions {
    Table,
    TenantId,
    Id,
    SecretHash,
    Subject,
    Name,
    Email,
    Role,
    CreatedAt,
    ExpiresAt,
    EndedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UserSessions::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(UserSessions::TenantId).uuid().not_null())
                    .col(ColumnDef::new(UserSessions::Id).uuid().not_null())
                    .col(ColumnDef::new(UserSessions::SecretHash).text().not_null())
                    .col(ColumnDef::new(UserSessions::Subject).text().not_null())
                    .col(ColumnDef::new(UserSessions::Name).text().null())
                    .col(ColumnDef::new(UserSessions::Email).text().null())
                    .col(ColumnDef::new(UserSessions::Role).text().not_null())
                    .col(
                        ColumnDef::new(UserSessions::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UserSessions::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UserSessions::EndedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(UserSessions::TenantId)
                            .col(UserSessions::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("user_sessions_tenant_id_fkey")
                            .from(UserSessions::Table, UserSessions::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    // People sign in as ADMIN or AUDITOR; PUBLISHER is for API keys only.
                    .check(Expr::col(UserSessions::Role).is_in(["admin", "auditor"]))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("user_sessions_tenant_secret_hash_key")
                    .table(UserSessions::Table)
                    .col(UserSessions::TenantId)
                    .col(UserSessions::SecretHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Housekeeping deletes a tenant's long-expired sessions at each login.
        manager
            .create_index(
                Index::create()
                    .name("user_sessions_tenant_expires_at_idx")
                    .table(UserSessions::Table)
                    .col(UserSessions::TenantId)
                    .col(UserSessions::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UserSessions::Table).to_owned())
            .await
    }
}
