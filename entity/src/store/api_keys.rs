//! API keys: creation (hash only), lookup for authentication, listing, revocation.

use chrono::{DateTime, Duration, Utc};
use entity::api_keys::{self, Column};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::StoreError;
use crate::domain::Role;
use crate::domain::secret::GeneratedKey;

/// `last_used_at` is refreshed at most this often, so authentication does not
/// turn every read into a write.
pub const LAST_USED_RESOLUTION: Duration = Duration::seconds(60);

pub async fn insert(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    name: &str,
    role: Role,
    key: &GeneratedKey,
    now: DateTime<Utc>,
) -> Result<api_keys::Model, StoreError> {
    let row = api_keys::ActiveModel {
        tenant_id: ActiveValue::Set(tenant_id),
        id: ActiveValue::Set(Uuid::now_v7()),
        name: ActiveValue::Set(name.to_owned()),
        role: ActiveValue::Set(role.as_db().to_owned()),
        prefix: ActiveValue::Set(key.prefix.clone()),
        secret_hash: ActiveValue::Set(key.secret_hash.clone()),
        created_at: ActiveValue::Set(now),
        last_used_at: ActiveValue::Set(None),
        revoked_at: ActiveValue::Set(None),
    };
    Ok(row.insert(db).await?)
}

pub async fn find_by_prefix(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    prefix: &str,
) -> Result<Option<api_keys::Model>, StoreError> {
    Ok(api_keys::Entity::find()
        .filter(Column::TenantId.eq(tenant_id))
        .filter(Column::Prefix.eq(prefix))
        .one(db)
        .await?)
}

pub async fn find(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<Option<api_keys::Model>, StoreError> {
    Ok(api_keys::Entity::find_by_id((tenant_id, id))
        .one(db)
        .await?)
}

pub async fn list(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
) -> Result<Vec<api_keys::Model>, StoreError> {
    Ok(api_keys::Entity::find()
        .filter(Column::TenantId.eq(tenant_id))
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}

/// Marks the key revoked (idempotent: a revoked key keeps its first `revoked_at`).
pub async fn revoke(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<api_keys::Model>, StoreError> {
    api_keys::Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::val(now))
        .filter(Column::TenantId.eq(tenant_id))
        .filter(Column::Id.eq(id))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    find(db, tenant_id, id).await
}

/// Records use of the key, unless it was recorded less than
/// [`LAST_USED_RESOLUTION`] ago.
pub async fn touch_last_used(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    api_keys::Entity::update_many()
        .col_expr(Column::LastUsedAt, Expr::val(now))
        .filter(Column::TenantId.eq(tenant_id))
        .filter(Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(Column::LastUsedAt.is_null())
                .add(Column::LastUsedAt.lt(now - LAST_USED_RESOLUTION)),
        )
        .exec(db)
        .await?;
    Ok(())
}
