//! `log_streams`: a tenant's outbound streams of its events (a webhook or a
//! Splunk HTTP Event Collector), their encrypted destination secret and
//! their delivery state (the cursor, the batch in flight, retries, the
//! worker's lease). The protocol is `store::log_streams`'.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "log_streams")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// `WEBHOOK` or `SPLUNK_HEC` (`domain::log_stream::StreamKind`).
    pub kind: String,
    pub url: String,
    /// The JSON of the `EventFilter` deliveries are narrowed by, if any.
    pub filter: Option<String>,
    pub batch_size: i32,
    pub splunk_index: Option<String>,
    pub splunk_sourcetype: Option<String>,
    /// The destination secret (`whsec_…` or the Splunk token), encrypted.
    pub secret_ciphertext: Option<String>,
    /// The secret before the last rotation, still signed with until
    /// `previous_secret_until`.
    pub previous_secret_ciphertext: Option<String>,
    pub previous_secret_until: Option<DateTimeUtc>,
    /// `ACTIVE`, `PAUSED`, `FAILING` or `DISABLED`.
    pub state: String,
    /// Every matching event with a sequence up to this was acknowledged.
    pub delivered_through: i64,
    /// The last sequence the last acknowledged batch covered: the next batch
    /// starts after it.
    pub batch_start_after: i64,
    /// The batch being delivered (re-sent under this id until acknowledged).
    pub pending_delivery_id: Option<Uuid>,
    pub pending_last_sequence: Option<i64>,
    /// Failed attempts of the pending batch.
    pub attempt: i32,
    pub next_attempt_at: DateTimeUtc,
    pub last_delivery_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    /// The last range skipped because the purge deleted it before delivery.
    pub gap_from: Option<i64>,
    pub gap_to: Option<i64>,
    pub gap_at: Option<DateTimeUtc>,
    pub lease_holder: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub deliveries_pruned_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
