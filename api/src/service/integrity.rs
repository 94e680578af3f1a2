//! Reads of a tenant's Merkle tree (issue 19): signed heads, inclusion and
//! consistency proofs, each in one read-only tenant-scoped transaction on the
//! primary (heads are written there by the signer; a standby may lag).
//!
//! Sizes are checked here, so a bad one is `BAD_USER_INPUT` and never reaches
//! the tree math: a consistency proof needs `0 < fromSize ≤ toSize ≤` the
//! tree's size; an inclusion proof is against a size from 1 to the tree's
//! (default: the latest signed head), and `null` if that tree predates the
//! event, so one `treeSize` can be asked of a whole page. An event that
//! predates the tree itself (sequence ≤ the tenant's tree origin, recorded
//! before an upgrade brought the tree) has no proof in any tree: `null`
//! too. The proofs are tree data, not event data: they reveal hashes and
//! sizes only, so they need no retention cut-off of their own; the event
//! they are for was read through `TenantReads` first.

use sea_orm::DatabaseConnection;
use uuid::Uuid;

use auditlog_worker::tree_heads::{TreeHeadError, TreeHeadSigner};

use crate::domain::merkle::TreeOrigin;
use crate::error::{ApiError, ApiResult};
use crate::store::read_scope;
use crate::store::tree::{self, InclusionProof, StoredHead};

/// The newest signed head of the tenant, if any was signed yet.
pub(crate) async fn latest_head(
    db: &DatabaseConnection,
    tenant_id: Uuid,
) -> ApiResult<Option<StoredHead>> {
    let txn = read_scope::begin_read(db, tenant_id).await?;
    let head = tree::heads::latest(&txn, tenant_id).await?;
    txn.commit().await?;
    Ok(head)
}

/// Up to `limit` signed heads, newest first, of trees smaller than `before`.
pub(crate) async fn heads_page(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    before: Option<u64>,
    limit: u64,
) -> ApiResult<Vec<StoredHead>> {
    let txn = read_scope::begin_read(db, tenant_id).await?;
    let heads = tree::heads::page(&txn, tenant_id, before, limit).await?;
    txn.commit().await?;
    Ok(heads)
}

/// The consistency proof from `from_size` to `to_size`.
pub(crate) async fn consistency_proof(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    from_size: i64,
    to_size: i64,
) -> ApiResult<Vec<[u8; 32]>> {
    let txn = read_scope::begin_read(db, tenant_id).await?;
    let size = tree::heads::tree_size(&txn, tenant_id).await?;
    let (from, to) = match (u64::try_from(from_size), u64::try_from(to_size)) {
        (Ok(from), Ok(to)) if 0 < from && from <= to && to <= size => (from, to),
        _ => {
            return Err(ApiError::bad_input(format!(
                "fromSize and toSize must satisfy 0 < fromSize ≤ toSize ≤ {size} (the tree's size)"
            )));
        }
    };
    let proof = tree::consistency_proof(&txn, tenant_id, from, to).await?;
    txn.commit().await?;
    Ok(proof)
}

/// The inclusion proof of the event at `sequence` against the tree of
/// `tree_size` (default: the latest signed head's size). `None` when that
/// tree predates the event (or no head is signed yet), or the event
/// predates the tree (sequence ≤ its origin).
pub(crate) async fn inclusion_proof(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    sequence: i64,
    tree_size: Option<i64>,
) -> ApiResult<Option<InclusionProof>> {
    let txn = read_scope::begin_read(db, tenant_id).await?;
    let extent = tree::heads::extent(&txn, tenant_id).await?;
    let size = match tree_size {
        Some(requested) => {
            let current = extent.size;
            match u64::try_from(requested) {
                Ok(size) if 0 < size && size <= current => size,
                _ => {
                    return Err(ApiError::bad_input(format!(
                        "treeSize must be from 1 to the tree's size ({current})"
                    )));
                }
            }
        }
        None => match tree::heads::latest(&txn, tenant_id).await? {
            Some(head) => head.tree_size,
            None => return Ok(None),
        },
    };
    let Some(leaf_index) = leaf_index(extent.origin, sequence)?.filter(|leaf| *leaf < size) else {
        // The event predates the tree, or is newer than that tree.
        return Ok(None);
    };
    let proof = tree::inclusion_proof(&txn, tenant_id, leaf_index, size).await?;
    txn.commit().await?;
    Ok(Some(proof))
}

/// The leaf of the event at `sequence`; `None` if it predates the tree.
fn leaf_index(origin: TreeOrigin, sequence: i64) -> ApiResult<Option<u64>> {
    let sequence = u64::try_from(sequence)
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("sequence {sequence}")))?;
    Ok(origin.leaf_index(sequence))
}

/// The signed head of the tree whose last leaf is the event at `until`,
/// signed now if there is none (an export's manifest names it); `None` for
/// an empty log, or when every event up to `until` predates the tree.
pub(crate) async fn head_through(
    signer: &TreeHeadSigner,
    tenant_id: Uuid,
    until: i64,
) -> ApiResult<Option<StoredHead>> {
    let until = u64::try_from(until)
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("export bound {until}")))?;
    signer
        .head_through(tenant_id, until)
        .await
        .map_err(|error| match error {
            TreeHeadError::Store(error) => error.into(),
            TreeHeadError::Keys(message) => ApiError::Internal(anyhow::anyhow!(message)),
        })
}

/// The inclusion proofs of the events at `sequences` (none past the tree
/// of `tree_size`) in that tree, in one read-only transaction: an export's
/// `proofs=true` batch. `None` for an event that predates the tree.
pub(crate) async fn inclusion_proofs(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    sequences: &[i64],
    tree_size: u64,
) -> ApiResult<Vec<Option<InclusionProof>>> {
    let txn = read_scope::begin_read(db, tenant_id).await?;
    let origin = tree::heads::extent(&txn, tenant_id).await?.origin;
    let mut proofs = Vec::with_capacity(sequences.len());
    for &sequence in sequences {
        let proof = match leaf_index(origin, sequence)? {
            Some(leaf) => Some(tree::inclusion_proof(&txn, tenant_id, leaf, tree_size).await?),
            None => None,
        };
        proofs.push(proof);
    }
    txn.commit().await?;
    Ok(proofs)
}
