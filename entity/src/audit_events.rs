//! `audit_events`: the audit log itself, append-only for the API.
//!
//! `ip_address` is `inet` on PostgreSQL and text on SQLite; it is always read back
//! as text (`select_as`), and written through the event store, which casts on
//! PostgreSQL. `request_hash` fingerprints the client-supplied fields so a replayed
//! `idempotency_key` with a different body can be told apart from a retry.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub sequence: i64,
    pub action: String,
    /// `user`, `api_key` or `system`.
    pub actor_type: String,
    pub actor_id: String,
    pub actor_name: Option<String>,
    pub actor_email: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub target_name: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    #[sea_orm(select_as = "text")]
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub payload: Option<Json>,
    pub occurred_at: DateTimeUtc,
    pub received_at: DateTimeUtc,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
