//! A short-lived, in-process cache of verified API keys.
//!
//! Verifying a key costs several database round trips (tenant by slug, the
//! key row, the tenant's plan and retention), on every request; busy ingest
//! clients send many requests per second with the same key. A verified key's
//! [`Principal`] is therefore kept for `AUDITLOG_AUTH_CACHE_MS` (default 1 s),
//! keyed by the SHA-256 of the presented token (never the token itself).
//!
//! Invariants:
//! - only successful verifications are cached; a wrong or revoked key always
//!   reaches the database;
//! - any change in this process that could change a cached principal (key
//!   revoked; retention, legal hold or plan changed) empties the cache at once;
//!   another replica notices within the cache period;
//! - a period of 0 turns the cache off.

use std::time::Duration;

use sha2::{Digest, Sha256};

use super::Principal;

/// Most verified keys kept at once.
const MAX_ENTRIES: u64 = 10_000;

#[derive(Clone)]
pub struct ApiKeyCache {
    cache: Option<moka::sync::Cache<[u8; 32], Principal>>,
}

impl ApiKeyCache {
    /// A cache keeping each verified key for `period` (zero: no cache).
    pub fn new(period: Duration) -> Self {
        let cache = (!period.is_zero()).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(MAX_ENTRIES)
                .time_to_live(period)
                .build()
        });
        Self { cache }
    }

    pub fn disabled() -> Self {
        Self { cache: None }
    }

    pub fn get(&self, token: &str) -> Option<Principal> {
        self.cache.as_ref()?.get(&digest(token))
    }

    pub fn insert(&self, token: &str, principal: &Principal) {
        if let Some(cache) = &self.cache {
            cache.insert(digest(token), principal.clone());
        }
    }

    /// Forgets every cached key (after a change that could alter any of them).
    pub fn invalidate_all(&self) {
        if let Some(cache) = &self.cache {
            cache.invalidate_all();
        }
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}
