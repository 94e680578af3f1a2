//! `audit_tree_heads`: the signed tree heads of a tenant's Merkle tree, one
//! per tree size; what was signed is documented in `docs/verifying.md`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_tree_heads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub tree_size: i64,
    /// The tenant's `tree_origin` when it was signed (signed with it when not 0).
    pub tree_origin: i64,
    /// 32 bytes of SHA-256.
    pub root_hash: Vec<u8>,
    pub signed_at: DateTimeUtc,
    /// The RFC 7638 thumbprint of the signing key.
    pub key_id: String,
    /// 64 bytes of Ed25519.
    pub signature: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
