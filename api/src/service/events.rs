//! Recording a batch of events: validate all, then append all in one transaction.

use entity::audit_events;
use sea_orm::{DatabaseConnection, TransactionTrait};
use uuid::Uuid;

use crate::domain::NewEvent;
use crate::domain::clock;
use crate::domain::new_event::RawEvent;
use crate::error::{ApiError, ApiResult};
use crate::live::Hub;
use crate::store;

/// Events accepted in one `recordAuditEvents` call.
pub const MAX_BATCH: usize = 1000;

/// All or nothing: one invalid event rejects the batch before anything is written,
/// and the error names its index.
pub async fn record(
    db: &DatabaseConnection,
    live: &Hub,
    tenant_id: Uuid,
    batch: Vec<RawEvent>,
) -> ApiResult<Vec<audit_events::Model>> {
    if batch.is_empty() || batch.len() > MAX_BATCH {
        return Err(ApiError::bad_input(format!(
            "events must hold 1 to {MAX_BATCH} events, got {}",
            batch.len()
        )));
    }
    let now = clock::now();
    let events = batch
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            NewEvent::parse(raw, now).map_err(|error| ApiError::BadUserInput {
                message: format!("events[{index}].{}: {}", error.field, error.message),
                index: Some(index),
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let txn = db.begin().await?;
    let stored = store::events::append(&txn, tenant_id, events, now).await?;
    txn.commit().await?;
    if let Some(last) = stored.iter().map(|row| row.sequence).max() {
        live.published(tenant_id, last).await;
    }
    Ok(stored)
}
