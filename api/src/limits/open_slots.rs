//! [`OpenSlots`]: how many of something one key holds open at once (WebSocket
//! connections per credential, exports per tenant), counted while a
//! [`SlotGuard`] lives, so a place is freed however its holder ends (finished,
//! failed, or dropped with a disconnected client).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use super::Scope;

pub struct OpenSlots<K> {
    /// `0`: unlimited.
    max_per_key: usize,
    /// Which limit this is, for the rejection counter.
    scope: Scope,
    /// Open places by key; a key is removed at zero, so the map holds only
    /// keys with something open.
    open: Arc<Mutex<HashMap<K, usize>>>,
}

// By hand: a derived `Clone` would require `K: Clone` for no reason.
impl<K> Clone for OpenSlots<K> {
    fn clone(&self) -> Self {
        Self {
            max_per_key: self.max_per_key,
            scope: self.scope,
            open: self.open.clone(),
        }
    }
}

/// Holds one place; dropping it frees the place.
pub struct SlotGuard<K: Eq + Hash> {
    key: K,
    open: Arc<Mutex<HashMap<K, usize>>>,
}

impl<K: Eq + Hash + Clone> OpenSlots<K> {
    pub fn new(max_per_key: usize, scope: Scope) -> Self {
        Self {
            max_per_key,
            scope,
            open: Arc::default(),
        }
    }

    /// The most one key may hold (`0`: unlimited).
    pub fn max_per_key(&self) -> usize {
        self.max_per_key
    }

    /// A place for one more of `key`, or `None` (counted as a rejection)
    /// when it already holds the maximum.
    pub fn open(&self, key: K) -> Option<SlotGuard<K>> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(key.clone()).or_default();
        if self.max_per_key > 0 && *count >= self.max_per_key {
            drop(open);
            self.scope.count_rejection();
            return None;
        }
        *count += 1;
        Some(SlotGuard {
            key,
            open: self.open.clone(),
        })
    }
}

impl<K: Eq + Hash> Drop for SlotGuard<K> {
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
    use super::OpenSlots;
    use crate::limits::{CredentialKey, Scope};

    #[test]
    fn counts_open_places_per_key() {
        let slots = OpenSlots::new(2, Scope::WsConnections);
        let a = CredentialKey::Operator;
        let b = CredentialKey::ApiKey(uuid::Uuid::nil());
        let first = slots.open(a.clone()).unwrap();
        let _second = slots.open(a.clone()).unwrap();
        assert!(slots.open(a.clone()).is_none());
        assert!(slots.open(b).is_some());
        drop(first);
        assert!(slots.open(a).is_some());
    }

    #[test]
    fn zero_is_unlimited() {
        let slots = OpenSlots::new(0, Scope::Exports);
        let held: Vec<_> = (0..10).filter_map(|_| slots.open(1u8)).collect();
        assert_eq!(held.len(), 10);
    }
}
