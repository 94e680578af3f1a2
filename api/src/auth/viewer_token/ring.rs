//! [`KeyRing`]: the viewer-token keys as one value, in memory and as the JSON
//! kept in `instance_settings` (`viewer_token_keys`), and the rules that
//! change it. Pure: reading and writing the database is `keys`' job.
//!
//! The ring has one current key (it signs) and the retired ones (they still
//! verify). A retired key is kept, accepted and published until
//! [`retired_key_valid_until`]: its retirement plus the longest token lifetime
//! (a token signed just before the rotation lives that long) plus
//! [`CLOCK_SKEW`]; then the next change of the ring drops it.
//!
//! Stored format (version 1), newest key first:
//!
//! ```json
//! {"version":1,"keys":[
//!   {"kid":"…","public_key":"<JWK x>","private_key_pkcs8":"<base64 DER>","created_at":"…"},
//!   {"kid":"…","public_key":"<JWK x>","created_at":"…","retired_at":"…"}]}
//! ```
//!
//! Private keys are stored only for the current key, and only when it was
//! generated here: a configured key (`AUDITLOG_VIEWER_TOKEN_KEY`) lives in the
//! operator's secret store and is not copied into the database, and a retired
//! key signs nothing any more, so its private half is dropped when it retires.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::signing_key::{PublicKey, ViewerSigningKey};
use super::{KeyRingError, TokenLifetime};

/// Slack for clocks of replicas that disagree, and for a token minted by a
/// replica that had not yet seen a rotation.
pub(crate) const CLOCK_SKEW: Duration = Duration::minutes(5);

const FORMAT_VERSION: u32 = 1;

/// Until when a key retired at `retired_at` verifies tokens.
pub(crate) fn retired_key_valid_until(retired_at: DateTime<Utc>) -> DateTime<Utc> {
    retired_at + TokenLifetime::MAX + CLOCK_SKEW
}

#[derive(Clone, Debug)]
pub(crate) struct KeyRing {
    current: CurrentKey,
    /// Newest first.
    retired: Vec<RetiredKey>,
}

/// The key new tokens are signed with.
#[derive(Clone, Debug)]
pub(crate) struct CurrentKey {
    public: PublicKey,
    /// Present when generated here (then every replica signs with it).
    private: Option<ViewerSigningKey>,
    created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub(crate) struct RetiredKey {
    pub(crate) public: PublicKey,
    created_at: DateTime<Utc>,
    pub(crate) retired_at: DateTime<Utc>,
}

impl CurrentKey {
    /// A key generated here: the ring keeps its private half for all replicas.
    pub(crate) fn generated(key: ViewerSigningKey, now: DateTime<Utc>) -> Self {
        Self {
            public: key.public_key().clone(),
            private: Some(key),
            created_at: now,
        }
    }

    /// A configured key: the ring publishes it but does not store it.
    pub(crate) fn configured(key: &ViewerSigningKey, now: DateTime<Utc>) -> Self {
        Self {
            public: key.public_key().clone(),
            private: None,
            created_at: now,
        }
    }

    pub(crate) fn public(&self) -> &PublicKey {
        &self.public
    }

    pub(crate) fn private(&self) -> Option<&ViewerSigningKey> {
        self.private.as_ref()
    }
}

impl KeyRing {
    pub(crate) fn new(current: CurrentKey) -> Self {
        Self {
            current,
            retired: Vec::new(),
        }
    }

    pub(crate) fn current(&self) -> &CurrentKey {
        &self.current
    }

    pub(crate) fn retired(&self) -> &[RetiredKey] {
        &self.retired
    }

    /// Makes the ring fit this process at start-up; true if it changed. The
    /// current key must be the configured one if there is one, else one
    /// whose private half the ring has (if the current one is another
    /// replica's configured key, a new key is generated); retired keys whose
    /// time is up are dropped.
    pub(crate) fn settle(
        &mut self,
        configured: Option<&ViewerSigningKey>,
        now: DateTime<Utc>,
    ) -> bool {
        let mut changed = self.prune(now);
        match configured {
            Some(key) if key.kid() != self.current.public.kid() => {
                self.rotate_to(CurrentKey::configured(key, now), now);
                changed = true;
            }
            None if self.current.private.is_none() => {
                self.rotate_to(
                    CurrentKey::generated(ViewerSigningKey::generate(), now),
                    now,
                );
                changed = true;
            }
            _ => {}
        }
        changed
    }

    /// Makes `next` current; the current key retires at `now` (and loses its
    /// private half). A key coming back (a configuration changed back)
    /// replaces its retired entry.
    pub(crate) fn rotate_to(&mut self, next: CurrentKey, now: DateTime<Utc>) {
        if next.public.kid() == self.current.public.kid() {
            self.current = next;
            return;
        }
        self.retired
            .retain(|key| key.public.kid() != next.public.kid());
        let previous = std::mem::replace(&mut self.current, next);
        self.retired.insert(
            0,
            RetiredKey {
                public: previous.public,
                created_at: previous.created_at,
                retired_at: now,
            },
        );
        self.prune(now);
    }

    /// Drops retired keys no token they signed can still be valid for; true
    /// if there were any.
    pub(crate) fn prune(&mut self, now: DateTime<Utc>) -> bool {
        let before = self.retired.len();
        self.retired
            .retain(|key| now < retired_key_valid_until(key.retired_at));
        self.retired.len() != before
    }

    /// Reads the stored JSON, checking every key: each `kid` must be its
    /// key's thumbprint and exactly one key must be current. Errors never
    /// quote the value (it holds a private key).
    pub(crate) fn parse(text: &str) -> Result<Self, KeyRingError> {
        let stored: StoredRing = serde_json::from_str(text).map_err(|error| {
            KeyRingError::Corrupt(format!(
                "not the expected JSON (line {}, column {})",
                error.line(),
                error.column()
            ))
        })?;
        if stored.version != FORMAT_VERSION {
            return Err(KeyRingError::Corrupt(format!(
                "format version {}, this version reads {FORMAT_VERSION}",
                stored.version
            )));
        }
        let mut current = None;
        let mut retired = Vec::new();
        for key in stored.keys {
            let public = PublicKey::from_x(&key.public_key)?;
            if public.kid() != key.kid {
                return Err(KeyRingError::Corrupt(format!(
                    "kid {:?} is not its key's thumbprint",
                    key.kid
                )));
            }
            match key.retired_at {
                Some(retired_at) => retired.push(RetiredKey {
                    public,
                    created_at: key.created_at,
                    retired_at,
                }),
                None if current.is_some() => {
                    return Err(KeyRingError::Corrupt("two current keys".into()));
                }
                None => {
                    let private = key
                        .private_key_pkcs8
                        .map(|encoded| private_key(&encoded, &public))
                        .transpose()?;
                    current = Some(CurrentKey {
                        public,
                        private,
                        created_at: key.created_at,
                    });
                }
            }
        }
        let current = current.ok_or_else(|| KeyRingError::Corrupt("no current key".into()))?;
        retired.sort_by_key(|key| std::cmp::Reverse(key.retired_at));
        Ok(Self { current, retired })
    }

    /// The stored JSON (see the module header).
    pub(crate) fn to_json(&self) -> Result<String, KeyRingError> {
        let private_key_pkcs8 = self
            .current
            .private
            .as_ref()
            .map(|key| {
                key.to_pkcs8_der()
                    .map(|der| STANDARD.encode(der.as_slice()))
            })
            .transpose()?;
        let mut keys = vec![StoredKey {
            kid: self.current.public.kid().to_owned(),
            public_key: self.current.public.x(),
            private_key_pkcs8,
            created_at: self.current.created_at,
            retired_at: None,
        }];
        keys.extend(self.retired.iter().map(|key| StoredKey {
            kid: key.public.kid().to_owned(),
            public_key: key.public.x(),
            private_key_pkcs8: None,
            created_at: key.created_at,
            retired_at: Some(key.retired_at),
        }));
        serde_json::to_string(&StoredRing {
            version: FORMAT_VERSION,
            keys,
        })
        .map_err(|error| KeyRingError::Corrupt(format!("cannot encode the ring ({error})")))
    }
}

/// A stored private key, which must belong to the public key beside it.
fn private_key(encoded: &str, public: &PublicKey) -> Result<ViewerSigningKey, KeyRingError> {
    let der = Zeroizing::new(
        STANDARD
            .decode(encoded)
            .map_err(|_| KeyRingError::Corrupt("a private key is not base64".into()))?,
    );
    let key = ViewerSigningKey::from_pkcs8_der(&der)
        .map_err(|_| KeyRingError::Corrupt("a private key is not Ed25519 PKCS#8".into()))?;
    if key.kid() != public.kid() {
        return Err(KeyRingError::Corrupt(format!(
            "the private key of {:?} belongs to another public key",
            public.kid()
        )));
    }
    Ok(key)
}

#[derive(Serialize, Deserialize)]
struct StoredRing {
    version: u32,
    keys: Vec<StoredKey>,
}

/// No `Debug`: it may hold a private key.
#[derive(Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    /// The JWK `x`: base64url of the 32-byte public key.
    public_key: String,
    /// Base64 of the PKCS#8 DER private key (a generated current key only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    private_key_pkcs8: Option<String>,
    created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retired_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::viewer_token::signing_key::tests::{RFC8037_KID, RFC8037_PEM};

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn kids(ring: &KeyRing) -> Vec<String> {
        std::iter::once(ring.current().public().kid())
            .chain(ring.retired().iter().map(|key| key.public.kid()))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn a_generated_ring_round_trips_with_its_private_key() {
        let key = ViewerSigningKey::generate();
        let ring = KeyRing::new(CurrentKey::generated(key.clone(), at(0)));
        let json = ring.to_json().unwrap();
        let back = KeyRing::parse(&json).unwrap();
        assert_eq!(
            back.current().private().map(ViewerSigningKey::kid),
            Some(key.kid())
        );
        assert_eq!(back.to_json().unwrap(), json);
    }

    #[test]
    fn configured_and_retired_keys_store_no_private_half() {
        let configured = ViewerSigningKey::from_pkcs8_pem(RFC8037_PEM).unwrap();
        let mut ring = KeyRing::new(CurrentKey::generated(ViewerSigningKey::generate(), at(0)));
        assert!(ring.settle(Some(&configured), at(10)));
        let json = ring.to_json().unwrap();
        assert!(!json.contains("private_key_pkcs8"), "{json}");
        let back = KeyRing::parse(&json).unwrap();
        assert_eq!(back.current().public().kid(), RFC8037_KID);
        assert!(back.current().private().is_none());
        assert_eq!(back.retired().len(), 1);
        assert!(
            !back.clone().settle(Some(&configured), at(20)),
            "already settled"
        );
    }

    #[test]
    fn retired_keys_are_kept_for_the_longest_lifetime_plus_skew() {
        let mut ring = KeyRing::new(CurrentKey::generated(ViewerSigningKey::generate(), at(0)));
        let first = ring.current().public().kid().to_owned();
        ring.rotate_to(
            CurrentKey::generated(ViewerSigningKey::generate(), at(100)),
            at(100),
        );
        assert_eq!(ring.retired()[0].retired_at, at(100));
        let until = retired_key_valid_until(at(100));
        assert_eq!(until, at(100 + 86_400 + 300));
        assert!(!ring.prune(until - Duration::seconds(1)));
        assert_eq!(kids(&ring)[1], first);
        assert!(ring.prune(until));
        assert_eq!(kids(&ring).len(), 1);
    }

    #[test]
    fn an_unconfigured_process_replaces_a_key_it_cannot_sign_with() {
        let configured = ViewerSigningKey::from_pkcs8_pem(RFC8037_PEM).unwrap();
        let mut ring = KeyRing::new(CurrentKey::configured(&configured, at(0)));
        assert!(ring.settle(None, at(5)));
        assert!(ring.current().private().is_some());
        assert_eq!(ring.retired()[0].public.kid(), RFC8037_KID);
        assert!(!ring.settle(None, at(6)));
        // Configured again: the key comes back and is listed once.
        assert!(ring.settle(Some(&configured), at(7)));
        let listed = kids(&ring);
        assert_eq!(listed.iter().filter(|kid| *kid == RFC8037_KID).count(), 1);
        assert_eq!(listed.len(), 2);
    }

    #[test]
    fn corrupt_rings_are_refused_without_quoting_them() {
        let key = ViewerSigningKey::generate();
        let ring = KeyRing::new(CurrentKey::generated(key, at(0)));
        let json = ring.to_json().unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let secret = value["keys"][0]["private_key_pkcs8"]
            .as_str()
            .unwrap()
            .to_owned();
        let edit = |change: &dyn Fn(&mut serde_json::Value)| {
            let mut copy = value.clone();
            change(&mut copy);
            copy.to_string()
        };
        let other = ViewerSigningKey::generate();
        let cases = [
            "{".to_owned(),
            format!("{{\"version\":1,\"keys\":[{{\"kid\":5,\"x\":\"{secret}\"}}]}}"),
            edit(&|v| v["version"] = 2.into()),
            edit(&|v| v["keys"] = serde_json::json!([])),
            edit(&|v| v["keys"][0]["kid"] = "forged".into()),
            edit(&|v| v["keys"][0]["public_key"] = other.public_key().x().into()),
            edit(&|v| {
                v["keys"][0]["kid"] = other.kid().into();
                v["keys"][0]["public_key"] = other.public_key().x().into();
            }),
            edit(&|v| v["keys"][0]["private_key_pkcs8"] = "AAAA".into()),
            edit(&|v| {
                let first = v["keys"][0].clone();
                v["keys"].as_array_mut().unwrap().push(first);
            }),
        ];
        for case in cases {
            let error = KeyRing::parse(&case).unwrap_err().to_string();
            assert!(!error.contains(&secret), "{error}");
            assert!(error.contains("unreadable"), "{error}");
        }
    }
}
