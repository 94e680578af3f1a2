//! `audit_event_facet_totals`: per tenant, how many stored events have each
//! action (`facet = 'action'`) and each actor id (`facet = 'actor'`).
//!
//! Written only by the database's triggers on `audit_events` (migration
//! `m20261203_000010_create_facet_counts`), never by this crate; a value whose
//! count reaches zero has no row. `label` is, for actors, the greatest
//! non-null name ever seen with the id (it only grows, so it may come from an
//! event the purge has deleted).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_event_facet_totals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    /// `action` or `actor`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub facet: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub value: String,
    pub label: Option<String>,
    pub count: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
