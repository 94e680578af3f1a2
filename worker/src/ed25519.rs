//! Ed25519 keys as auditlog publishes them: [`SigningKey`] (parsed from
//! PKCS#8 PEM or DER, or generated) and [`PublicKey`], each named by its
//! `kid`, the RFC 7638 JWK thumbprint (SHA-256 of
//! `{"crv":"Ed25519","kty":"OKP","x":"…"}`, base64url): derived, not chosen,
//! so the same key has the same `kid` everywhere and a stored `kid` can be
//! checked against its key. No `Debug` prints private bytes.
//!
//! Tree heads are signed with these keys here; the API's viewer tokens wrap
//! the same types (`auth::viewer_token::signing_key`), so both key rings
//! derive `kid`s and parse keys the same way.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Why a key could not be read; never quotes the value.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(String);

/// An Ed25519 private key and its public half.
#[derive(Clone)]
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
    public: PublicKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.public.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new key from the operating system's randomness.
    pub fn generate() -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(seed.as_mut());
        Self::from(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// A PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, what `openssl genpkey
    /// -algorithm ed25519` writes).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        ed25519_dalek::SigningKey::from_pkcs8_pem(pem.trim())
            .map(Self::from)
            .map_err(|error| {
                KeyError(format!(
                    "not an Ed25519 private key in PKCS#8 PEM ({error})"
                ))
            })
    }

    /// A key as stored in the database (PKCS#8 DER).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        ed25519_dalek::SigningKey::from_pkcs8_der(der)
            .map(Self::from)
            .map_err(|error| KeyError(format!("not an Ed25519 PKCS#8 DER key ({error})")))
    }

    /// PKCS#8 DER, wiped from memory when dropped.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let document = self
            .key
            .to_pkcs8_der()
            .map_err(|error| KeyError(format!("cannot encode the key as PKCS#8 ({error})")))?;
        Ok(Zeroizing::new(document.as_bytes().to_vec()))
    }

    pub fn kid(&self) -> &str {
        &self.public.kid
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The 64-byte Ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

impl From<ed25519_dalek::SigningKey> for SigningKey {
    fn from(key: ed25519_dalek::SigningKey) -> Self {
        let public = PublicKey::from(key.verifying_key());
        Self { key, public }
    }
}

/// An Ed25519 public key and its `kid`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    key: ed25519_dalek::VerifyingKey,
    kid: String,
}

impl From<ed25519_dalek::VerifyingKey> for PublicKey {
    fn from(key: ed25519_dalek::VerifyingKey) -> Self {
        let kid = thumbprint(&URL_SAFE_NO_PAD.encode(key.to_bytes()));
        Self { key, kid }
    }
}

impl PublicKey {
    /// A JWK `x` (base64url of the 32 bytes), which must be a point on the curve.
    pub fn from_x(x: &str) -> Result<Self, KeyError> {
        let invalid = || KeyError("a public key is not base64url of an Ed25519 point".into());
        let decoded = URL_SAFE_NO_PAD.decode(x).map_err(|_| invalid())?;
        let bytes: [u8; 32] = decoded.try_into().map_err(|_| invalid())?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| invalid())?;
        Ok(Self::from(key))
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The JWK `x` parameter.
    pub fn x(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.to_bytes())
    }

    /// Whether `signature` is this key's (strict verification: no
    /// malleable or small-order signatures).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
            return false;
        };
        self.key.verify_strict(message, &signature).is_ok()
    }

    /// The JWKS entry (`kty` `OKP`, `crv` `Ed25519`).
    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": self.x(),
            "kid": self.kid,
            "use": "sig",
            "alg": "EdDSA",
        })
    }
}

/// RFC 7638: the required members of an OKP key in lexicographic order, no
/// whitespace (`x` is base64url, so it needs no JSON escaping).
fn thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The Ed25519 key of RFC 8037, appendix A.1, as PKCS#8 PEM.
    pub(crate) const RFC8037_PEM: &str = "-----BEGIN PRIVATE KEY-----\n\
        MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n\
        -----END PRIVATE KEY-----\n";
    /// Its RFC 7638 thumbprint (A.3).
    const RFC8037_KID: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

    #[test]
    fn the_kid_is_the_rfc_7638_thumbprint_and_signatures_verify() {
        let key = SigningKey::from_pkcs8_pem(RFC8037_PEM).unwrap();
        assert_eq!(key.kid(), RFC8037_KID);
        let signature = key.sign(b"head");
        assert!(key.public_key().verify(b"head", &signature));
        assert!(!key.public_key().verify(b"hea", &signature));
        let back = SigningKey::from_pkcs8_der(&key.to_pkcs8_der().unwrap()).unwrap();
        assert_eq!(back.kid(), key.kid());
        assert_eq!(
            PublicKey::from_x(&key.public_key().x()).unwrap(),
            *key.public_key()
        );
        assert!(SigningKey::from_pkcs8_pem("not a key").is_err());
    }
}
