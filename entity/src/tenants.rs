//! `tenants`: one row per customer of the embedding SaaS product.
//!
//! `event_counter` is the last `sequence` handed out to this tenant's events. The
//! event store advances it inside the inserting transaction, which makes the row
//! lock the per-tenant serialization point for sequence assignment.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    /// `team` or `enterprise`.
    pub plan: String,
    pub retention_days: i32,
    pub created_at: DateTimeUtc,
    pub event_counter: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
