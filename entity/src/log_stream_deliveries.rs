//! `log_stream_deliveries`: one row per delivery attempt of a log stream
//! (`test` for `testLogStream`'s synthetic ones), kept 7 days. `delivery_id`
//! is what the receiver saw (`webhook-id`): the same for every attempt of
//! one batch.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "log_stream_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub stream_id: Uuid,
    pub delivery_id: Uuid,
    pub test: bool,
    /// `DELIVERED` or `FAILED`.
    pub status: String,
    pub first_sequence: i64,
    pub last_sequence: i64,
    pub event_count: i32,
    /// 1 for the first attempt of a batch.
    pub attempt: i32,
    pub response_status: Option<i32>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
