//! The bytes a signed tree head's Ed25519 signature covers, documented in
//! `docs/verifying.md`: RFC 8785 (JCS) of `{"rootHash": <64 lower-case hex>,
//! "tenantId": <lower-case UUID>, "timestamp": <RFC 3339 UTC, 6 fractional
//! digits, Z>, "treeSize": <number>}`. Binding the tenant id means a head of
//! one tenant can never pass for another's.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Hash;
use super::leaf::timestamp;

/// The signed bytes of the head `(tenant_id, tree_size, root_hash, signed_at)`.
pub fn signed_bytes(
    tenant_id: Uuid,
    tree_size: u64,
    root_hash: &Hash,
    signed_at: DateTime<Utc>,
) -> Result<Vec<u8>, String> {
    let object = serde_json::json!({
        "rootHash": hex::encode(root_hash),
        "tenantId": tenant_id.to_string(),
        "timestamp": timestamp(signed_at),
        "treeSize": tree_size,
    });
    serde_json_canonicalizer::to_vec(&object).map_err(|error| error.to_string())
}
