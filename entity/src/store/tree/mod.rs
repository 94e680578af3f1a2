//! The per-tenant Merkle tree's storage (issue 19): the perfect-subtree
//! hashes ([`nodes`], written by the event store in the ingest transaction)
//! and the signed tree heads ([`heads`]). The math is `domain::merkle`; this
//! module only reads and writes what it names.
//!
//! Invariant: after every committed ingest transaction of a tenant whose
//! counter is `n` and whose tree origin is `o` (`tenants.tree_origin`,
//! `domain::merkle::origin`), `audit_tree_nodes` holds every perfect subtree
//! of `[0, n − o)`, the leaves of sequences `o + 1..=n`, so any root or proof
//! for a size up to `n − o` is composed from stored rows alone. Events with
//! sequence ≤ `o` predate the tree and have no node. Nothing ever updates or
//! deletes a node: the purge removes events, not their hashes.

pub mod heads;
pub mod nodes;

pub use heads::{NewHead, StoredHead, TreeExtent};
pub use nodes::{InclusionProof, append_leaves, consistency_proof, inclusion_proof, root};
