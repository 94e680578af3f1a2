//! The bytes a signed tree head's Ed25519 signature covers, documented in
//! `docs/verifying.md`: RFC 8785 (JCS) of `{"rootHash": <64 lower-case hex>,
//! "tenantId": <lower-case UUID>, "timestamp": <RFC 3339 UTC, 6 fractional
//! digits, Z>, "treeSize": <number>}`, plus `"treeOrigin": <number>` when the
//! tenant's tree origin is not 0 ([`super::origin`]). Binding the tenant id
//! means a head of one tenant can never pass for another's; binding the
//! origin means a head says which sequences its leaves are. A tenant without
//! an origin signs exactly the object without the key, as before origins
//! existed, so those heads and their verifiers are unchanged.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::leaf::timestamp;
use super::{Hash, TreeOrigin};

/// The signed bytes of the head `(tenant_id, origin, tree_size, root_hash,
/// signed_at)`.
pub fn signed_bytes(
    tenant_id: Uuid,
    origin: TreeOrigin,
    tree_size: u64,
    root_hash: &Hash,
    signed_at: DateTime<Utc>,
) -> Result<Vec<u8>, String> {
    let mut object = serde_json::json!({
        "rootHash": hex::encode(root_hash),
        "tenantId": tenant_id.to_string(),
        "timestamp": timestamp(signed_at),
        "treeSize": tree_size,
    });
    if origin.0 != 0 {
        object["treeOrigin"] = origin.0.into();
    }
    serde_json_canonicalizer::to_vec(&object).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    use super::{TreeOrigin, signed_bytes};

    fn bytes(origin: u64) -> String {
        let tenant = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001);
        let at = Utc.timestamp_opt(1_796_000_000, 123_000).unwrap();
        let signed = signed_bytes(tenant, TreeOrigin(origin), 100, &[0xab; 32], at).unwrap();
        String::from_utf8(signed).unwrap()
    }

    /// The documented byte string, byte for byte (docs/verifying.md): with
    /// origin 0 exactly the object of heads before origins existed.
    #[test]
    fn a_head_signs_the_documented_object_and_its_origin_unless_0() {
        let root = "ab".repeat(32);
        for (origin, origin_key) in [(0, ""), (40, "\"treeOrigin\":40,")] {
            assert_eq!(
                bytes(origin),
                format!(
                    "{{\"rootHash\":\"{root}\",\"tenantId\":\"01930000-0000-7000-8000-000000000001\",\
                     \"timestamp\":\"2026-11-30T00:53:20.000123Z\",{origin_key}\"treeSize\":100}}"
                ),
                "origin {origin}"
            );
        }
    }
}
