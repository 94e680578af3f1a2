//! Inclusion and consistency proofs (RFC 9162 §2.1.3, §2.1.4).
//!
//! A proof is a list of subtree hashes `MTH(D[a:b])`. The generators here
//! return the ranges `[a, b)` in the RFC's order (innermost first); the
//! caller turns each into a hash with [`super::range_hash`] from stored
//! nodes. The verifiers are the RFC's algorithms step by step, and the only
//! code the `auditlog verify` command trusts.

use std::ops::Range;

use super::{Hash, node_hash, split};

/// The ranges of `PATH(leaf_index, D[0:tree_size])` (§2.1.3.1), the leaf's
/// sibling first. `None` unless `leaf_index < tree_size`.
pub fn inclusion_ranges(leaf_index: u64, tree_size: u64) -> Option<Vec<Range<u64>>> {
    if leaf_index >= tree_size {
        return None;
    }
    let mut outer_first = Vec::new();
    let (mut start, mut end) = (0, tree_size);
    while end - start > 1 {
        let k = split(end - start);
        if leaf_index < start + k {
            outer_first.push(start + k..end);
            end = start + k;
        } else {
            outer_first.push(start..start + k);
            start += k;
        }
    }
    outer_first.reverse();
    Some(outer_first)
}

/// The ranges of `PROOF(from_size, D[0:to_size])` (§2.1.4.1), innermost
/// first; empty when the sizes are equal. `None` unless
/// `0 < from_size ≤ to_size`.
pub fn consistency_ranges(from_size: u64, to_size: u64) -> Option<Vec<Range<u64>>> {
    if from_size == 0 || from_size > to_size {
        return None;
    }
    let mut outer_first = Vec::new();
    let (mut start, mut end, mut m) = (0, to_size, from_size);
    let mut whole_old_tree = true;
    // SUBPROOF(m, D[start:end], whole_old_tree).
    while m != end - start {
        let k = split(end - start);
        if m <= k {
            outer_first.push(start + k..end);
            end = start + k;
        } else {
            outer_first.push(start..start + k);
            start += k;
            m -= k;
            whole_old_tree = false;
        }
    }
    if !whole_old_tree {
        outer_first.push(start..end);
    }
    outer_first.reverse();
    Some(outer_first)
}

/// §2.1.3.2: whether `path` proves the leaf hash `leaf` at `leaf_index` in
/// the tree of size `tree_size` whose root is `root`.
pub fn verify_inclusion(
    leaf_index: u64,
    tree_size: u64,
    leaf: &Hash,
    path: &[Hash],
    root: &Hash,
) -> bool {
    if leaf_index >= tree_size {
        return false;
    }
    let (mut fn_, mut sn) = (leaf_index, tree_size - 1);
    let mut r = *leaf;
    for p in path {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == *root
}

/// §2.1.4.2: whether `proof` shows the tree of size `first` with root
/// `first_root` is a prefix of the tree of size `second` with root
/// `second_root`. Equal sizes need an empty proof and equal roots.
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> bool {
    if first == 0 || first > second {
        return false;
    }
    if first == second {
        return proof.is_empty() && first_root == second_root;
    }
    if proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_root);
    }
    path.extend_from_slice(proof);
    let (mut fn_, mut sn) = (first - 1, second - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    fr == *first_root && sr == *second_root && sn == 0
}
