//! One Ed25519 key of the viewer-token ring: [`ViewerSigningKey`] (the private
//! key, parsed at the edge from PKCS#8 PEM or DER, or generated) and
//! [`PublicKey`] (what is published and verifies), each named by its `kid`.
//!
//! The keys themselves are `auditlog_worker::ed25519`'s, which tree heads are
//! signed with too: the `kid` is the RFC 7638 JWK thumbprint of the public key
//! (SHA-256 of `{"crv":"Ed25519","kty":"OKP","x":"…"}`, base64url), so it is
//! derived, not chosen: the same key has the same `kid` on every replica and
//! in every JWKS, and a stored `kid` can be checked against its key. This
//! module adds what viewer tokens need on top: `jsonwebtoken`'s key types and
//! the ring's error type.
//!
//! Private key bytes never leave these types except as PKCS#8 DER for the
//! database (and for `jsonwebtoken`), and no `Debug` prints them.

use std::fmt;

use auditlog_worker::ed25519;
use jsonwebtoken::{DecodingKey, EncodingKey};
use zeroize::Zeroizing;

use super::KeyRingError;

/// An Ed25519 private key and its `kid`.
#[derive(Clone)]
pub(crate) struct ViewerSigningKey {
    key: ed25519::SigningKey,
    public: PublicKey,
}

impl fmt::Debug for ViewerSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ViewerSigningKey")
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

impl ViewerSigningKey {
    /// A new key from the operating system's randomness.
    pub(crate) fn generate() -> Self {
        Self::from(ed25519::SigningKey::generate())
    }

    /// `AUDITLOG_VIEWER_TOKEN_KEY`: a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`,
    /// what `openssl genpkey -algorithm ed25519` writes). The error says what
    /// is wrong, never what the value was.
    pub(crate) fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyRingError> {
        ed25519::SigningKey::from_pkcs8_pem(pem)
            .map(Self::from)
            .map_err(|error| KeyRingError::InvalidKey(error.to_string()))
    }

    /// A key as stored in the database (PKCS#8 DER).
    pub(crate) fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyRingError> {
        ed25519::SigningKey::from_pkcs8_der(der)
            .map(Self::from)
            .map_err(|error| KeyRingError::InvalidKey(error.to_string()))
    }

    pub(crate) fn kid(&self) -> &str {
        self.key.kid()
    }

    pub(crate) fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// PKCS#8 DER, wiped from memory when dropped.
    pub(crate) fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyRingError> {
        self.key
            .to_pkcs8_der()
            .map_err(|error| KeyRingError::InvalidKey(error.to_string()))
    }

    /// The key as `jsonwebtoken` signs with it (it takes PKCS#8 DER).
    pub(crate) fn encoding_key(&self) -> Result<EncodingKey, KeyRingError> {
        Ok(EncodingKey::from_ed_der(&self.to_pkcs8_der()?))
    }
}

impl From<ed25519::SigningKey> for ViewerSigningKey {
    fn from(key: ed25519::SigningKey) -> Self {
        let public = PublicKey(key.public_key().clone());
        Self { key, public }
    }
}

/// An Ed25519 public key and its `kid`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PublicKey(ed25519::PublicKey);

impl PublicKey {
    /// A stored key: the JWK `x` (base64url of the 32 bytes), which must be a
    /// point on the curve.
    pub(crate) fn from_x(x: &str) -> Result<Self, KeyRingError> {
        ed25519::PublicKey::from_x(x)
            .map(Self)
            .map_err(|error| KeyRingError::Corrupt(error.to_string()))
    }

    pub(crate) fn kid(&self) -> &str {
        self.0.kid()
    }

    /// The JWK `x` parameter.
    pub(crate) fn x(&self) -> String {
        self.0.x()
    }

    /// The key as `jsonwebtoken` verifies with it. Despite its name,
    /// `from_ed_der` takes the raw 32 bytes for EdDSA.
    pub(crate) fn decoding_key(&self) -> DecodingKey {
        DecodingKey::from_ed_der(&self.0.bytes())
    }

    /// The JWKS entry.
    pub(crate) fn jwk(&self) -> serde_json::Value {
        self.0.jwk()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The Ed25519 key of RFC 8037, appendix A.1, as PKCS#8 PEM.
    pub(crate) const RFC8037_PEM: &str = "-----BEGIN PRIVATE KEY-----\n\
        MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n\
        -----END PRIVATE KEY-----\n";
    /// Its public key (A.2) and its RFC 7638 thumbprint (A.3).
    pub(crate) const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    pub(crate) const RFC8037_KID: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

    #[test]
    fn the_kid_is_the_rfc_7638_thumbprint() {
        let key = ViewerSigningKey::from_pkcs8_pem(RFC8037_PEM).unwrap();
        assert_eq!(key.public_key().x(), RFC8037_X);
        assert_eq!(key.kid(), RFC8037_KID);
        assert_eq!(PublicKey::from_x(RFC8037_X).unwrap(), *key.public_key());
    }

    #[test]
    fn keys_survive_pkcs8_der_and_generated_keys_differ() {
        let key = ViewerSigningKey::generate();
        let der = key.to_pkcs8_der().unwrap();
        let back = ViewerSigningKey::from_pkcs8_der(&der).unwrap();
        assert_eq!(back.kid(), key.kid());
        assert_ne!(ViewerSigningKey::generate().kid(), key.kid());
    }

    #[test]
    fn bad_keys_are_refused_without_echoing_them() {
        for bad in [
            "",
            "not a key",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ] {
            let error = ViewerSigningKey::from_pkcs8_pem(bad)
                .unwrap_err()
                .to_string();
            assert!(error.contains("PKCS#8 PEM"), "{error}");
        }
        assert!(PublicKey::from_x("AAAA").is_err());
        assert!(PublicKey::from_x("!!").is_err());
    }

    #[test]
    fn debug_shows_the_kid_only() {
        let key = ViewerSigningKey::from_pkcs8_pem(RFC8037_PEM).unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains(RFC8037_KID), "{shown}");
        assert!(
            !shown.contains("secret") && !shown.contains("nWGx"),
            "{shown}"
        );
    }
}
