//! The tree math against the RFC's recursive definitions, used as the
//! oracle: `mth`, `path` and `subproof` below are RFC 9162 §2.1.1, §2.1.3.1
//! and §2.1.4.1 transcribed literally, over all leaf hashes.

use std::collections::HashMap;

use super::append::frontier;
use super::*;

fn leaves(n: u64) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
}

fn k_of(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => empty_root(),
        1 => d[0],
        n => {
            let k = k_of(n);
            node_hash(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

fn path(m: usize, d: &[Hash]) -> Vec<Hash> {
    let n = d.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = k_of(n);
    if m < k {
        let mut p = path(m, &d[..k]);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = path(m - k, &d[k..]);
        p.push(mth(&d[..k]));
        p
    }
}

fn subproof(m: usize, d: &[Hash], whole: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if whole { Vec::new() } else { vec![mth(d)] };
    }
    let k = k_of(n);
    if m <= k {
        let mut p = subproof(m, &d[..k], whole);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = subproof(m - k, &d[k..], false);
        p.push(mth(&d[..k]));
        p
    }
}

/// Every node the ingest would store for `n` leaves, grown in uneven batches.
fn stored(leaves: &[Hash]) -> HashMap<NodeId, Hash> {
    let mut nodes = HashMap::new();
    let mut edge = Vec::new();
    let mut size = 0u64;
    for batch in leaves.chunks(7) {
        // The frontier the store reads back must be what the last batch left.
        let expected: Vec<NodeId> = edge.iter().map(|(id, _)| *id).collect();
        assert_eq!(frontier(size), expected);
        nodes.extend(completed_nodes(&mut edge, size, batch.iter().copied()));
        size += batch.len() as u64;
    }
    nodes
}

fn hashes(ranges: &[std::ops::Range<u64>], nodes: &HashMap<NodeId, Hash>) -> Vec<Hash> {
    ranges
        .iter()
        .map(|range| range_hash(range.clone(), nodes).unwrap())
        .collect()
}

fn sizes() -> Vec<u64> {
    let mut sizes: Vec<u64> = (1..=130).collect();
    for power in [256u64, 512, 1024, 2048] {
        sizes.extend([power - 1, power, power + 1]);
    }
    sizes.extend([1000, 1500, 2000]);
    sizes
}

#[test]
fn stored_nodes_are_the_perfect_subtrees_and_compose_every_root() {
    let all = leaves(2049);
    let nodes = stored(&all);
    for (id, hash) in &nodes {
        let range = id.leaves();
        assert_eq!(*hash, mth(&all[range.start as usize..range.end as usize]));
    }
    for n in 1..=2049u64 {
        let expected = mth(&all[..n as usize]);
        assert_eq!(range_hash(0..n, &nodes), Some(expected), "size {n}");
        assert_eq!(root_of_leaves(&all[..n as usize]), expected, "size {n}");
        assert!(range_nodes(0..n).len() <= 64);
    }
    // About two rows per leaf.
    assert!(nodes.len() <= 2 * all.len());
    assert_eq!(root_of_leaves(&[]), empty_root());
}

#[test]
fn inclusion_proofs_match_the_rfc_and_verify() {
    let all = leaves(2049);
    let nodes = stored(&all);
    for n in sizes() {
        let d = &all[..n as usize];
        let root = mth(d);
        let indices: Vec<u64> = if n <= 130 {
            (0..n).collect()
        } else {
            vec![0, 1, n / 3, n / 2, n - 2, n - 1]
        };
        for m in indices {
            let proof = hashes(&inclusion_ranges(m, n).unwrap(), &nodes);
            assert_eq!(proof, path(m as usize, d), "leaf {m} of {n}");
            assert!(verify_inclusion(m, n, &all[m as usize], &proof, &root));
            // Tampered: another leaf, another index, a changed path, a short path.
            let other = all[((m + 1) % n) as usize];
            assert!(n == 1 || !verify_inclusion(m, n, &other, &proof, &root));
            if n > 1 {
                assert!(!verify_inclusion(
                    (m + 1) % n,
                    n,
                    &all[m as usize],
                    &proof,
                    &root
                ));
                let mut changed = proof.clone();
                changed[0][0] ^= 1;
                assert!(!verify_inclusion(m, n, &all[m as usize], &changed, &root));
                assert!(!verify_inclusion(
                    m,
                    n,
                    &all[m as usize],
                    &proof[1..],
                    &root
                ));
            }
        }
        assert!(inclusion_ranges(n, n).is_none());
        assert!(!verify_inclusion(n, n, &all[0], &[], &root));
    }
}

#[test]
fn consistency_proofs_match_the_rfc_and_verify() {
    let all = leaves(2049);
    let nodes = stored(&all);
    for n in sizes() {
        let second = mth(&all[..n as usize]);
        let firsts: Vec<u64> = if n <= 70 {
            (1..=n).collect()
        } else {
            vec![1, 2, 3, n / 2, n / 2 + 1, n - 1, n]
        };
        for m in firsts {
            let first = mth(&all[..m as usize]);
            let proof = hashes(&consistency_ranges(m, n).unwrap(), &nodes);
            assert_eq!(
                proof,
                subproof(m as usize, &all[..n as usize], true),
                "{m}→{n}"
            );
            assert!(verify_consistency(m, n, &first, &second, &proof), "{m}→{n}");
            if m < n {
                let mut wrong = first;
                wrong[5] ^= 1;
                assert!(!verify_consistency(m, n, &wrong, &second, &proof));
                assert!(!verify_consistency(m, n, &first, &wrong, &proof));
                let mut changed = proof.clone();
                changed[proof.len() - 1][0] ^= 1;
                assert!(!verify_consistency(m, n, &first, &second, &changed));
                assert!(!verify_consistency(m, n, &first, &second, &[]));
            }
        }
        assert!(consistency_ranges(0, n).is_none());
        assert!(consistency_ranges(n + 1, n).is_none());
    }
}

#[test]
fn a_missing_node_is_none_not_a_wrong_hash() {
    let all = leaves(10);
    let mut nodes = stored(&all);
    nodes.remove(&NodeId::new(3, 0));
    assert_eq!(range_hash(0..10, &nodes), None);
    assert_eq!(range_hash(0..0, &nodes), None);
}
