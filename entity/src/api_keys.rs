//! `api_keys`: machine credentials of a tenant.
//!
//! Only the SHA-256 hash of the secret is stored; the secret itself is shown once
//! at creation. `prefix` is public and identifies the key in listings and logs.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// `admin`, `auditor` or `publisher`.
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
