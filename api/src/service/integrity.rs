//! Reads of a tenant's Merkle tree (issue 19): signed heads, inclusion and
//! consistency proofs, each in one read-only tenant-scoped transaction on the
//! primary (heads are written there by the signer; a standby may lag).
//!
//! Sizes are checked here, so a bad one is `BAD_USER_INPUT` and never reaches
//! the tree math: a consistency proof needs `0 < fromSize ≤ toSize ≤` the
//! tree's size; an inclusion proof is against a size from 1 to the tree's
//! (default: the latest signed head), and `null` if that tree predates the
//! event, so one `treeSize` can be asked of a whole page. The proofs are tree data, not
//! event data: they reveal hashes and sizes only, so they need no retention
//! cut-off of their own; the event they are for was read through
//! `TenantReads` first.

use sea_orm::DatabaseConnection;
use uuid::Uuid;

use auditlog_worker::tree_heads::{TreeHeadError, TreeHeadSigner};

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
/// tree predates the event (or no head is signed yet).
pub(crate) async fn inclusion_proof(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    sequence: i64,
    tree_size: Option<i64>,
) -> ApiResult<Option<InclusionProof>> {
    let txn = read_scope::begin_read(db, tenant_id).await?;
    let leaf_index = u64::try_from(sequence - 1)
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("sequence {sequence}")))?;
    let size = match tree_size {
        Some(requested) => {
            let current = tree::heads::tree_size(&txn, tenant_id).await?;
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
    if leaf_index >= size {
        // The event is newer than that tree: it has no proof there.
        return Ok(None);
    }
    let proof = tree::inclusion_proof(&txn, tenant_id, leaf_index, size).await?;
    txn.commit().await?;
    Ok(Some(proof))
}

/// The signed head of exactly `until` leaves, signed now if there is none
/// (an export's manifest names it); `None` for an empty log.
pub(crate) async fn head_of_size(
    signer: &TreeHeadSigner,
    tenant_id: Uuid,
    until: i64,
) -> ApiResult<Option<StoredHead>> {
    let size = u64::try_from(until)
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("export bound {until}")))?;
    signer
        .head_of_size(tenant_id, size)
        .await
        .map_err(|error| match error {
            TreeHeadError::Store(error) => error.into(),
            TreeHeadError::Keys(message) => ApiError::Internal(anyhow::anyhow!(message)),
        })
}

/// The inclusion proofs of the events at `sequences` (each at most
/// `tree_size`) in the tree of `tree_size`, in one read-only transaction:
/// an export's `proofs=true` batch.
pub(crate) async fn inclusion_proofs(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    sequences: &[i64],
    tree_size: u64,
) -> ApiResult<Vec<InclusionProof>> {
    let txn = read_scope::begin_read(db, tenant_id).await?;
    let mut proofs = Vec::with_capacity(sequences.len());
    for &sequence in sequences {
        let leaf_index = u64::try_from(sequence - 1)
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("sequence {sequence}")))?;
        proofs.push(tree::inclusion_proof(&txn, tenant_id, leaf_index, tree_size).await?);
    }
    txn.commit().await?;
    Ok(proofs)
}
