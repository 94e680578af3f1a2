//! `audit_event_facet_days`: the counts of `audit_event_facet_totals` per UTC
//! day of `occurred_at`, so a read can take the expired days off the totals.
//!
//! Written only by the database's triggers on `audit_events` (migration
//! `m20261203_000010_create_facet_counts`); zero counts have no row.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_event_facet_days")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    /// `action` or `actor`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub facet: String,
    /// The UTC day the events occurred on.
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    #[sea_orm(primary_key, auto_increment = false)]
    pub value: String,
    pub count: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
