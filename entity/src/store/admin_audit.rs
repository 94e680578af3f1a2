//! The service audits itself: administrative actions become events in the
//! affected tenant's own log, with the caller as actor.
//!
//! Action names (documented in docs/api.md): `tenant.create`, `api_key.create`,
//! `api_key.revoke`, `retention.update`, `legal_hold.enable`/`.update`/`.disable`,
//! `tenant.plan_change` (see `service::retention`), the purge's own
//! `retention.purge` (see `auditlog-worker`'s `purge`), `audit_log.view`
//! (reads of the log; `api`'s `service::view_audit`) and `audit_log.export`
//! (see `api`'s `service::export`).

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde_json::Value;
use uuid::Uuid;

use super::StoreError;
use crate::domain::new_event::{RawEvent, RawTarget};
use crate::domain::{AuditActor, NewEvent, Outcome};
use crate::store;

pub struct AdminAction<'a> {
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: String,
    pub target_name: Option<String>,
    pub payload: Value,
}

/// Appends the event and returns its sequence, to publish after commit.
pub async fn record(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    actor: &AuditActor,
    action: AdminAction<'_>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    record_outcome(txn, tenant_id, actor, action, Outcome::Success, now).await
}

/// [`record`] with an outcome: what failed is on the record too (an export
/// that was cut off is `FAILURE`).
pub async fn record_outcome(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    actor: &AuditActor,
    action: AdminAction<'_>,
    outcome: Outcome,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let raw = RawEvent {
        action: action.action.to_owned(),
        actor_type: Some(actor.actor_type),
        actor_id: actor.id.clone(),
        actor_name: actor.name.clone(),
        actor_email: actor.email.clone(),
        target: Some(RawTarget {
            target_type: action.target_type.to_owned(),
            id: Some(action.target_id),
            name: action.target_name,
        }),
        outcome,
        payload: Some(action.payload),
        occurred_at: Some(now),
        ..RawEvent::default()
    };
    let event = NewEvent::parse(raw, now)
        .map_err(|error| StoreError::Invalid(format!("self-audit event invalid: {error:?}")))?;
    let stored = store::events::append(txn, tenant_id, vec![event], now).await?;
    Ok(stored.first().map_or(0, |row| row.sequence))
}
