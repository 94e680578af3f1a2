//! Recording a batch of events: validate all, then append all in one
//! transaction (shared with other requests of the tenant, see `group_commit`).
//!
//! An event that occurred before the tenant's retention cutoff would be expired
//! (invisible, and purged) the moment it is stored, so it is refused like any
//! other invalid event; so is a retry whose idempotency key names an expired event.

use std::num::NonZeroU32;

use entity::audit_events;
use uuid::Uuid;

use super::group_commit::GroupCommit;
use crate::domain::clock;
use crate::domain::new_event::RawEvent;
use crate::domain::{NewEvent, RetentionWindow};
use crate::error::{ApiError, ApiResult};

/// Events accepted in one `recordAuditEvents` call.
pub(crate) const MAX_BATCH: usize = 1000;

/// All or nothing: one invalid event rejects the batch before anything is written,
/// and the error names its index. A valid batch whose new events do not fit the
/// tenant's ingest quota of `per_minute` (`None`: unlimited) is refused whole
/// with `QUOTA_EXCEEDED` by the transaction that would record it.
pub(crate) async fn record(
    ingest: &GroupCommit,
    tenant_id: Uuid,
    retention: RetentionWindow,
    per_minute: Option<NonZeroU32>,
    batch: Vec<RawEvent>,
) -> ApiResult<Vec<audit_events::Model>> {
    if batch.is_empty() || batch.len() > MAX_BATCH {
        return Err(ApiError::bad_input(format!(
            "events must hold 1 to {MAX_BATCH} events, got {}",
            batch.len()
        )));
    }
    let now = clock::now();
    let cutoff = retention.cutoff(now);
    let events = batch
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            let event = NewEvent::parse(raw, now).map_err(|error| ApiError::BadUserInput {
                message: format!("events[{index}].{}: {}", error.field, error.message),
                index: Some(index),
            })?;
            match cutoff {
                Some(cutoff) if event.occurred_at < cutoff => Err(ApiError::BadUserInput {
                    message: format!(
                        "events[{index}].occurredAt: {} is outside this tenant's retention window \
                         of {} days (events that occurred before {} have expired)",
                        event.occurred_at.to_rfc3339(),
                        retention.days.get(),
                        cutoff.to_rfc3339()
                    ),
                    index: Some(index),
                }),
                _ => Ok(event),
            }
        })
        .collect::<ApiResult<Vec<_>>>()?;
    ingest
        .append(tenant_id, retention, per_minute, events)
        .await
}
