//! `platform_keys`: credentials of the platform (the SaaS embedding auditlog)
//! that act for one tenant per request, named by the `Auditlog-Tenant` header.
//!
//! Only the SHA-256 hash of the secret is stored; the secret is shown once at
//! creation. `prefix` is public, unique, and identifies the key in listings.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "platform_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// `publisher` or `admin`.
    pub role: String,
    pub prefix: String,
    /// Lower-case hex SHA-256 of the secret part of the key.
    pub secret_hash: String,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
