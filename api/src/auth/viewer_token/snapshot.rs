//! [`Snapshot`]: one state of the key ring as this process uses it — the key
//! it signs with and the keys it verifies with, each until when — built from
//! the stored ring and replaced whole when the ring changes.

use chrono::{DateTime, Utc};
use jsonwebtoken::{DecodingKey, EncodingKey};

use super::KeyRingError;
use super::ring::{KeyRing, retired_key_valid_until};
use super::signing_key::{PublicKey, ViewerSigningKey};

/// One state of the ring, replaced whole.
pub(super) struct Snapshot {
    /// The stored text it was built from: what the next swap expects.
    pub(super) stored: String,
    pub(super) signer: Signer,
    verifiers: Vec<Verifier>,
}

/// The key this process signs with. No `Debug`: it holds the private key.
#[derive(Clone)]
pub(super) struct Signer {
    pub(super) kid: String,
    pub(super) key: EncodingKey,
    pub(super) public: PublicKey,
}

struct Verifier {
    public: PublicKey,
    key: DecodingKey,
    /// `None` for the current key.
    valid_until: Option<DateTime<Utc>>,
}

impl Verifier {
    fn valid_at(&self, now: DateTime<Utc>) -> bool {
        self.valid_until.is_none_or(|until| now < until)
    }
}

impl Snapshot {
    /// The snapshot of `ring` for this process. It signs with the configured
    /// key, else the ring's current one, else (the current key is another
    /// replica's configured key) with the key it signed with before, which
    /// it then also accepts.
    pub(super) fn build(
        stored: String,
        ring: &KeyRing,
        configured: Option<&ViewerSigningKey>,
        previous: Option<&Signer>,
    ) -> Result<Self, KeyRingError> {
        let signer = match configured.or(ring.current().private()) {
            Some(key) => Signer {
                kid: key.kid().to_owned(),
                key: key.encoding_key()?,
                public: key.public_key().clone(),
            },
            None => previous.cloned().ok_or_else(|| {
                KeyRingError::Corrupt("the current key has no private half to sign with".into())
            })?,
        };
        let current = std::iter::once((ring.current().public(), None));
        let retired = ring
            .retired()
            .iter()
            .map(|key| (&key.public, Some(retired_key_valid_until(key.retired_at))));
        let mut verifiers: Vec<Verifier> = current
            .chain(retired)
            .map(|(public, valid_until)| Verifier {
                key: public.decoding_key(),
                public: public.clone(),
                valid_until,
            })
            .collect();
        if !verifiers.iter().any(|v| v.public.kid() == signer.kid) {
            verifiers.push(Verifier {
                key: signer.public.decoding_key(),
                public: signer.public.clone(),
                valid_until: None,
            });
        }
        Ok(Self {
            stored,
            signer,
            verifiers,
        })
    }

    /// The keys that verify at `now`, current first (the JWKS).
    pub(super) fn published(&self, now: DateTime<Utc>) -> impl Iterator<Item = &PublicKey> {
        self.verifiers
            .iter()
            .filter(move |verifier| verifier.valid_at(now))
            .map(|verifier| &verifier.public)
    }

    /// `None`: `kid` is unknown; `Some(None)`: known but no longer valid.
    pub(super) fn lookup(&self, kid: &str, now: DateTime<Utc>) -> Option<Option<DecodingKey>> {
        self.verifiers
            .iter()
            .find(|verifier| verifier.public.kid() == kid)
            .map(|verifier| verifier.valid_at(now).then(|| verifier.key.clone()))
    }
}
