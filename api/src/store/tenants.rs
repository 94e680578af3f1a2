//! Tenants: creation and lookup.

use chrono::{DateTime, Utc};
use entity::tenants;
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use super::StoreError;
use crate::domain::{Plan, TenantSlug};

pub async fn create(
    db: &impl ConnectionTrait,
    slug: &TenantSlug,
    name: &str,
    plan: Plan,
    now: DateTime<Utc>,
) -> Result<tenants::Model, StoreError> {
    if find_by_slug(db, slug.as_str()).await?.is_some() {
        return Err(StoreError::SlugTaken(slug.to_string()));
    }
    let row = tenants::ActiveModel {
        id: ActiveValue::Set(Uuid::now_v7()),
        slug: ActiveValue::Set(slug.to_string()),
        name: ActiveValue::Set(name.to_owned()),
        plan: ActiveValue::Set(plan.as_db().to_owned()),
        retention_days: ActiveValue::Set(plan.default_retention_days()),
        created_at: ActiveValue::Set(now),
        event_counter: ActiveValue::Set(0),
    };
    // A concurrent create of the same slug loses on the unique index; report it
    // the same way as the check above.
    row.insert(db).await.map_err(|error| match error.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            StoreError::SlugTaken(slug.to_string())
        }
        _ => StoreError::Database(error),
    })
}

pub async fn find_by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<tenants::Model>, StoreError> {
    Ok(tenants::Entity::find_by_id(id).one(db).await?)
}

pub async fn find_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> Result<Option<tenants::Model>, StoreError> {
    Ok(tenants::Entity::find()
        .filter(tenants::Column::Slug.eq(slug))
        .one(db)
        .await?)
}
