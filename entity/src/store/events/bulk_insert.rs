//! Writing a batch of new rows into `audit_events`, the hot path of ingest.
//!
//! PostgreSQL gets the whole batch as ONE parameter, a JSON array expanded by
//! `json_to_recordset` into typed columns: one short statement to parse and
//! plan per batch instead of a 20-parameters-per-row `VALUES` list (10,000 bind
//! parameters for a batch of 500), which BENCHMARKS.md showed dominating batch
//! ingest. SQLite (in-process, no protocol cost) keeps multi-row `VALUES`.
//!
//! Apart from `store::dialect`, this is the only backend-specific query code.

use entity::audit_events::{self, Column};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde::Serialize;

use crate::store::{StoreError, dialect};

/// Rows per `VALUES` statement on SQLite: 20 parameters each stays under its
/// bind-parameter limit.
const SQLITE_ROWS_PER_INSERT: usize = 500;

/// The column list and record type shared by the INSERT and `json_to_recordset`
/// (`json`, not `jsonb`: the batch is read once, never stored, so it is not
/// worth normalising).
const PG_INSERT: &str = "INSERT INTO audit_events (tenant_id, id, sequence, action, actor_type, \
     actor_id, actor_name, actor_email, target_type, target_id, target_name, outcome, ip_address, \
     user_agent, request_id, payload, occurred_at, received_at, idempotency_key, request_hash) \
     SELECT tenant_id, id, sequence, action, actor_type, actor_id, actor_name, actor_email, \
     target_type, target_id, target_name, outcome, ip_address, user_agent, request_id, payload, \
     occurred_at, received_at, idempotency_key, request_hash \
     FROM json_to_recordset($1::json) AS r(tenant_id uuid, id uuid, sequence bigint, \
     action text, actor_type text, actor_id text, actor_name text, actor_email text, \
     target_type text, target_id text, target_name text, outcome text, ip_address inet, \
     user_agent text, request_id text, payload jsonb, occurred_at timestamptz, \
     received_at timestamptz, idempotency_key text, request_hash text)";

pub(super) async fn insert_rows(
    txn: &impl ConnectionTrait,
    rows: &[audit_events::Model],
) -> Result<(), StoreError> {
    match txn.get_database_backend() {
        DbBackend::Postgres => insert_postgres(txn, rows).await,
        backend => insert_values(txn, backend, rows).await,
    }
}

/// One row as `json_to_recordset` reads it (keys are the record's column names).
#[derive(Serialize)]
struct Record<'a> {
    tenant_id: uuid::Uuid,
    id: uuid::Uuid,
    sequence: i64,
    action: &'a str,
    actor_type: &'a str,
    actor_id: &'a str,
    actor_name: Option<&'a str>,
    actor_email: Option<&'a str>,
    target_type: Option<&'a str>,
    target_id: Option<&'a str>,
    target_name: Option<&'a str>,
    outcome: &'a str,
    ip_address: Option<&'a str>,
    user_agent: Option<&'a str>,
    request_id: Option<&'a str>,
    payload: Option<&'a serde_json::Value>,
    occurred_at: chrono::DateTime<chrono::Utc>,
    received_at: chrono::DateTime<chrono::Utc>,
    idempotency_key: Option<&'a str>,
    request_hash: Option<&'a str>,
}

impl<'a> From<&'a audit_events::Model> for Record<'a> {
    fn from(row: &'a audit_events::Model) -> Self {
        Self {
            tenant_id: row.tenant_id,
            id: row.id,
            sequence: row.sequence,
            action: &row.action,
            actor_type: &row.actor_type,
            actor_id: &row.actor_id,
            actor_name: row.actor_name.as_deref(),
            actor_email: row.actor_email.as_deref(),
            target_type: row.target_type.as_deref(),
            target_id: row.target_id.as_deref(),
            target_name: row.target_name.as_deref(),
            outcome: &row.outcome,
            ip_address: row.ip_address.as_deref(),
            user_agent: row.user_agent.as_deref(),
            request_id: row.request_id.as_deref(),
            payload: row.payload.as_ref(),
            occurred_at: row.occurred_at,
            received_at: row.received_at,
            idempotency_key: row.idempotency_key.as_deref(),
            request_hash: row.request_hash.as_deref(),
        }
    }
}

async fn insert_postgres(
    txn: &impl ConnectionTrait,
    rows: &[audit_events::Model],
) -> Result<(), StoreError> {
    let records: Vec<Record<'_>> = rows.iter().map(Record::from).collect();
    // Bound as text and cast in SQL: the server parses the array once.
    let batch = serde_json::to_string(&records)
        .map_err(|error| sea_orm::DbErr::Custom(format!("cannot encode a batch: {error}")))?;
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        PG_INSERT,
        [batch.into()],
    ))
    .await?;
    Ok(())
}

async fn insert_values(
    txn: &impl ConnectionTrait,
    backend: DbBackend,
    rows: &[audit_events::Model],
) -> Result<(), StoreError> {
    for chunk in rows.chunks(SQLITE_ROWS_PER_INSERT) {
        let mut statement = Query::insert();
        statement.into_table(audit_events::Entity).columns([
            Column::TenantId,
            Column::Id,
            Column::Sequence,
            Column::Action,
            Column::ActorType,
            Column::ActorId,
            Column::ActorName,
            Column::ActorEmail,
            Column::TargetType,
            Column::TargetId,
            Column::TargetName,
            Column::Outcome,
            Column::IpAddress,
            Column::UserAgent,
            Column::RequestId,
            Column::Payload,
            Column::OccurredAt,
            Column::ReceivedAt,
            Column::IdempotencyKey,
            Column::RequestHash,
        ]);
        for row in chunk {
            let ip = row
                .ip_address
                .as_deref()
                .and_then(crate::domain::IpAddress::from_stored);
            statement
                .values([
                    Expr::val(row.tenant_id),
                    Expr::val(row.id),
                    Expr::val(row.sequence),
                    Expr::val(row.action.clone()),
                    Expr::val(row.actor_type.clone()),
                    Expr::val(row.actor_id.clone()),
                    Expr::val(row.actor_name.clone()),
                    Expr::val(row.actor_email.clone()),
                    Expr::val(row.target_type.clone()),
                    Expr::val(row.target_id.clone()),
                    Expr::val(row.target_name.clone()),
                    Expr::val(row.outcome.clone()),
                    dialect::ip_value(backend, ip.as_ref()),
                    Expr::val(row.user_agent.clone()),
                    Expr::val(row.request_id.clone()),
                    Expr::val(row.payload.clone()),
                    Expr::val(row.occurred_at),
                    Expr::val(row.received_at),
                    Expr::val(row.idempotency_key.clone()),
                    Expr::val(row.request_hash.clone()),
                ])
                .map_err(|error| sea_orm::DbErr::Custom(error.to_string()))?;
        }
        txn.execute(&statement).await?;
    }
    Ok(())
}
