//! The per-tenant Merkle tree of RFC 9162 §2.1, as pure functions: no I/O,
//! no database, no clock (issue 19).
//!
//! A tenant's events in `sequence` order are the leaves: sequence `s` is leaf
//! index `s − 1 − origin`, where the tenant's [`origin::TreeOrigin`] is 0
//! unless it had events before the tree existed (an upgrade). The tree of size `n` is `MTH(D[0:n])` exactly as the RFC
//! defines it (leaf hash `SHA-256(0x00 ‖ leaf)`, node hash
//! `SHA-256(0x01 ‖ left ‖ right)`, split at the largest power of two below `n`).
//!
//! What is stored is the hash of every *perfect* subtree: [`NodeId`] `(level,
//! index)` covers leaves `[index·2^level, (index+1)·2^level)`, level 0 being
//! the leaf hashes. Every node of every RFC tree is either such a perfect
//! subtree or composed of O(log n) of them ([`range_nodes`], [`range_hash`]),
//! so a root or a proof needs O(log² n) stored hashes at most, never the log.
//!
//! - [`leaf`]: the canonical bytes of one event (RFC 8785 JCS);
//! - [`origin`]: which sequence is which leaf;
//! - [`append`]: the nodes a batch of new leaves completes;
//! - [`proofs`]: inclusion and consistency proofs (§2.1.3.1, §2.1.4.1) as the
//!   ranges whose hashes they list, and their verification (§2.1.3.2, §2.1.4.2).

pub mod append;
pub mod head;
pub mod leaf;
pub mod origin;
pub mod proofs;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::ops::Range;

use sha2::{Digest, Sha256};

pub use append::completed_nodes;
pub use origin::TreeOrigin;
pub use proofs::{consistency_ranges, inclusion_ranges, verify_consistency, verify_inclusion};

/// A SHA-256 digest: a leaf, node or root hash.
pub type Hash = [u8; 32];

/// The perfect subtree `[index·2^level, (index+1)·2^level)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u8,
    pub index: u64,
}

impl NodeId {
    pub fn new(level: u8, index: u64) -> Self {
        Self { level, index }
    }

    /// The leaves it covers.
    pub fn leaves(self) -> Range<u64> {
        let start = self.index << self.level;
        start..start + (1u64 << self.level)
    }
}

/// `SHA-256(0x00 ‖ leaf)`.
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(leaf);
    hasher.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root of the empty tree: `SHA-256()` (RFC 9162 §2.1.1).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two strictly below `n` (`n ≥ 2`): the RFC's `k`.
pub(crate) fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The stored nodes `MTH(D[range])` is composed of, left to right, for a
/// range that is a node of some RFC tree (its start a multiple of the largest
/// power of two not above its length, as every range [`proofs`] and a root
/// name are). Empty for an empty range.
pub fn range_nodes(range: Range<u64>) -> Vec<NodeId> {
    let mut nodes = Vec::new();
    let (mut start, end) = (range.start, range.end);
    while start < end {
        // The RFC splits off the largest power of two below the length first,
        // so the perfect parts are the binary digits of the length, largest first.
        let size = end - start;
        let level = 63 - size.leading_zeros() as u8;
        let level = level.min(start.trailing_zeros().min(63) as u8);
        nodes.push(NodeId::new(level, start >> level));
        start += 1u64 << level;
    }
    nodes
}

/// `MTH(D[range])` from the stored nodes of [`range_nodes`]: they fold right
/// to left, as the RFC's recursion nests (`MTH(a, MTH(b, c))`). `None` if a
/// node is missing from `nodes`, or for an empty range.
pub fn range_hash(range: Range<u64>, nodes: &HashMap<NodeId, Hash>) -> Option<Hash> {
    let parts = range_nodes(range);
    let mut parts = parts.iter().rev();
    let mut hash = *nodes.get(parts.next()?)?;
    for part in parts {
        hash = node_hash(nodes.get(part)?, &hash);
    }
    Some(hash)
}

/// The root of a whole list of leaf hashes, computed bottom-up in one pass
/// with a stack of perfect subtrees (what a verifier holding every leaf does).
pub fn root_of_leaves(leaves: &[Hash]) -> Hash {
    if leaves.is_empty() {
        return empty_root();
    }
    let mut stack: Vec<(NodeId, Hash)> = Vec::new();
    completed_nodes(&mut stack, 0, leaves.iter().copied());
    let mut hashes = stack.iter().rev().map(|(_, hash)| *hash);
    let mut root = hashes.next().unwrap_or_else(empty_root);
    for left in hashes {
        root = node_hash(&left, &root);
    }
    root
}
