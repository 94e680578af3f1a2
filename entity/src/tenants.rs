//! `tenants`: one row per customer of the embedding SaaS product.
//!
//! `event_counter` is the last `sequence` handed out to this tenant's events. The
//! event store advances it inside the inserting transaction, which makes the row
//! lock the per-tenant serialization point for sequence assignment.
//!
//! Retention: `retention_days` is the stored policy (meaningful on ENTERPRISE;
//! the TEAM plan's period comes from operator configuration). While `legal_hold`
//! is set nothing of the tenant expires. `retention_updated_at` is when the
//! policy last changed (NULL: never, it dates from `created_at`).

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
    pub legal_hold: bool,
    pub legal_hold_reason: Option<String>,
    pub retention_updated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
