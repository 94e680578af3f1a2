//! Opaque access tokens: RFC 7662 introspection through the `oauth2` crate,
//! behind a bounded cache.
//!
//! A cached result lives until the earliest of the token's own `exp` and the
//! configured maximum (`AUDITLOG_OIDC_INTROSPECTION_CACHE_SECS`, default 60 s),
//! so a token revoked at the IdP stops working within that bound. Inactive
//! results are cached too (a token never becomes active again), which keeps
//! floods of garbage tokens off the IdP. The cache holds at most
//! `AUDITLOG_OIDC_INTROSPECTION_CACHE_ENTRIES` results (moka evicts the least
//! useful) and is keyed by the SHA-256 of the token, never the token itself.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use moka::Expiry;
use moka::sync::Cache;
use openidconnect::{AccessToken, EndpointSet, TokenIntrospectionResponse};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::TokenCheck;
use super::discovery::OidcClient;
use super::settings::OidcSettings;

/// One introspection result and how long it may be reused.
#[derive(Clone)]
struct Cached {
    check: Arc<TokenCheck>,
    ttl: Duration,
}

struct PerEntry;

impl Expiry<[u8; 32], Cached> for PerEntry {
    fn expire_after_create(
        &self,
        _key: &[u8; 32],
        value: &Cached,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

pub(crate) struct Introspector {
    cache: Cache<[u8; 32], Cached>,
    max_age: Duration,
}

impl Introspector {
    pub(crate) fn new(settings: &OidcSettings) -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(settings.introspection_cache_entries)
                .expire_after(PerEntry)
                .build(),
            max_age: settings.introspection_cache_max,
        }
    }

    /// The verdict on an opaque token: cached, or asked of the IdP. An error
    /// means the IdP could not answer (nothing is cached then).
    pub(crate) async fn check(
        &self,
        settings: &OidcSettings,
        client: &OidcClient<EndpointSet>,
        http: &reqwest::Client,
        token: &str,
    ) -> Result<Arc<TokenCheck>, String> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(cached) = self.cache.get(&key) {
            return Ok(cached.check);
        }
        let access_token = AccessToken::new(token.to_owned());
        let response = client
            .introspect(&access_token)
            .set_token_type_hint("access_token")
            .request_async(http)
            .await
            .map_err(|error| format!("token introspection failed: {error}"))?;
        let (check, ttl) = self.judge(settings, &response);
        let check = Arc::new(check);
        if !ttl.is_zero() {
            self.cache.insert(
                key,
                Cached {
                    check: check.clone(),
                    ttl,
                },
            );
        }
        Ok(check)
    }

    /// The verdict on a response and how long it may be cached.
    fn judge(
        &self,
        settings: &OidcSettings,
        response: &super::discovery::IntrospectionResponse,
    ) -> (TokenCheck, Duration) {
        if !response.active() {
            return (TokenCheck::Invalid("inactive"), self.max_age);
        }
        let now = Utc::now();
        let remaining = match response.exp() {
            Some(exp) if exp <= now => return (TokenCheck::Invalid("expired"), self.max_age),
            Some(exp) => (exp - now).to_std().unwrap_or(Duration::ZERO),
            None => self.max_age,
        };
        let ttl = remaining.min(self.max_age);
        if response.iss().is_some_and(|iss| iss != settings.issuer) {
            return (TokenCheck::Invalid("wrong_issuer"), ttl);
        }
        // `aud` is optional in RFC 7662, but without it a token meant for
        // another API of the same IdP would pass: require one of ours.
        let audience_ok = response
            .aud()
            .is_some_and(|aud| aud.iter().any(|a| settings.audiences.contains(a)));
        if !audience_ok {
            return (TokenCheck::Invalid("wrong_audience"), ttl);
        }
        let Some(sub) = response.sub() else {
            return (TokenCheck::Invalid("missing_required_claim"), ttl);
        };
        let mut claims: Map<String, Value> = response.extra_fields().other.clone();
        claims.insert("sub".into(), json!(sub));
        if let Some(exp) = response.exp() {
            claims.insert("exp".into(), json!(exp.timestamp()));
        }
        (TokenCheck::Valid(claims), ttl)
    }
}
