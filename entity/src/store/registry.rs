//! The tenant registry before a tenant is known: slug → id, and all ids in order.
//!
//! These are the only reads that are not scoped to one tenant (see
//! [`super::tenant_scope`]). They return tenant ids and nothing else; the tenant's
//! row is then read in a transaction scoped to that id. On PostgreSQL they call
//! the `SECURITY DEFINER` functions of the row-level-security migration (the
//! service's role cannot read `tenants` unscoped); on SQLite they are plain queries.

use entity::tenants::{self, Column};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};
use uuid::Uuid;

use super::StoreError;

/// The id of the tenant with `slug`, if there is one.
pub async fn tenant_id_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> Result<Option<Uuid>, StoreError> {
    if db.get_database_backend() == DbBackend::Postgres {
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT auditlog_tenant_id_by_slug($1)",
                [slug.into()],
            ))
            .await?;
        return Ok(match row {
            Some(row) => row.try_get_by_index::<Option<Uuid>>(0)?,
            None => None,
        });
    }
    Ok(tenants::Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::Slug.eq(slug))
        .into_tuple()
        .one(db)
        .await?)
}

/// Up to `limit` tenant ids above `after`, in id order.
pub async fn tenant_ids_after(
    db: &impl ConnectionTrait,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Uuid>, StoreError> {
    if db.get_database_backend() == DbBackend::Postgres {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT id FROM auditlog_tenant_ids_after($1, $2) AS id",
                [after.into(), limit.into()],
            ))
            .await?;
        return rows
            .iter()
            .map(|row| Ok(row.try_get_by_index::<Uuid>(0)?))
            .collect();
    }
    let mut query = tenants::Entity::find().select_only().column(Column::Id);
    if let Some(after) = after {
        query = query.filter(Column::Id.gt(after));
    }
    Ok(query
        .order_by_asc(Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?)
}
