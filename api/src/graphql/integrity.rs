//! The tamper-evidence API of issue 19: signed tree heads, inclusion and
//! consistency proofs of the caller's tenant (ADMIN and AUDITOR, so viewer
//! tokens too: a proof holds hashes and sizes only, and an event's proof is
//! reached through an event the caller may read). Hashes are lower-case hex,
//! signatures base64url without padding; `docs/verifying.md` says what is
//! hashed and signed.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{ComplexObject, Context, Object, Result, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::context::ContextExt;
use super::query::READERS;
use super::scalars::Timestamp;
use super::types::AuditEvent;
use crate::error::ApiError;
use crate::service::integrity;
use crate::store::tree::{InclusionProof as StoredProof, StoredHead};

/// `auditLogTreeHeads`' connection; its cursor is a head's tree size.
pub(super) type SignedTreeHeadConnection = Connection<String, SignedTreeHead>;

/// Heads per page by default, and at most.
const DEFAULT_HEADS: usize = 20;
const MAX_HEADS: usize = 100;

/// A signed statement of the tenant's Merkle tree (RFC 9162 §2.1) at one size:
/// the signature covers the JCS bytes of `{rootHash, tenantId, timestamp,
/// treeSize}`, and `treeOrigin` too when it is not 0 (see docs/verifying.md).
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct SignedTreeHead {
    /// Leaves in the tree: the events with sequence `treeOrigin + 1` to
    /// `treeOrigin + treeSize`.
    tree_size: i64,
    /// The last sequence that predates the tenant's tree: 0, unless the
    /// tenant had events before an upgrade brought the tree. Events with
    /// sequence ≤ `treeOrigin` are not covered by any head or proof.
    tree_origin: i64,
    /// The tree's root, 64 lower-case hex digits.
    root_hash: String,
    /// When it was signed (signed as RFC 3339 UTC with six fractional digits).
    timestamp: Timestamp,
    /// The signing key's RFC 7638 thumbprint, a `kid` of
    /// `/.well-known/auditlog-keys.json`.
    key_id: String,
    /// The Ed25519 signature, base64url without padding.
    signature: String,
}

impl From<StoredHead> for SignedTreeHead {
    fn from(head: StoredHead) -> Self {
        Self {
            tree_size: size(head.tree_size),
            tree_origin: size(head.tree_origin.0),
            root_hash: hex::encode(head.root_hash),
            timestamp: Timestamp(head.signed_at),
            key_id: head.key_id,
            signature: URL_SAFE_NO_PAD.encode(&head.signature),
        }
    }
}

/// An event's audit path (RFC 9162 §2.1.3): with `leafHash` it recomputes the
/// root of the tree of `treeSize`.
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct InclusionProof {
    /// The event's sequence minus one minus the head's `treeOrigin`.
    leaf_index: i64,
    /// The size of the tree the path leads to the root of.
    tree_size: i64,
    /// `SHA-256(0x00 ‖ leaf)`, hex.
    leaf_hash: String,
    /// Sibling hashes, hex, from the leaf up.
    audit_path: Vec<String>,
}

impl From<StoredProof> for InclusionProof {
    fn from(proof: StoredProof) -> Self {
        Self {
            leaf_index: size(proof.leaf_index),
            tree_size: size(proof.tree_size),
            leaf_hash: hex::encode(proof.leaf_hash),
            audit_path: proof.audit_path.iter().map(hex::encode).collect(),
        }
    }
}

/// RFC 9162 §2.1.4: the tree of `fromSize` is a prefix of the tree of `toSize`.
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct ConsistencyProof {
    /// The older, smaller tree's size.
    from_size: i64,
    /// The newer tree's size.
    to_size: i64,
    /// Subtree hashes, hex, in the RFC's order.
    path: Vec<String>,
}

/// Sizes, origins and indices come from `BIGINT` columns, so they fit.
fn size(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[derive(Default)]
pub(super) struct IntegrityQuery;

#[Object]
impl IntegrityQuery {
    /// The latest signed tree head of the caller's tenant; null until the
    /// first head is signed (ADMIN, AUDITOR).
    async fn audit_log_tree_head(&self, ctx: &Context<'_>) -> Result<Option<SignedTreeHead>> {
        let caller = ctx.principal().tenant(READERS)?;
        let head = integrity::latest_head(&ctx.services().db, caller.tenant_id).await?;
        Ok(head.map(SignedTreeHead::from))
    }

    /// Every signed tree head, newest (largest) first (ADMIN, AUDITOR).
    async fn audit_log_tree_heads(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size: 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<SignedTreeHeadConnection> {
        let caller = ctx.principal().tenant(READERS)?;
        let first = match first {
            None => DEFAULT_HEADS,
            Some(n) => usize::try_from(n)
                .ok()
                .filter(|n| *n <= MAX_HEADS)
                .ok_or_else(|| ApiError::bad_input(format!("first must be 0 to {MAX_HEADS}")))?,
        };
        let before = after
            .map(|cursor| {
                cursor
                    .parse::<u64>()
                    .map_err(|_| ApiError::bad_input("after is not a cursor of this connection"))
            })
            .transpose()?;
        let mut heads = integrity::heads_page(
            &ctx.services().db,
            caller.tenant_id,
            before,
            first as u64 + 1,
        )
        .await?;
        let has_next = heads.len() > first;
        heads.truncate(first);
        let mut connection = Connection::new(before.is_some(), has_next);
        for head in heads {
            connection
                .edges
                .push(Edge::new(head.tree_size.to_string(), head.into()));
        }
        Ok(connection)
    }

    /// The consistency proof between two tree sizes (0 < fromSize ≤ toSize ≤
    /// the tree's size; ADMIN, AUDITOR).
    async fn audit_log_consistency_proof(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The older tree's size (at least 1).")] from_size: i64,
        #[graphql(desc = "The newer tree's size (at most the tree's size).")] to_size: i64,
    ) -> Result<ConsistencyProof> {
        let caller = ctx.principal().tenant(READERS)?;
        let path =
            integrity::consistency_proof(&ctx.services().db, caller.tenant_id, from_size, to_size)
                .await?;
        Ok(ConsistencyProof {
            from_size,
            to_size,
            path: path.iter().map(hex::encode).collect(),
        })
    }
}

#[ComplexObject]
impl AuditEvent {
    /// The event's inclusion proof against the tree of `treeSize` (default:
    /// the latest signed head's); null if that tree predates the event, or
    /// the event predates the tree (its sequence is at most `treeOrigin`).
    async fn inclusion_proof(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A tree size from 1 to the tree's size.")] tree_size: Option<i64>,
    ) -> Result<Option<InclusionProof>> {
        let caller = ctx.principal().tenant(READERS)?;
        let proof = integrity::inclusion_proof(
            &ctx.services().db,
            caller.tenant_id,
            self.sequence.0,
            tree_size,
        )
        .await?;
        Ok(proof.map(InclusionProof::from))
    }
}
