//! Reading and writing `audit_tree_heads`, one signed head per tenant and
//! tree size. A head is inserted with insert-if-absent on `(tenant_id,
//! tree_size)`: two signers that race for the same size cannot both publish,
//! and the loser reads the winner's head.

use chrono::{DateTime, Utc};
use entity::audit_tree_heads::{self, Column};
use entity::tenants;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::domain::merkle::{Hash, TreeOrigin};
use crate::store::StoreError;

/// A head to store, signed by the caller.
#[derive(Clone, Debug)]
pub struct NewHead {
    pub tree_size: u64,
    pub tree_origin: TreeOrigin,
    pub root_hash: Hash,
    pub signed_at: DateTime<Utc>,
    pub key_id: String,
    pub signature: Vec<u8>,
}

/// A stored head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredHead {
    pub tree_size: u64,
    pub tree_origin: TreeOrigin,
    pub root_hash: Hash,
    pub signed_at: DateTime<Utc>,
    pub key_id: String,
    pub signature: Vec<u8>,
}

/// Stores `head` unless the tenant already has one of its size; the head
/// stored for that size either way.
pub async fn insert(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    head: NewHead,
) -> Result<StoredHead, StoreError> {
    let tree_size = to_i64(head.tree_size)?;
    let row = audit_tree_heads::ActiveModel {
        tenant_id: ActiveValue::Set(tenant_id),
        tree_size: ActiveValue::Set(tree_size),
        tree_origin: ActiveValue::Set(to_i64(head.tree_origin.0)?),
        root_hash: ActiveValue::Set(head.root_hash.to_vec()),
        signed_at: ActiveValue::Set(head.signed_at),
        key_id: ActiveValue::Set(head.key_id),
        signature: ActiveValue::Set(head.signature),
    };
    audit_tree_heads::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([Column::TenantId, Column::TreeSize])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    at_size(txn, tenant_id, head.tree_size)
        .await?
        .ok_or_else(|| StoreError::Invalid(format!("no head of size {tree_size} after insert")))
}

/// The newest head (the largest tree), if any.
pub async fn latest(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
) -> Result<Option<StoredHead>, StoreError> {
    let row = audit_tree_heads::Entity::find()
        .filter(Column::TenantId.eq(tenant_id))
        .order_by_desc(Column::TreeSize)
        .one(db)
        .await?;
    row.map(StoredHead::try_from).transpose()
}

/// The head of exactly `tree_size`, if one was signed.
pub async fn at_size(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    tree_size: u64,
) -> Result<Option<StoredHead>, StoreError> {
    let row = audit_tree_heads::Entity::find()
        .filter(Column::TenantId.eq(tenant_id))
        .filter(Column::TreeSize.eq(to_i64(tree_size)?))
        .one(db)
        .await?;
    row.map(StoredHead::try_from).transpose()
}

/// Up to `limit` heads, newest first, of trees smaller than `before` (all
/// when `None`): a keyset page.
pub async fn page(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    before: Option<u64>,
    limit: u64,
) -> Result<Vec<StoredHead>, StoreError> {
    let mut query = audit_tree_heads::Entity::find().filter(Column::TenantId.eq(tenant_id));
    if let Some(before) = before {
        query = query.filter(Column::TreeSize.lt(to_i64(before)?));
    }
    let rows = query
        .order_by_desc(Column::TreeSize)
        .limit(limit)
        .all(db)
        .await?;
    rows.into_iter().map(StoredHead::try_from).collect()
}

/// A tenant's tree now: its origin and its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeExtent {
    pub origin: TreeOrigin,
    /// One leaf per sequence after the origin, up to the event counter.
    pub size: u64,
}

/// The tenant's tree now, from its counter row (one query).
pub async fn extent(db: &impl ConnectionTrait, tenant_id: Uuid) -> Result<TreeExtent, StoreError> {
    let row: Option<(i64, i64)> = tenants::Entity::find_by_id(tenant_id)
        .select_only()
        .columns([tenants::Column::EventCounter, tenants::Column::TreeOrigin])
        .into_tuple()
        .one(db)
        .await?;
    let (counter, origin) =
        row.ok_or_else(|| sea_orm::DbErr::RecordNotFound(format!("tenant {tenant_id}")))?;
    extent_of(counter, origin)
}

/// The extent of a tree from a counter row's `event_counter` and
/// `tree_origin` (which the counter never falls below).
fn extent_of(counter: i64, origin: i64) -> Result<TreeExtent, StoreError> {
    match (u64::try_from(counter), u64::try_from(origin)) {
        (Ok(counter), Ok(origin)) if origin <= counter => Ok(TreeExtent {
            origin: TreeOrigin(origin),
            size: counter - origin,
        }),
        _ => Err(StoreError::Invalid(format!(
            "event counter {counter} and tree origin {origin}"
        ))),
    }
}

/// The tenant's tree size: its event counter minus its origin.
pub async fn tree_size(db: &impl ConnectionTrait, tenant_id: Uuid) -> Result<u64, StoreError> {
    Ok(extent(db, tenant_id).await?.size)
}

impl TryFrom<audit_tree_heads::Model> for StoredHead {
    type Error = StoreError;

    fn try_from(row: audit_tree_heads::Model) -> Result<Self, StoreError> {
        let corrupt =
            |what: &str| StoreError::Invalid(format!("a stored tree head has an invalid {what}"));
        Ok(Self {
            tree_size: u64::try_from(row.tree_size).map_err(|_| corrupt("size"))?,
            tree_origin: TreeOrigin(u64::try_from(row.tree_origin).map_err(|_| corrupt("origin"))?),
            root_hash: row.root_hash.try_into().map_err(|_| corrupt("root hash"))?,
            signed_at: row.signed_at,
            key_id: row.key_id,
            signature: row.signature,
        })
    }
}

fn to_i64(size: u64) -> Result<i64, StoreError> {
    i64::try_from(size).map_err(|_| StoreError::Invalid(format!("tree size {size}")))
}
