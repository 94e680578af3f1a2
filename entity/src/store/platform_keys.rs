//! Platform keys: creation (hash only), lookup by prefix for authentication,
//! listing, revocation. Installation-wide rows: no tenant scope applies.

use chrono::{DateTime, Utc};
use entity::platform_keys::{self, Column};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::StoreError;
use super::api_keys::LAST_USED_RESOLUTION;
use crate::domain::PlatformRole;
use crate::domain::secret::GeneratedKey;

pub async fn insert(
    db: &impl ConnectionTrait,
    name: &str,
    role: PlatformRole,
    key: &GeneratedKey,
    now: DateTime<Utc>,
) -> Result<platform_keys::Model, StoreError> {
    let row = platform_keys::ActiveModel {
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
    prefix: &str,
) -> Result<Option<platform_keys::Model>, StoreError> {
    Ok(platform_keys::Entity::find()
        .filter(Column::Prefix.eq(prefix))
        .one(db)
        .await?)
}

pub async fn find(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<platform_keys::Model>, StoreError> {
    Ok(platform_keys::Entity::find_by_id(id).one(db).await?)
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<platform_keys::Model>, StoreError> {
    Ok(platform_keys::Entity::find()
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}

/// Marks the key revoked (idempotent: a revoked key keeps its first `revoked_at`).
pub async fn revoke(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<platform_keys::Model>, StoreError> {
    platform_keys::Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::val(now))
        .filter(Column::Id.eq(id))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    find(db, id).await
}

/// Records use of the key, unless it was recorded less than
/// [`LAST_USED_RESOLUTION`] ago.
pub async fn touch_last_used(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    platform_keys::Entity::update_many()
        .col_expr(Column::LastUsedAt, Expr::val(now))
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
