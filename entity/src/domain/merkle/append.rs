//! Growing the tree: the perfect subtrees that new leaves complete.
//!
//! The *frontier* of a tree of size `s` is its perfect subtrees of the binary
//! decomposition of `[0, s)` ([`frontier`]: one per set bit of `s`, largest
//! first). Appending leaf `s` pushes it on the frontier and merges equal
//! levels, like a binary counter's carries: each merge completes one node.
//! So a leaf stores itself plus, amortised, one more node (2 per leaf).

use super::{Hash, NodeId, node_hash, range_nodes};

/// The frontier of the tree of size `size`: what [`completed_nodes`] needs
/// to continue it (read from storage in one query).
pub fn frontier(size: u64) -> Vec<NodeId> {
    range_nodes(0..size)
}

/// Appends `leaves` (their hashes, leaf indices from `size` on) to the tree
/// whose frontier is `frontier` (as [`frontier`] lists it, with hashes), and
/// returns every node they complete, leaves included, in order. `frontier`
/// is left as the new tree's frontier.
pub fn completed_nodes(
    frontier: &mut Vec<(NodeId, Hash)>,
    size: u64,
    leaves: impl IntoIterator<Item = Hash>,
) -> Vec<(NodeId, Hash)> {
    let mut completed = Vec::new();
    for (offset, leaf) in leaves.into_iter().enumerate() {
        let mut node = (NodeId::new(0, size + offset as u64), leaf);
        completed.push(node);
        while let Some(&(left, left_hash)) = frontier.last() {
            if left.level != node.0.level {
                break;
            }
            frontier.pop();
            node = (
                NodeId::new(left.level + 1, left.index / 2),
                node_hash(&left_hash, &node.1),
            );
            completed.push(node);
        }
        frontier.push(node);
    }
    completed
}
