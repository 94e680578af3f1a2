//! [`WsConnections`]: open WebSocket connections per credential
//! (`AUDITLOG_WS_MAX_CONNECTIONS_PER_CREDENTIAL`), counted while a
//! [`WsConnectionGuard`] lives (from `connection_ack` to the connection's end).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::{CredentialKey, Scope};

#[derive(Clone)]
pub struct WsConnections {
    /// `0`: unlimited.
    max_per_credential: usize,
    /// Open connections by credential; a key is removed at zero, so the map
    /// holds only credentials with open connections.
    open: Arc<Mutex<HashMap<CredentialKey, usize>>>,
}

/// Holds one connection's place; dropping it frees the place.
pub struct WsConnectionGuard {
    key: CredentialKey,
    open: Arc<Mutex<HashMap<CredentialKey, usize>>>,
}

impl WsConnections {
    pub fn new(max_per_credential: usize) -> Self {
        Self {
            max_per_credential,
            open: Arc::default(),
        }
    }

    /// A place for one more connection of `key`, or `None` (counted as a
    /// rejection) when it already has the maximum open.
    pub fn open(&self, key: CredentialKey) -> Option<WsConnectionGuard> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(key.clone()).or_default();
        if self.max_per_credential > 0 && *count >= self.max_per_credential {
            drop(open);
            Scope::WsConnections.count_rejection();
            return None;
        }
        *count += 1;
        Some(WsConnectionGuard {
            key,
            open: self.open.clone(),
        })
    }
}

impl Drop for WsConnectionGuard {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::WsConnections;
    use crate::limits::CredentialKey;

    #[test]
    fn counts_open_connections_per_credential() {
        let connections = WsConnections::new(2);
        let a = CredentialKey::Operator;
        let b = CredentialKey::ApiKey(uuid::Uuid::nil());
        let first = connections.open(a.clone()).unwrap();
        let _second = connections.open(a.clone()).unwrap();
        assert!(connections.open(a.clone()).is_none());
        assert!(connections.open(b).is_some());
        drop(first);
        assert!(connections.open(a).is_some());
    }
}
