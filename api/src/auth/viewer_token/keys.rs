//! [`ViewerTokenKeys`]: this process's view of the viewer-token key ring —
//! the key it signs with and the public keys it accepts and publishes — kept
//! in the database so every replica shares it.
//!
//! - Start-up ([`ViewerTokenKeys::load`]): the stored ring, or a new one
//!   stored now (insert-if-absent, so replicas starting together agree);
//!   then [`KeyRing::settle`] makes it fit this process (the configured key
//!   current, expired keys dropped), written back by compare-and-swap.
//! - Verifying reads memory only. A token naming a `kid` this process does not
//!   know re-reads the ring (a replica that just rotated signs with a key the
//!   others have not seen), at most once per `reload_interval` however many
//!   made-up `kid`s arrive, single-flight; the JWKS re-reads a ring older than
//!   [`PUBLISHED_MAX_AGE`], so every replica publishes a rotation soon.
//! - [`ViewerTokenKeys::rotate`] replaces a generated key (tests, and a future
//!   admin operation); a configured key rotates by changing the setting.
//!
//! A replica adopts a new generated current key when it re-reads the ring;
//! until then it signs with the previous one, which stays valid for the
//! longest token lifetime (plus `ring::CLOCK_SKEW`).

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jsonwebtoken::DecodingKey;
use sea_orm::DatabaseConnection;

use super::KeyRingError;
use super::ring::{CurrentKey, KeyRing};
use super::signing_key::{PublicKey, ViewerSigningKey};
use super::snapshot::Snapshot;
use crate::store;

/// Shortest time between two re-reads for unknown `kid`s.
const RELOAD_INTERVAL: Duration = Duration::from_secs(5);
/// Oldest ring the JWKS is answered from.
const PUBLISHED_MAX_AGE: Duration = Duration::from_secs(60);
/// Compare-and-swap attempts before giving up (each lost one means another
/// replica changed the ring meanwhile).
const SWAP_ATTEMPTS: usize = 5;

/// Cheap to clone; all clones share one ring.
#[derive(Clone)]
pub(crate) struct ViewerTokenKeys {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    /// `AUDITLOG_VIEWER_TOKEN_KEY`; `None`: the ring's generated key signs.
    configured: Option<ViewerSigningKey>,
    snapshot: RwLock<Arc<Snapshot>>,
    /// Held while re-reading (single flight); when the last re-read started
    /// (`None`: not since start-up).
    last_read: tokio::sync::Mutex<Option<Instant>>,
    reload_interval: Duration,
}

impl ViewerTokenKeys {
    /// The ring at start-up (see the module header). Fails on an unreadable
    /// stored ring or a database error; the message never holds key material.
    pub(crate) async fn load(
        db: DatabaseConnection,
        configured: Option<ViewerSigningKey>,
        now: DateTime<Utc>,
    ) -> Result<Self, KeyRingError> {
        let first = match &configured {
            Some(key) => CurrentKey::configured(key, now),
            None => CurrentKey::generated(ViewerSigningKey::generate(), now),
        };
        let candidate = KeyRing::new(first).to_json()?;
        let stored = store::instance::viewer_token_keys(&db, candidate).await?;
        let (stored, ring) =
            swap(&db, stored, |ring| ring.settle(configured.as_ref(), now)).await?;
        let snapshot = Snapshot::build(stored, &ring, configured.as_ref(), None)?;
        tracing::info!(
            kid = snapshot.signer.kid,
            configured = configured.is_some(),
            published = snapshot.published(now).count(),
            "viewer-token signing key loaded"
        );
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                configured,
                snapshot: RwLock::new(Arc::new(snapshot)),
                last_read: tokio::sync::Mutex::new(None),
                reload_interval: RELOAD_INTERVAL,
            }),
        })
    }

    /// The same ring with another minimum time between re-reads (tests).
    #[cfg(test)]
    pub(super) fn with_reload_interval(self, reload_interval: Duration) -> Self {
        let inner = Inner {
            db: self.inner.db.clone(),
            configured: self.inner.configured.clone(),
            snapshot: RwLock::new(self.snapshot()),
            last_read: tokio::sync::Mutex::new(None),
            reload_interval,
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Replaces the current (generated) key with a new one, which this process
    /// signs with from now on; the old one retires at `now`. Other replicas
    /// see it at their next re-read.
    pub(crate) async fn rotate(&self, now: DateTime<Utc>) -> Result<(), KeyRingError> {
        if self.inner.configured.is_some() {
            return Err(KeyRingError::Configured);
        }
        let next = ViewerSigningKey::generate();
        // The snapshot has one writer at a time: re-reads wait for this.
        let _writing = self.inner.last_read.lock().await;
        let current = self.snapshot();
        let (stored, ring) = swap(&self.inner.db, current.stored.clone(), |ring| {
            ring.rotate_to(CurrentKey::generated(next.clone(), now), now);
            true
        })
        .await?;
        self.replace(Snapshot::build(stored, &ring, None, Some(&current.signer))?);
        Ok(())
    }

    /// The key that verifies a token signed under `kid` at `now`: from memory,
    /// or after one re-read if `kid` is unknown (rate-limited). `None` for
    /// unknown `kid`s and for retired keys past their time.
    pub(super) async fn decoding_key(&self, kid: &str, now: DateTime<Utc>) -> Option<DecodingKey> {
        if let Some(found) = self.snapshot().lookup(kid, now) {
            return found;
        }
        self.reload(self.inner.reload_interval, |snapshot| {
            snapshot.lookup(kid, now).is_some()
        })
        .await;
        self.snapshot().lookup(kid, now).flatten()
    }

    /// `GET /.well-known/jwks.json`: every key that verifies at `now`.
    pub(crate) async fn jwks(&self, now: DateTime<Utc>) -> serde_json::Value {
        self.reload(PUBLISHED_MAX_AGE, |_| false).await;
        let keys: Vec<serde_json::Value> =
            self.snapshot().published(now).map(PublicKey::jwk).collect();
        serde_json::json!({ "keys": keys })
    }

    /// The `kid` new tokens are signed with.
    pub(crate) fn signing_kid(&self) -> String {
        self.snapshot().signer.kid.clone()
    }

    pub(super) fn snapshot(&self) -> Arc<Snapshot> {
        self.inner
            .snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn replace(&self, snapshot: Snapshot) {
        *self
            .inner
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(snapshot);
    }

    /// Re-reads the ring unless `satisfied` already holds (someone re-read
    /// while we waited) or the last read is younger than `min_interval`. A
    /// failure is logged and keeps the ring in memory.
    async fn reload(&self, min_interval: Duration, satisfied: impl Fn(&Snapshot) -> bool) {
        let mut last_read = self.inner.last_read.lock().await;
        if satisfied(&self.snapshot()) || last_read.is_some_and(|at| at.elapsed() < min_interval) {
            return;
        }
        *last_read = Some(Instant::now());
        let current = self.snapshot();
        let stored = match store::instance::read_viewer_token_keys(&self.inner.db).await {
            Ok(Some(stored)) if stored == current.stored => return,
            Ok(Some(stored)) => stored,
            Ok(None) => {
                tracing::warn!(
                    "the viewer-token key ring is gone from the database; keeping the loaded one"
                );
                return;
            }
            Err(error) => {
                tracing::warn!(error = %error, "cannot re-read the viewer-token key ring; keeping the loaded one");
                return;
            }
        };
        let rebuilt = KeyRing::parse(&stored).and_then(|ring| {
            Snapshot::build(
                stored,
                &ring,
                self.inner.configured.as_ref(),
                Some(&current.signer),
            )
        });
        match rebuilt {
            Ok(snapshot) => {
                tracing::info!(
                    kid = snapshot.signer.kid,
                    "re-read the viewer-token key ring"
                );
                self.replace(snapshot);
            }
            Err(error) => {
                tracing::warn!(error = %error, "the stored viewer-token key ring is unusable; keeping the loaded one");
            }
        }
    }
}

/// Applies `change` to the stored ring and writes it back if it changed,
/// by compare-and-swap; on a lost race re-reads and applies it again.
async fn swap(
    db: &DatabaseConnection,
    mut stored: String,
    mut change: impl FnMut(&mut KeyRing) -> bool,
) -> Result<(String, KeyRing), KeyRingError> {
    for _ in 0..SWAP_ATTEMPTS {
        let mut ring = KeyRing::parse(&stored)?;
        if !change(&mut ring) {
            return Ok((stored, ring));
        }
        let replacement = ring.to_json()?;
        if store::instance::replace_viewer_token_keys(db, &stored, replacement.clone()).await? {
            tracing::info!(
                kid = ring.current().public().kid(),
                retired = ring.retired().len(),
                "changed the viewer-token key ring"
            );
            return Ok((replacement, ring));
        }
        stored = store::instance::read_viewer_token_keys(db)
            .await?
            .ok_or_else(|| KeyRingError::Corrupt("the stored ring disappeared".into()))?;
    }
    Err(KeyRingError::Contended)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::auth::viewer_token::TokenLifetime;
    use crate::auth::viewer_token::signing_key::tests::{RFC8037_KID, RFC8037_PEM};

    /// A migrated in-memory SQLite database (one connection, so one database).
    pub(crate) async fn database() -> DatabaseConnection {
        let db = crate::db::connect_url("sqlite::memory:", 1).await.unwrap();
        crate::db::migrate(&db).await.unwrap();
        db
    }

    fn published(jwks: &serde_json::Value) -> Vec<String> {
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|key| key["kid"].as_str().unwrap().to_owned())
            .collect()
    }

    #[tokio::test]
    async fn replicas_on_one_database_share_the_generated_key() {
        let db = database().await;
        let now = Utc::now();
        let first = ViewerTokenKeys::load(db.clone(), None, now).await.unwrap();
        let second = ViewerTokenKeys::load(db, None, now).await.unwrap();
        assert_eq!(first.signing_kid(), second.signing_kid());
        assert_eq!(first.jwks(now).await, second.jwks(now).await);
        assert_eq!(published(&first.jwks(now).await), [first.signing_kid()]);
    }

    #[tokio::test]
    async fn a_configured_key_becomes_current_and_the_generated_one_stays_published() {
        let db = database().await;
        let now = Utc::now();
        let generated = ViewerTokenKeys::load(db.clone(), None, now).await.unwrap();
        let key = ViewerSigningKey::from_pkcs8_pem(RFC8037_PEM).unwrap();
        let configured = ViewerTokenKeys::load(db.clone(), Some(key.clone()), now)
            .await
            .unwrap();
        assert_eq!(configured.signing_kid(), RFC8037_KID);
        assert_eq!(
            published(&configured.jwks(now).await),
            [RFC8037_KID.to_owned(), generated.signing_kid()]
        );
        let stored = store::instance::read_viewer_token_keys(&db)
            .await
            .unwrap()
            .unwrap();
        assert!(!stored.contains("private_key_pkcs8"), "{stored}");
        assert!(matches!(
            configured.rotate(now).await,
            Err(KeyRingError::Configured)
        ));
        // Restarting with the same key changes nothing.
        let again = ViewerTokenKeys::load(db.clone(), Some(key), now)
            .await
            .unwrap();
        assert_eq!(again.snapshot().stored, configured.snapshot().stored);
    }

    #[tokio::test]
    async fn an_unknown_kid_rereads_the_ring_at_most_once_per_interval() {
        let db = database().await;
        let now = Utc::now();
        let rotating = ViewerTokenKeys::load(db.clone(), None, now).await.unwrap();
        let other = ViewerTokenKeys::load(db, None, now)
            .await
            .unwrap()
            .with_reload_interval(Duration::from_secs(3600));
        let old = rotating.signing_kid();

        rotating.rotate(now).await.unwrap();
        let new = rotating.signing_kid();
        assert_ne!(new, old);
        assert!(other.decoding_key(&new, now).await.is_some(), "re-read");
        assert_eq!(other.signing_kid(), new, "adopted the new generated key");
        assert!(
            other.decoding_key(&old, now).await.is_some(),
            "retired, still valid"
        );

        rotating.rotate(now).await.unwrap();
        let newest = rotating.signing_kid();
        assert!(
            other.decoding_key(&newest, now).await.is_none(),
            "the next re-read waits for the interval"
        );
        assert!(rotating.decoding_key(&newest, now).await.is_some());
        let later = now + TokenLifetime::MAX + chrono::Duration::minutes(6);
        assert!(
            rotating.decoding_key(&old, later).await.is_none(),
            "past its time a retired key verifies nothing"
        );
    }
}
