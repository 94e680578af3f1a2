//! Installation-wide settings kept in `instance_settings`: the cursor-signing
//! key, the viewer-token key ring, the tree-head key ring and the generated
//! key of log streams' secrets.
//!
//! Values are opaque text here. What a key ring holds and how it rotates is the
//! API's business (`auditlog_api`'s `auth::viewer_token`); this module only
//! makes replicas agree: a value is created with insert-if-absent (the first
//! insert wins, everyone reads the winner back) and changed with
//! compare-and-swap (an update that names the value it replaces).

use entity::instance_settings::{self, Column};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::StoreError;

const CURSOR_KEY: &str = "cursor_signing_key";
const VIEWER_TOKEN_KEYS: &str = "viewer_token_keys";
const TREE_HEAD_KEYS: &str = "tree_head_keys";
const STREAM_SECRETS_KEY: &str = "stream_secrets_key";

/// The key that signs pagination cursors: the stored one, or `candidate` stored
/// now if there is none yet. Concurrent first starts of several replicas agree,
/// because only the first insert wins and everyone reads the winner back.
pub async fn cursor_signing_key(
    db: &impl ConnectionTrait,
    candidate: String,
) -> Result<String, StoreError> {
    insert_if_absent(db, CURSOR_KEY, candidate).await
}

/// The viewer-token key ring: the stored one, or `candidate` stored now if there
/// is none yet (agreed on like [`cursor_signing_key`]).
pub async fn viewer_token_keys(
    db: &impl ConnectionTrait,
    candidate: String,
) -> Result<String, StoreError> {
    insert_if_absent(db, VIEWER_TOKEN_KEYS, candidate).await
}

/// The stored viewer-token key ring, if any (a replica re-reading what another
/// one rotated).
pub async fn read_viewer_token_keys(
    db: &impl ConnectionTrait,
) -> Result<Option<String>, StoreError> {
    Ok(read(db, VIEWER_TOKEN_KEYS).await?.map(|row| row.value))
}

/// Replaces the viewer-token key ring with `replacement` if it still is
/// `expected`; false if another replica changed it first (the caller re-reads
/// and decides again), so two rotations never overwrite each other.
pub async fn replace_viewer_token_keys(
    db: &impl ConnectionTrait,
    expected: &str,
    replacement: String,
) -> Result<bool, StoreError> {
    compare_and_swap(db, VIEWER_TOKEN_KEYS, expected, replacement).await
}

/// The tree-head key ring: the stored one, or `candidate` stored now if there
/// is none yet (agreed on like [`cursor_signing_key`]).
pub async fn tree_head_keys(
    db: &impl ConnectionTrait,
    candidate: String,
) -> Result<String, StoreError> {
    insert_if_absent(db, TREE_HEAD_KEYS, candidate).await
}

/// The stored tree-head key ring, if any.
pub async fn read_tree_head_keys(db: &impl ConnectionTrait) -> Result<Option<String>, StoreError> {
    Ok(read(db, TREE_HEAD_KEYS).await?.map(|row| row.value))
}

/// Replaces the tree-head key ring if it still is `expected` (see
/// [`replace_viewer_token_keys`]).
pub async fn replace_tree_head_keys(
    db: &impl ConnectionTrait,
    expected: &str,
    replacement: String,
) -> Result<bool, StoreError> {
    compare_and_swap(db, TREE_HEAD_KEYS, expected, replacement).await
}

/// The generated key that encrypts log streams' destination secrets when
/// the operator configures none: the stored one, or `candidate` stored now
/// (agreed on like [`cursor_signing_key`]).
pub async fn stream_secrets_key(
    db: &impl ConnectionTrait,
    candidate: String,
) -> Result<String, StoreError> {
    insert_if_absent(db, STREAM_SECRETS_KEY, candidate).await
}

async fn compare_and_swap(
    db: &impl ConnectionTrait,
    key: &str,
    expected: &str,
    replacement: String,
) -> Result<bool, StoreError> {
    let result = instance_settings::Entity::update_many()
        .col_expr(Column::Value, Expr::val(replacement))
        .filter(Column::Key.eq(key))
        .filter(Column::Value.eq(expected))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

async fn insert_if_absent(
    db: &impl ConnectionTrait,
    key: &str,
    candidate: String,
) -> Result<String, StoreError> {
    let row = instance_settings::ActiveModel {
        key: ActiveValue::Set(key.to_owned()),
        value: ActiveValue::Set(candidate),
    };
    instance_settings::Entity::insert(row)
        .on_conflict(OnConflict::column(Column::Key).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    let stored = read(db, key)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(key.to_owned()))?;
    Ok(stored.value)
}

async fn read(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<Option<instance_settings::Model>, StoreError> {
    Ok(instance_settings::Entity::find_by_id(key.to_owned())
        .one(db)
        .await?)
}
