//! A signed tree head as JSON, the way `auditLogTreeHead` spells it (hex
//! root, base64url signature without padding, six fractional digits): what
//! an export's manifest and a log stream's batch carry.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entity::domain::merkle::leaf::timestamp;
use entity::store::tree::StoredHead;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeadJson {
    tree_size: u64,
    tree_origin: u64,
    root_hash: String,
    timestamp: String,
    key_id: String,
    signature: String,
}

impl HeadJson {
    pub fn of(head: &StoredHead) -> Self {
        Self {
            tree_size: head.tree_size,
            tree_origin: head.tree_origin.0,
            root_hash: hex::encode(head.root_hash),
            timestamp: timestamp(head.signed_at),
            key_id: head.key_id.clone(),
            signature: URL_SAFE_NO_PAD.encode(&head.signature),
        }
    }
}
