//! Creates `log_streams` and `log_stream_deliveries` (issue 20): a tenant's
//! outbound streams of its events to a webhook or a Splunk HTTP Event
//! Collector, and the record of every delivery attempt.
//!
//! - `log_streams (tenant_id, id)`: where to deliver (`kind`, `url`, the
//!   filter as the JSON of `EventFilter`, `batch_size`), the destination
//!   secret encrypted (`secret_ciphertext`: the `whsec_` signing secret or the
//!   Splunk token; `previous_secret_ciphertext` until `previous_secret_until`
//!   while a rotation is under way), and the delivery state: the cursor
//!   `delivered_through` (every matching event up to it was acknowledged),
//!   `batch_start_after` (the last sequence of the last acknowledged batch,
//!   so the next batch starts right after it), the batch in flight
//!   (`pending_delivery_id`, `pending_last_sequence`: written before the
//!   first send, so a retry or a takeover sends the same batch under the same
//!   id), the retry state and the lease (`lease_holder`, `lease_until`) that
//!   makes one worker at a time deliver a stream.
//! - `log_stream_deliveries (tenant_id, id)`: one row per attempt (test
//!   deliveries too), kept 7 days.
//!
//! On PostgreSQL both are tenant tables (`FORCE ROW LEVEL SECURITY`, the
//! `tenant_isolation` policy). Workers find due streams before they know a
//! tenant through the owner's `SECURITY DEFINER` function
//! `auditlog_due_log_streams(now, limit)`, which returns ids only (like
//! `auditlog_tenant_ids_after`), read under a `SELECT` policy for the owner.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::m20261126_000001_create_tenants::Tenants;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum LogStreams {
    Table,
    TenantId,
    Id,
    Name,
    Kind,
    Url,
    Filter,
    BatchSize,
    SplunkIndex,
    SplunkSourcetype,
    SecretCiphertext,
    PreviousSecretCiphertext,
    PreviousSecretUntil,
    State,
    DeliveredThrough,
    BatchStartAfter,
    PendingDeliveryId,
    PendingLastSequence,
    Attempt,
    NextAttemptAt,
    LastDeliveryAt,
    LastError,
    GapFrom,
    GapTo,
    GapAt,
    LeaseHolder,
    LeaseUntil,
    DeliveriesPrunedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum LogStreamDeliveries {
    Table,
    TenantId,
    Id,
    StreamId,
    DeliveryId,
    Test,
    Status,
    FirstSequence,
    LastSequence,
    EventCount,
    Attempt,
    ResponseStatus,
    LatencyMs,
    Error,
    CreatedAt,
}

const DELIVERIES_BY_STREAM: &str = "log_stream_deliveries_by_stream";

const POSTGRES_UP: &str = r#"
ALTER TABLE log_streams ADD CONSTRAINT log_streams_kind_check CHECK (kind IN ('WEBHOOK', 'SPLUNK_HEC'));
ALTER TABLE log_streams ADD CONSTRAINT log_streams_state_check CHECK (state IN ('ACTIVE', 'PAUSED', 'FAILING', 'DISABLED'));
ALTER TABLE log_streams ADD CONSTRAINT log_streams_batch_size_check CHECK (batch_size BETWEEN 1 AND 1000);
ALTER TABLE log_stream_deliveries ADD CONSTRAINT log_stream_deliveries_status_check CHECK (status IN ('DELIVERED', 'FAILED'));
ALTER TABLE log_streams ENABLE ROW LEVEL SECURITY;
ALTER TABLE log_streams FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON log_streams
  USING (tenant_id = current_setting('app.tenant_id')::uuid)
  WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);
CREATE POLICY registry_lookup ON log_streams FOR SELECT TO CURRENT_USER USING (true);
ALTER TABLE log_stream_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE log_stream_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON log_stream_deliveries
  USING (tenant_id = current_setting('app.tenant_id')::uuid)
  WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON log_streams TO auditlog_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON log_stream_deliveries TO auditlog_app;
DO $$
DECLARE
  schema_name text := current_schema();
BEGIN
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION %1$I.auditlog_due_log_streams(p_now timestamptz, p_limit bigint)
    RETURNS TABLE (tenant_id uuid, id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = %1$I, pg_temp
    AS $body$
      SELECT s.tenant_id, s.id FROM log_streams s JOIN tenants t ON t.id = s.tenant_id
      WHERE s.state IN ('ACTIVE', 'FAILING')
        AND s.next_attempt_at <= p_now
        AND (s.lease_until IS NULL OR s.lease_until < p_now)
        AND (s.pending_delivery_id IS NOT NULL OR s.delivered_through < t.event_counter)
      ORDER BY s.next_attempt_at
      LIMIT p_limit
    $body$
  $f$, schema_name);
END
$$;
REVOKE ALL ON FUNCTION auditlog_due_log_streams(timestamptz, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auditlog_due_log_streams(timestamptz, bigint) TO auditlog_app;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_streams(manager).await?;
        create_deliveries(manager).await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(POSTGRES_UP)
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "DROP FUNCTION IF EXISTS auditlog_due_log_streams(timestamptz, bigint)",
                )
                .await?;
        }
        manager
            .drop_table(
                Table::drop()
                    .table(LogStreamDeliveries::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(LogStreams::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }

    /// The tables, policies and function stand or fall together.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

fn timestamp(column: impl IntoIden) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    def.timestamp_with_time_zone();
    def
}

async fn create_streams(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use LogStreams as S;
    manager
        .create_table(
            Table::create()
                .table(S::Table)
                .if_not_exists()
                .col(ColumnDef::new(S::TenantId).uuid().not_null())
                .col(ColumnDef::new(S::Id).uuid().not_null())
                .col(ColumnDef::new(S::Name).text().not_null())
                .col(ColumnDef::new(S::Kind).text().not_null())
                .col(ColumnDef::new(S::Url).text().not_null())
                .col(ColumnDef::new(S::Filter).text().null())
                .col(ColumnDef::new(S::BatchSize).integer().not_null())
                .col(ColumnDef::new(S::SplunkIndex).text().null())
                .col(ColumnDef::new(S::SplunkSourcetype).text().null())
                .col(ColumnDef::new(S::SecretCiphertext).text().null())
                .col(ColumnDef::new(S::PreviousSecretCiphertext).text().null())
                .col(timestamp(S::PreviousSecretUntil).null())
                .col(ColumnDef::new(S::State).text().not_null())
                .col(ColumnDef::new(S::DeliveredThrough).big_integer().not_null())
                .col(ColumnDef::new(S::BatchStartAfter).big_integer().not_null())
                .col(ColumnDef::new(S::PendingDeliveryId).uuid().null())
                .col(ColumnDef::new(S::PendingLastSequence).big_integer().null())
                .col(ColumnDef::new(S::Attempt).integer().not_null().default(0))
                .col(timestamp(S::NextAttemptAt).not_null())
                .col(timestamp(S::LastDeliveryAt).null())
                .col(ColumnDef::new(S::LastError).text().null())
                .col(ColumnDef::new(S::GapFrom).big_integer().null())
                .col(ColumnDef::new(S::GapTo).big_integer().null())
                .col(timestamp(S::GapAt).null())
                .col(ColumnDef::new(S::LeaseHolder).text().null())
                .col(timestamp(S::LeaseUntil).null())
                .col(timestamp(S::DeliveriesPrunedAt).null())
                .col(timestamp(S::CreatedAt).not_null())
                .col(timestamp(S::UpdatedAt).not_null())
                .primary_key(Index::create().col(S::TenantId).col(S::Id))
                .foreign_key(
                    ForeignKey::create()
                        .name("log_streams_tenant_id_fkey")
                        .from(S::Table, S::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
}

async fn create_deliveries(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use LogStreamDeliveries as D;
    manager
        .create_table(
            Table::create()
                .table(D::Table)
                .if_not_exists()
                .col(ColumnDef::new(D::TenantId).uuid().not_null())
                .col(ColumnDef::new(D::Id).uuid().not_null())
                .col(ColumnDef::new(D::StreamId).uuid().not_null())
                .col(ColumnDef::new(D::DeliveryId).uuid().not_null())
                .col(ColumnDef::new(D::Test).boolean().not_null())
                .col(ColumnDef::new(D::Status).text().not_null())
                .col(ColumnDef::new(D::FirstSequence).big_integer().not_null())
                .col(ColumnDef::new(D::LastSequence).big_integer().not_null())
                .col(ColumnDef::new(D::EventCount).integer().not_null())
                .col(ColumnDef::new(D::Attempt).integer().not_null())
                .col(ColumnDef::new(D::ResponseStatus).integer().null())
                .col(ColumnDef::new(D::LatencyMs).big_integer().not_null())
                .col(ColumnDef::new(D::Error).text().null())
                .col(timestamp(D::CreatedAt).not_null())
                .primary_key(Index::create().col(D::TenantId).col(D::Id))
                .foreign_key(
                    ForeignKey::create()
                        .name("log_stream_deliveries_stream_fkey")
                        .from(D::Table, (D::TenantId, D::StreamId))
                        .to(LogStreams::Table, (LogStreams::TenantId, LogStreams::Id))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name(DELIVERIES_BY_STREAM)
                .table(D::Table)
                .if_not_exists()
                .col(D::TenantId)
                .col(D::StreamId)
                .col(D::Id)
                .to_owned(),
        )
        .await
}
