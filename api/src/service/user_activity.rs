//! User activity: people signing in and out of the web console, recorded in
//! their tenant's own log with the person as actor (`USER`, id = the IdP's
//! `sub`, name and email from its claims).
//!
//! Actions: `user.login` (a session opened), `user.login_failed` (a verified
//! person of a known tenant whose claims grant no role; payload `reason`, a
//! category — never a token or code), `user.logout` (a session ended). Like
//! the admin actions (`admin_audit`), each event commits in the transaction
//! that changes the session, and is published to live subscribers after it.
//!
//! Failures before the tenant is known (a forged or expired ID token, an IdP
//! error, a token naming no tenant) belong to no tenant's log: they are only
//! logged by the service, since a forged token must not write into anyone's log.

use chrono::{DateTime, Utc};
use entity::user_sessions;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::AuditActor;
use crate::auth::session_secret::{self, PresentedSession};
use crate::domain::new_event::{RawEvent, RawTarget};
use crate::domain::{NewEvent, Outcome, Role, clock};
use crate::error::{ApiError, ApiResult};
use crate::live::Hub;
use crate::store;
use crate::store::user_sessions::NewSession;

/// A session just opened: `cookie_value` goes to the browser, once.
pub(crate) struct SignedIn {
    pub cookie_value: String,
    pub session: user_sessions::Model,
}

/// Opens a session for a person of `tenant_id` and records `user.login`.
/// A session the browser still presented (`replaced`) is ended: the session
/// id rotates at every login.
pub(crate) async fn sign_in(
    db: &DatabaseConnection,
    live: &Hub,
    tenant_id: Uuid,
    actor: &AuditActor,
    role: Role,
    ttl: chrono::Duration,
    replaced: Option<PresentedSession>,
) -> ApiResult<SignedIn> {
    let now = clock::now();
    let secret = session_secret::generate(tenant_id);
    // A session of another tenant is ended in a transaction scoped to that
    // tenant; one of this tenant, in the login's own transaction.
    if let Some(old) = replaced.as_ref().filter(|old| old.tenant_id != tenant_id) {
        let txn = store::tenant_scope::begin(db, old.tenant_id).await?;
        end_presented(&txn, old, now).await?;
        txn.commit().await?;
    }
    let txn = store::tenant_scope::begin(db, tenant_id).await?;
    if let Some(old) = replaced.as_ref().filter(|old| old.tenant_id == tenant_id) {
        end_presented(&txn, old, now).await?;
    }
    store::user_sessions::delete_stale(&txn, tenant_id, now).await?;
    let session = store::user_sessions::insert(
        &txn,
        tenant_id,
        NewSession {
            secret_hash: &secret.secret_hash,
            subject: &actor.id,
            name: actor.name.as_deref(),
            email: actor.email.as_deref(),
            role,
            expires_at: now + ttl,
        },
        now,
    )
    .await?;
    let sequence = record(
        &txn,
        tenant_id,
        actor,
        UserEvent {
            action: "user.login",
            outcome: Outcome::Success,
            session_id: Some(session.id),
            payload: json!({ "method": "browser", "role": role.as_db(), "sessionExpiresAt": session.expires_at }),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    live.published(tenant_id, sequence).await;
    Ok(SignedIn {
        cookie_value: secret.cookie_value,
        session,
    })
}

/// Ends the presented session, if it is still active.
async fn end_presented(
    txn: &impl ConnectionTrait,
    presented: &PresentedSession,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    if let Some(row) =
        store::user_sessions::find_active(txn, presented.tenant_id, &presented.secret_hash, now)
            .await?
    {
        store::user_sessions::end(txn, row.tenant_id, row.id, now).await?;
    }
    Ok(())
}

/// Records `user.login_failed` for a verified person of `tenant_id` who may
/// not sign in; `reason` is a category such as `missing_role`.
pub(crate) async fn login_failed(
    db: &DatabaseConnection,
    live: &Hub,
    tenant_id: Uuid,
    actor: &AuditActor,
    reason: &str,
) -> ApiResult<()> {
    let now = clock::now();
    let txn = store::tenant_scope::begin(db, tenant_id).await?;
    let sequence = record(
        &txn,
        tenant_id,
        actor,
        UserEvent {
            action: "user.login_failed",
            outcome: Outcome::Failure,
            session_id: None,
            payload: json!({ "method": "browser", "reason": reason }),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    live.published(tenant_id, sequence).await;
    Ok(())
}

/// Ends a session and records `user.logout`; ending an ended session records
/// nothing and returns false.
pub(crate) async fn sign_out(
    db: &DatabaseConnection,
    live: &Hub,
    tenant_id: Uuid,
    session_id: Uuid,
    actor: &AuditActor,
) -> ApiResult<bool> {
    let now = clock::now();
    let txn = store::tenant_scope::begin(db, tenant_id).await?;
    if !store::user_sessions::end(&txn, tenant_id, session_id, now).await? {
        txn.rollback().await?;
        return Ok(false);
    }
    let sequence = record(
        &txn,
        tenant_id,
        actor,
        UserEvent {
            action: "user.logout",
            outcome: Outcome::Success,
            session_id: Some(session_id),
            payload: json!({ "method": "browser" }),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    live.published(tenant_id, sequence).await;
    Ok(true)
}

/// One user-activity event.
struct UserEvent {
    action: &'static str,
    outcome: Outcome,
    /// The session concerned (the event's target), if any.
    session_id: Option<Uuid>,
    payload: Value,
}

/// Appends one user-activity event; returns its sequence, to publish after commit.
async fn record(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    actor: &AuditActor,
    event: UserEvent,
    now: DateTime<Utc>,
) -> ApiResult<i64> {
    let UserEvent {
        action,
        outcome,
        session_id,
        payload,
    } = event;
    let raw = RawEvent {
        action: action.to_owned(),
        actor_type: Some(actor.actor_type),
        actor_id: actor.id.clone(),
        actor_name: actor.name.clone(),
        actor_email: actor.email.clone(),
        target: session_id.map(|id| RawTarget {
            target_type: "session".into(),
            id: Some(id.to_string()),
            name: None,
        }),
        outcome,
        payload: Some(payload),
        occurred_at: Some(now),
        ..RawEvent::default()
    };
    let event = NewEvent::parse(raw, now).map_err(|error| {
        ApiError::Internal(anyhow::anyhow!("user-activity event invalid: {error:?}"))
    })?;
    let stored = store::events::append(txn, tenant_id, vec![event], now).await?;
    Ok(stored.first().map_or(0, |row| row.sequence))
}
