//! `user_sessions`: server-side sessions of people signed in through the browser
//! login flow.
//!
//! The session cookie carries the tenant id and a random secret; only the
//! SHA-256 of the secret is stored. A session is active while `ended_at` is
//! NULL (logout sets it) and `expires_at` lies in the future.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    /// Public id of the session (audit targets, logs); not the cookie secret.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Lower-case hex SHA-256 of the cookie's secret part.
    pub secret_hash: String,
    /// The identity provider's `sub` of the person.
    pub subject: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// `admin` or `auditor`, mapped from the IdP's roles claim at login.
    pub role: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
