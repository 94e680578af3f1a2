//! Serializing a response within `AUDITLOG_MAX_RESPONSE_BYTES`.
//!
//! Resolvers charge what they load to the request's `ResponseBudget`, but that
//! is an estimate of stored bytes; this is the exact check of what would be
//! sent. Serialization stops at the first byte over the cap, so memory holds at
//! most the cap, and the client gets `RESPONSE_TOO_LARGE` instead.

use serde::Serialize;
use serde_json::json;

use crate::error::code;

/// Serializes `value` as JSON, or `None` if it takes more than `limit` bytes
/// (or, a bug, cannot be serialized at all: logged).
pub(super) fn to_vec_capped<T: Serialize + ?Sized>(value: &T, limit: usize) -> Option<Vec<u8>> {
    let mut writer = CappedWriter {
        bytes: Vec::new(),
        limit,
        over: false,
    };
    match serde_json::to_writer(&mut writer, value) {
        Ok(()) => Some(writer.bytes),
        Err(error) => {
            if !writer.over {
                tracing::error!(error = %error, "cannot serialize a GraphQL response");
            }
            None
        }
    }
}

/// The GraphQL error sent instead of a response over the cap.
pub(super) fn too_large_error(limit: usize) -> serde_json::Value {
    json!({
        "message": format!(
            "the response would exceed {limit} bytes (AUDITLOG_MAX_RESPONSE_BYTES); \
             ask for smaller pages, fewer fields or fewer aliases"
        ),
        "extensions": { "code": code::RESPONSE_TOO_LARGE },
    })
}

struct CappedWriter {
    bytes: Vec<u8>,
    limit: usize,
    over: bool,
}

impl std::io::Write for CappedWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len().saturating_add(bytes.len()) > self.limit {
            self.over = true;
            return Err(std::io::Error::other("response over the byte cap"));
        }
        self.bytes.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_the_cap() {
        let value = json!({ "data": "x".repeat(100) });
        assert!(to_vec_capped(&value, 200).is_some());
        assert!(to_vec_capped(&value, 50).is_none());
    }
}
