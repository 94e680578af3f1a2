//! Destination secrets at rest: a stream's `whsec_` signing secret and its
//! Splunk token are stored encrypted with AES-256-GCM (`aes-gcm`), under a
//! key from `AUDITLOG_STREAM_SECRETS_KEY` (SHA-256 of the configured text)
//! or, unset, one generated once and kept in `instance_settings`.
//!
//! A stored value reads `v1.<key id>.<base64url(nonce ‖ ciphertext)>`: the
//! key id (8 hex digits of the key's SHA-256) says which key wrote it, so a
//! service started with another key fails clearly instead of sending
//! garbage. The tenant and stream ids are the associated data: a value
//! copied onto another row does not decrypt.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore;
use sea_orm::DatabaseConnection;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::secret::Secret;

const VERSION: &str = "v1";
const NONCE_BYTES: usize = 12;
/// Random bytes of a webhook signing secret (Standard Webhooks: 24 to 64).
const WEBHOOK_SECRET_BYTES: usize = 32;

/// Why a secret cannot be sealed or opened (never quotes one).
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "a destination secret was encrypted with another key (key id {0}): is AUDITLOG_STREAM_SECRETS_KEY the one it was written with?"
    )]
    OtherKey(String),
    #[error("a stored destination secret is damaged")]
    Damaged,
    #[error("AUDITLOG_STREAM_SECRETS_KEY must have at least 32 characters")]
    ShortKey,
    #[error(transparent)]
    Store(#[from] entity::store::StoreError),
}

/// Seals and opens destination secrets.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
    key_id: String,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBox({})", self.key_id)
    }
}

impl SecretBox {
    /// The configured key, or the database's generated one.
    pub async fn load(
        db: &DatabaseConnection,
        configured: Option<&Secret>,
    ) -> Result<Self, SecretError> {
        let text = match configured.filter(|key| !key.is_empty()) {
            Some(key) if key.chars().count() < 32 => return Err(SecretError::ShortKey),
            Some(key) => Zeroizing::new(key.expose().to_owned()),
            None => {
                let mut candidate = [0_u8; 32];
                rand::rng().fill_bytes(&mut candidate);
                let stored =
                    entity::store::instance::stream_secrets_key(db, hex::encode(candidate)).await?;
                Zeroizing::new(stored)
            }
        };
        Ok(Self::from_text(&text))
    }

    /// A box keyed by SHA-256 of `text`.
    pub fn from_text(text: &str) -> Self {
        let key = Zeroizing::new(<[u8; 32]>::from(Sha256::digest(text.as_bytes())));
        let key_id = hex::encode(&Sha256::digest(*key)[..4]);
        Self {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&*key)),
            key_id,
        }
    }

    /// `plain` sealed for the stream `(tenant_id, stream_id)`.
    pub fn seal(&self, tenant_id: Uuid, stream_id: Uuid, plain: &str) -> String {
        let mut nonce = [0_u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let aad = associated(tenant_id, stream_id);
        let payload = Payload {
            msg: plain.as_bytes(),
            aad: &aad,
        };
        // AES-GCM encryption fails only for messages over 64 GiB.
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!(
            "{VERSION}.{}.{}",
            self.key_id,
            URL_SAFE_NO_PAD.encode(bytes)
        )
    }

    /// The secret `stored` holds for `(tenant_id, stream_id)`.
    pub fn open(
        &self,
        tenant_id: Uuid,
        stream_id: Uuid,
        stored: &str,
    ) -> Result<Zeroizing<String>, SecretError> {
        let mut parts = stored.splitn(3, '.');
        let (Some(VERSION), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(SecretError::Damaged);
        };
        if key_id != self.key_id {
            return Err(SecretError::OtherKey(key_id.to_owned()));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| SecretError::Damaged)?;
        if bytes.len() <= NONCE_BYTES {
            return Err(SecretError::Damaged);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let aad = associated(tenant_id, stream_id);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| SecretError::Damaged)?;
        String::from_utf8(plain)
            .map(Zeroizing::new)
            .map_err(|_| SecretError::Damaged)
    }
}

fn associated(tenant_id: Uuid, stream_id: Uuid) -> Vec<u8> {
    let mut aad = tenant_id.as_bytes().to_vec();
    aad.extend_from_slice(stream_id.as_bytes());
    aad
}

/// The [`SecretBox`] of a process, loaded on first use: the schema may not
/// be migrated yet when the process starts (the service then waits for it,
/// not ready). Cheap to clone; clones share the box.
#[derive(Clone)]
pub struct LazySecrets {
    db: DatabaseConnection,
    configured: Option<Secret>,
    cell: std::sync::Arc<tokio::sync::OnceCell<SecretBox>>,
}

impl LazySecrets {
    /// Checks a configured key now (without the database), loads later.
    pub fn new(db: DatabaseConnection, configured: Option<Secret>) -> Result<Self, SecretError> {
        let configured = configured.filter(|key| !key.is_empty());
        if configured
            .as_ref()
            .is_some_and(|key| key.chars().count() < 32)
        {
            return Err(SecretError::ShortKey);
        }
        Ok(Self {
            db,
            configured,
            cell: std::sync::Arc::default(),
        })
    }

    /// The box, loaded now if it is not yet.
    pub async fn get(&self) -> Result<&SecretBox, SecretError> {
        self.cell
            .get_or_try_init(|| SecretBox::load(&self.db, self.configured.as_ref()))
            .await
    }

    /// The box if [`Self::get`] loaded it already.
    pub fn loaded(&self) -> Result<&SecretBox, String> {
        self.cell
            .get()
            .ok_or_else(|| "the destination secrets' key is not loaded".to_owned())
    }
}

/// A new Standard Webhooks signing secret: `whsec_` and base64 of 32 random bytes.
pub fn new_webhook_secret() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0_u8; WEBHOOK_SECRET_BYTES]);
    rand::rng().fill_bytes(&mut *bytes);
    Zeroizing::new(format!("whsec_{}", STANDARD.encode(*bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_row() {
        let secrets = SecretBox::from_text(&"k".repeat(32));
        let (tenant, stream) = (Uuid::now_v7(), Uuid::now_v7());
        let sealed = secrets.seal(tenant, stream, "whsec_abc");
        assert!(!sealed.contains("whsec_abc"));
        assert_eq!(
            secrets.open(tenant, stream, &sealed).unwrap().as_str(),
            "whsec_abc"
        );
        assert!(matches!(
            secrets.open(Uuid::now_v7(), stream, &sealed),
            Err(SecretError::Damaged)
        ));
        let other = SecretBox::from_text(&"o".repeat(32));
        assert!(matches!(
            other.open(tenant, stream, &sealed),
            Err(SecretError::OtherKey(_))
        ));
        assert!(matches!(
            secrets.open(tenant, stream, "v1.x"),
            Err(SecretError::Damaged)
        ));
    }

    #[test]
    fn webhook_secrets_are_whsec_base64() {
        let secret = new_webhook_secret();
        let body = secret.strip_prefix("whsec_").unwrap();
        assert_eq!(STANDARD.decode(body).unwrap().len(), 32);
        assert_ne!(*secret, *new_webhook_secret());
    }
}
