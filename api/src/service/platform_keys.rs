//! Creating and revoking platform keys (the operator), each recorded in the
//! platform log (`store::platform_log`).

use entity::platform_keys;
use sea_orm::DatabaseConnection;
use serde_json::json;
use uuid::Uuid;

use crate::auth::{ApiKeyCache, AuditActor};
use crate::domain::clock;
use crate::domain::secret::generate_platform_key;
use crate::domain::{Plan, PlatformRole, RetentionRules};
use crate::error::{ApiError, ApiResult};
use crate::live::Hub;
use crate::service::api_keys::valid_key_name;
use crate::store;
use crate::store::admin_audit::AdminAction;
use crate::store::platform_log::PLATFORM_LOG_TENANT;

/// Creates a platform key; returns the row and the whole secret (shown once).
pub(crate) async fn create(
    db: &DatabaseConnection,
    live: &Hub,
    actor: &AuditActor,
    name: &str,
    role: PlatformRole,
    retention: &RetentionRules,
) -> ApiResult<(platform_keys::Model, String)> {
    let name = valid_key_name(name)?;
    let now = clock::now();
    ensure_platform_log(db, retention, now).await?;
    let key = generate_platform_key();
    let txn = store::tenant_scope::begin(db, PLATFORM_LOG_TENANT).await?;
    let row = store::platform_keys::insert(&txn, name, role, &key, now).await?;
    let action = AdminAction {
        action: "platform_key.create",
        target_type: "platform_key",
        target_id: row.id.to_string(),
        target_name: Some(row.name.clone()),
        payload: json!({ "role": role.as_db(), "prefix": row.prefix }),
    };
    let sequence = store::platform_log::record(&txn, actor, action, now).await?;
    txn.commit().await?;
    live.published(PLATFORM_LOG_TENANT, sequence).await;
    Ok((row, key.full))
}

/// Revokes a platform key: it stops working at once in this process (the key
/// cache is emptied) and within `AUDITLOG_AUTH_CACHE_MS` in others. Revoking
/// twice is harmless and recorded once.
pub(crate) async fn revoke(
    db: &DatabaseConnection,
    live: &Hub,
    key_cache: &ApiKeyCache,
    actor: &AuditActor,
    id: Uuid,
    retention: &RetentionRules,
) -> ApiResult<platform_keys::Model> {
    let not_found = || ApiError::NotFound(format!("no platform key {id}"));
    let now = clock::now();
    ensure_platform_log(db, retention, now).await?;
    let txn = store::tenant_scope::begin(db, PLATFORM_LOG_TENANT).await?;
    let before = store::platform_keys::find(&txn, id)
        .await?
        .ok_or_else(not_found)?;
    if before.revoked_at.is_some() {
        txn.rollback().await?;
        return Ok(before);
    }
    let revoked = store::platform_keys::revoke(&txn, id, now)
        .await?
        .ok_or_else(not_found)?;
    let action = AdminAction {
        action: "platform_key.revoke",
        target_type: "platform_key",
        target_id: revoked.id.to_string(),
        target_name: Some(revoked.name.clone()),
        payload: json!({ "prefix": revoked.prefix }),
    };
    let sequence = store::platform_log::record(&txn, actor, action, now).await?;
    txn.commit().await?;
    key_cache.invalidate_all();
    live.published(PLATFORM_LOG_TENANT, sequence).await;
    Ok(revoked)
}

/// The platform log's tenant row, created on the first platform action (not
/// at start: a service may start before its schema is migrated). It keeps
/// events for the longest retention the operator allows.
async fn ensure_platform_log(
    db: &DatabaseConnection,
    retention: &RetentionRules,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<()> {
    let (_, longest) = retention.bounds(Plan::Enterprise);
    Ok(store::platform_log::ensure(db, longest.as_i32(), now).await?)
}

/// Every platform key, oldest first (revoked ones included).
pub(crate) async fn list(db: &DatabaseConnection) -> ApiResult<Vec<platform_keys::Model>> {
    Ok(store::platform_keys::list(db).await?)
}

/// Records `action` by `actor` in the platform log, in its own transaction
/// (for platform actions that change no table, such as a key rotation).
pub(crate) async fn record_platform_action(
    db: &DatabaseConnection,
    live: &Hub,
    actor: &AuditActor,
    action: AdminAction<'_>,
    retention: &RetentionRules,
) -> ApiResult<()> {
    let now = clock::now();
    ensure_platform_log(db, retention, now).await?;
    let txn = store::tenant_scope::begin(db, PLATFORM_LOG_TENANT).await?;
    let sequence = store::platform_log::record(&txn, actor, action, now).await?;
    txn.commit().await?;
    live.published(PLATFORM_LOG_TENANT, sequence).await;
    Ok(())
}
