//! Signed tree heads (issue 19): a signer pass signs a new head for every
//! tenant whose Merkle tree grew since its latest head ([`signer`]), on a
//! cron schedule ([`scheduler`], `AUDITLOG_TREE_HEAD_SCHEDULE`) in
//! `auditlog-worker` and in-process in the `auditlog` service; the keys are
//! a ring in the database or configured ([`keys`], `AUDITLOG_SIGNING_KEY`).
//!
//! What is signed (`entity::domain::merkle::head::signed_bytes`, documented in `docs/verifying.md`): the
//! RFC 8785 (JCS) bytes of `{"rootHash": <64 lower-case hex>, "tenantId":
//! <lower-case UUID>, "timestamp": <RFC 3339 UTC, 6 fractional digits, Z>,
//! "treeSize": <number>}`, plus `"treeOrigin": <number>` for a tenant whose
//! tree starts after sequence 0 (an upgrade), with Ed25519 (RFC 8032, pure).
//!
//! Two signers never publish two heads of one size: heads are unique per
//! `(tenant, tree_size)` and inserted if absent. Heads of different sizes
//! from racing signers are all consistent, as the tree only grows.

pub mod keys;
pub mod scheduler;
pub mod signer;
pub mod wire;

pub use keys::TreeHeadKeys;
pub use scheduler::TreeHeadScheduler;
pub use signer::{SignPassReport, TreeHeadSigner};
pub use wire::HeadJson;

use crate::ed25519::PublicKey;

/// Why signing heads failed.
#[derive(Debug, thiserror::Error)]
pub enum TreeHeadError {
    #[error(transparent)]
    Store(#[from] entity::store::StoreError),
    /// The key ring or a configured key is unusable (never quotes a key).
    #[error("{0}")]
    Keys(String),
}

impl From<sea_orm::DbErr> for TreeHeadError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Store(entity::store::StoreError::Database(error))
    }
}

/// Whether `signature` over a head verifies with the key `kid` of `keys`.
pub fn verify_head(keys: &[PublicKey], kid: &str, message: &[u8], signature: &[u8]) -> bool {
    keys.iter()
        .find(|key| key.kid() == kid)
        .is_some_and(|key| key.verify(message, signature))
}
