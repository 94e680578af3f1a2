//! [`KeyCache`]: the identity provider's signing keys (JWKS), cached.
//!
//! Keys are downloaded from the discovery document's `jwks_uri` on first use
//! and again when a token names a key id (`kid`) the cache does not know —
//! that is how a key rotation at the IdP is picked up without a restart. Such
//! refreshes are rate-limited (`AUDITLOG_OIDC_JWKS_MIN_REFRESH_SECS`), so a
//! flood of tokens with made-up key ids costs one download per interval, not
//! one per request. Downloads are single-flight: concurrent misses wait for the
//! one in progress.
//!
//! One download feeds both verifiers: `jsonwebtoken` (access tokens) and
//! `openidconnect` (ID tokens at browser login). Keys for encryption (`use:
//! enc`) and key types neither library supports are skipped.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};
use openidconnect::core::CoreJsonWebKeySet;
use serde_json::Value;

/// A snapshot of the provider's keys.
#[derive(Default)]
pub(crate) struct Keys {
    jwt: Vec<JwtKey>,
    /// The same keys for the ID-token verifier.
    pub oidc: CoreJsonWebKeySet,
}

struct JwtKey {
    kid: Option<String>,
    /// The JWK's `alg`, if it pins one.
    alg: Option<String>,
    key: DecodingKey,
}

impl Keys {
    /// Whether a token naming `kid` (or none) could find its key here.
    fn knows(&self, kid: Option<&str>) -> bool {
        match kid {
            Some(kid) => self.jwt.iter().any(|key| key.kid.as_deref() == Some(kid)),
            None => !self.jwt.is_empty(),
        }
    }

    /// The key that verifies a token signed with `alg` under `kid`. Without a
    /// `kid` the set must hold exactly one usable key (no guessing among several).
    pub(crate) fn for_token(&self, kid: Option<&str>, alg: Algorithm) -> Option<&DecodingKey> {
        let alg_name = format!("{alg:?}");
        let usable = |key: &&JwtKey| key.alg.as_ref().is_none_or(|pinned| *pinned == alg_name);
        match kid {
            Some(kid) => self
                .jwt
                .iter()
                .filter(usable)
                .find(|key| key.kid.as_deref() == Some(kid))
                .map(|key| &key.key),
            None => {
                let mut candidates = self.jwt.iter().filter(usable);
                match (candidates.next(), candidates.next()) {
                    (Some(only), None) => Some(&only.key),
                    _ => None,
                }
            }
        }
    }

    fn parse(document: &Value) -> Self {
        let jwt = document
            .get("keys")
            .and_then(Value::as_array)
            .map(|keys| keys.iter().filter_map(JwtKey::parse).collect())
            .unwrap_or_default();
        let oidc = serde_json::from_value(document.clone()).unwrap_or_else(|error| {
            tracing::warn!(error = %error, "the identity provider's JWKS cannot be read for ID tokens");
            CoreJsonWebKeySet::new(Vec::new())
        });
        Self { jwt, oidc }
    }
}

impl JwtKey {
    fn parse(raw: &Value) -> Option<Self> {
        if raw.get("use").and_then(Value::as_str) == Some("enc") {
            return None;
        }
        let jwk: Jwk = serde_json::from_value(raw.clone()).ok()?;
        let key = DecodingKey::from_jwk(&jwk).ok()?;
        Some(Self {
            kid: jwk.common.key_id.clone(),
            alg: raw.get("alg").and_then(Value::as_str).map(str::to_owned),
            key,
        })
    }
}

pub(crate) struct KeyCache {
    current: RwLock<Arc<Keys>>,
    /// Held while downloading; remembers when the last download started.
    last_download: tokio::sync::Mutex<Option<Instant>>,
    min_refresh: Duration,
}

impl KeyCache {
    pub(crate) fn new(min_refresh: Duration) -> Self {
        Self {
            current: RwLock::new(Arc::new(Keys::default())),
            last_download: tokio::sync::Mutex::new(None),
            min_refresh,
        }
    }

    /// Keys that know `kid` if the provider has it: the cached set, or a fresh
    /// download when the cache lacks `kid` and the rate limit allows one. A
    /// failed download is logged and leaves the cached set in place.
    pub(crate) async fn keys_for(
        &self,
        http: &reqwest::Client,
        jwks_uri: &str,
        kid: Option<&str>,
    ) -> Arc<Keys> {
        let cached = self.snapshot();
        if cached.knows(kid) {
            return cached;
        }
        let mut last_download = self.last_download.lock().await;
        // Someone else may have downloaded while we waited for the lock.
        let cached = self.snapshot();
        if cached.knows(kid) {
            return cached;
        }
        if last_download.is_some_and(|at| at.elapsed() < self.min_refresh) {
            return cached;
        }
        *last_download = Some(Instant::now());
        match download(http, jwks_uri).await {
            Ok(document) => {
                let keys = Arc::new(Keys::parse(&document));
                tracing::info!(
                    keys = keys.jwt.len(),
                    "downloaded the identity provider's signing keys"
                );
                *self
                    .current
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = keys.clone();
                keys
            }
            Err(error) => {
                tracing::warn!(error = %error, jwks_uri, "cannot download the identity provider's signing keys");
                cached
            }
        }
    }

    fn snapshot(&self) -> Arc<Keys> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

async fn download(http: &reqwest::Client, jwks_uri: &str) -> Result<Value, reqwest::Error> {
    http.get(jwks_uri)
        .send()
        .await?
        .error_for_status()?
        .json::<Value>()
        .await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The RSA public key of RFC 7517, appendix A.1.
    fn rsa_jwk(kid: &str, alg: Option<&str>) -> Value {
        let mut key = json!({
            "kty": "RSA", "kid": kid, "use": "sig", "e": "AQAB",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        });
        if let Some(alg) = alg {
            key["alg"] = json!(alg);
        }
        key
    }

    #[test]
    fn finds_keys_by_kid_and_respects_pinned_algorithms() {
        let keys = Keys::parse(&json!({"keys": [rsa_jwk("a", Some("RS256")), rsa_jwk("b", None)]}));
        assert!(keys.knows(Some("a")) && keys.knows(Some("b")) && !keys.knows(Some("c")));
        assert!(keys.for_token(Some("a"), Algorithm::RS256).is_some());
        assert!(
            keys.for_token(Some("a"), Algorithm::PS256).is_none(),
            "alg pinned to RS256"
        );
        assert!(keys.for_token(Some("b"), Algorithm::PS256).is_some());
        assert!(
            keys.for_token(None, Algorithm::RS256).is_none(),
            "ambiguous without kid"
        );
    }

    /// Unknown key ids trigger at most one download per `min_refresh`.
    #[tokio::test]
    async fn refreshes_for_unknown_kids_at_most_once_per_interval() {
        use std::sync::atomic::{AtomicUsize, Ordering};

        let downloads = Arc::new(AtomicUsize::new(0));
        let counter = downloads.clone();
        let app = axum::Router::new().route(
            "/jwks",
            axum::routing::get(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async { axum::Json(json!({"keys": [rsa_jwk("a", None)]})) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let http = reqwest::Client::new();

        let cache = KeyCache::new(Duration::from_secs(60));
        assert!(
            cache
                .keys_for(&http, &url, Some("a"))
                .await
                .knows(Some("a"))
        );
        assert!(
            cache
                .keys_for(&http, &url, Some("a"))
                .await
                .knows(Some("a"))
        );
        assert_eq!(downloads.load(Ordering::SeqCst), 1, "known kid: cached");
        for _ in 0..5 {
            assert!(
                !cache
                    .keys_for(&http, &url, Some("made-up"))
                    .await
                    .knows(Some("made-up"))
            );
        }
        assert_eq!(downloads.load(Ordering::SeqCst), 1, "rate-limited");

        let eager = KeyCache::new(Duration::ZERO);
        eager.keys_for(&http, &url, Some("a")).await;
        eager.keys_for(&http, &url, Some("b")).await;
        assert_eq!(
            downloads.load(Ordering::SeqCst),
            3,
            "no limit: one download per miss"
        );
    }

    #[test]
    fn skips_encryption_and_unreadable_keys() {
        let mut enc = rsa_jwk("e", None);
        enc["use"] = json!("enc");
        let keys = Keys::parse(&json!({"keys": [enc, {"kty": "weird"}, rsa_jwk("s", None)]}));
        assert!(!keys.knows(Some("e")));
        assert!(
            keys.for_token(None, Algorithm::RS256).is_some(),
            "one usable key left"
        );
    }
}
