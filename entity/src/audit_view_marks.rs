//! `audit_view_marks`: when a reader's view of a tenant's log was last recorded.
//!
//! One row per tenant and reader ever recorded (`reader_key`: the credential
//! kind and id, never a secret). `audit_log.view` is recorded again only once
//! `last_recorded_at` lies a whole window in the past (`store::view_marks`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_view_marks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub reader_key: String,
    pub last_recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
