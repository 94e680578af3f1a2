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
//!
//! Ingest quota: `ingest_window_start` is the start of the current minute
//! window (NULL: nothing counted yet), `ingest_window_events` the events
//! recorded in it and `ingest_previous_window_events` those of the minute
//! before; the event store reads and advances them with `event_counter`
//! (`store::events::ingest_window`).
//!
//! Merkle tree: `tree_origin` is the last sequence that predates the tenant's
//! tree (`domain::merkle::origin`): its `event_counter` when the tree's
//! migration ran, 0 for a tenant created after it. It never changes.

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
    pub ingest_window_start: Option<DateTimeUtc>,
    pub ingest_window_events: i64,
    pub ingest_previous_window_events: i64,
    pub tree_origin: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
