//! Browser sessions of people: open, find while active, end, forget old ones.
//!
//! Sessions are found by `(tenant_id, secret_hash)`: the tenant id travels in
//! the cookie beside the secret, so the lookup index leads with `tenant_id`.
//! The hash is of a 256-bit random secret, so comparing it in SQL reveals
//! nothing useful through timing.

use chrono::{DateTime, Duration, Utc};
use entity::user_sessions::{self, Column};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use super::StoreError;
use crate::domain::Role;

/// Ended or expired sessions are deleted once they are this old.
pub const KEEP_ENDED_FOR: Duration = Duration::days(1);

/// What a new session row holds (the secret itself is never stored).
pub struct NewSession<'a> {
    pub secret_hash: &'a str,
    pub subject: &'a str,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    session: NewSession<'_>,
    now: DateTime<Utc>,
) -> Result<user_sessions::Model, StoreError> {
    let row = user_sessions::ActiveModel {
        tenant_id: ActiveValue::Set(tenant_id),
        id: ActiveValue::Set(Uuid::now_v7()),
        secret_hash: ActiveValue::Set(session.secret_hash.to_owned()),
        subject: ActiveValue::Set(session.subject.to_owned()),
        name: ActiveValue::Set(session.name.map(str::to_owned)),
        email: ActiveValue::Set(session.email.map(str::to_owned)),
        role: ActiveValue::Set(session.role.as_db().to_owned()),
        created_at: ActiveValue::Set(now),
        expires_at: ActiveValue::Set(session.expires_at),
        ended_at: ActiveValue::Set(None),
    };
    Ok(row.insert(db).await?)
}

/// The session with this secret hash, if it has neither ended nor expired.
pub async fn find_active(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    secret_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<user_sessions::Model>, StoreError> {
    Ok(user_sessions::Entity::find()
        .filter(Column::TenantId.eq(tenant_id))
        .filter(Column::SecretHash.eq(secret_hash))
        .filter(Column::EndedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .one(db)
        .await?)
}

/// Ends a session; false if it had already ended (or does not exist).
pub async fn end(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let result = user_sessions::Entity::update_many()
        .col_expr(Column::EndedAt, Expr::val(now))
        .filter(Column::TenantId.eq(tenant_id))
        .filter(Column::Id.eq(id))
        .filter(Column::EndedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Deletes the tenant's sessions that expired or ended more than
/// [`KEEP_ENDED_FOR`] ago (housekeeping at each login; the
/// `(tenant_id, expires_at)` index serves it).
pub async fn delete_stale(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let before = now - KEEP_ENDED_FOR;
    let result = user_sessions::Entity::delete_many()
        .filter(Column::TenantId.eq(tenant_id))
        .filter(Column::ExpiresAt.lt(before))
        .exec(db)
        .await?;
    let ended = user_sessions::Entity::delete_many()
        .filter(Column::TenantId.eq(tenant_id))
        .filter(Column::EndedAt.lt(before))
        .exec(db)
        .await?;
    Ok(result.rows_affected + ended.rows_affected)
}
