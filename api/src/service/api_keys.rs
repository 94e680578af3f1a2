//! Creating and revoking a tenant's API keys.

use entity::api_keys;
use sea_orm::DatabaseConnection;
use serde_json::json;
use uuid::Uuid;

use crate::auth::{ActorOfCaller, ApiKeyCache, AuditActor, TenantCaller};
use crate::domain::Role;
use crate::domain::clock;
use crate::domain::secret::generate_key;
use crate::error::{ApiError, ApiResult};
use crate::live::{Change, Hub};
use crate::store;
use crate::store::admin_audit::{self, AdminAction};

pub(crate) const MAX_KEY_NAME: usize = 200;

/// A key's name, trimmed: 1 to [`MAX_KEY_NAME`] characters. Control
/// characters (NUL above all, which PostgreSQL cannot store) have no place
/// in a one-line label.
pub(crate) fn valid_key_name(name: &str) -> ApiResult<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_KEY_NAME || name.chars().any(char::is_control)
    {
        return Err(ApiError::bad_input(format!(
            "name must be 1 to {MAX_KEY_NAME} characters, without control characters"
        )));
    }
    Ok(name)
}

/// Creates a key in the caller's tenant; returns the row and the whole secret.
pub(crate) async fn create(
    db: &DatabaseConnection,
    live: &Hub,
    caller: &TenantCaller,
    name: &str,
    role: Role,
) -> ApiResult<(api_keys::Model, String)> {
    let name = valid_key_name(name)?;
    let now = clock::now();
    let key = generate_key(&caller.tenant_slug);
    let txn = store::tenant_scope::begin(db, caller.tenant_id).await?;
    let row = store::api_keys::insert(&txn, caller.tenant_id, name, role, &key, now).await?;
    let action = AdminAction {
        action: "api_key.create",
        target_type: "api_key",
        target_id: row.id.to_string(),
        target_name: Some(row.name.clone()),
        payload: json!({ "role": role.as_db(), "prefix": row.prefix }),
    };
    let sequence = admin_audit::record(
        &txn,
        caller.tenant_id,
        &AuditActor::of_caller(caller),
        action,
        now,
    )
    .await?;
    txn.commit().await?;
    live.published(caller.tenant_id, sequence).await;
    Ok((row, key.full))
}

/// Revokes a key of the caller's tenant. Revoking twice is harmless and audited once.
pub(crate) async fn revoke(
    db: &DatabaseConnection,
    live: &Hub,
    key_cache: &ApiKeyCache,
    caller: &TenantCaller,
    id: Uuid,
) -> ApiResult<api_keys::Model> {
    let now = clock::now();
    let txn = store::tenant_scope::begin(db, caller.tenant_id).await?;
    let before = store::api_keys::find(&txn, caller.tenant_id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no API key {id} in this tenant")))?;
    if before.revoked_at.is_some() {
        txn.rollback().await?;
        return Ok(before);
    }
    let revoked = store::api_keys::revoke(&txn, caller.tenant_id, id, now)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no API key {id} in this tenant")))?;
    let action = AdminAction {
        action: "api_key.revoke",
        target_type: "api_key",
        target_id: revoked.id.to_string(),
        target_name: Some(revoked.name.clone()),
        payload: json!({ "role": revoked.role, "prefix": revoked.prefix }),
    };
    let sequence = admin_audit::record(
        &txn,
        caller.tenant_id,
        &AuditActor::of_caller(caller),
        action,
        now,
    )
    .await?;
    txn.commit().await?;
    // The key stops working at once in this process (other replicas within
    // `AUDITLOG_AUTH_CACHE_MS`); its sockets close now (other processes: at
    // their next re-check).
    key_cache.invalidate_all();
    live.changes().announce(Change::KeyRevoked {
        tenant_id: caller.tenant_id,
        key_id: revoked.id,
    });
    live.published(caller.tenant_id, sequence).await;
    Ok(revoked)
}
