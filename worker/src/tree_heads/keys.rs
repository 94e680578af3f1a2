//! [`TreeHeadKeys`]: the ring of keys that sign tree heads, kept in
//! `instance_settings` (`tree_head_keys`) so every replica and worker signs
//! with the same key and publishes the same public keys.
//!
//! Unlike viewer tokens, which expire within a day, a signed head stays
//! verifiable forever: a retired key is never dropped from the ring, and the
//! JWKS lists every key that ever signed. Stored format (version 1, newest
//! first; the private key only for a current key generated here, never for
//! a configured one, which stays in the operator's secret store):
//!
//! ```json
//! {"version":1,"keys":[
//!   {"kid":"…","public_key":"<JWK x>","private_key_pkcs8":"<base64 DER>","created_at":"…"},
//!   {"kid":"…","public_key":"<JWK x>","created_at":"…","retired_at":"…"}]}
//! ```
//!
//! Start-up settles the ring for this process (insert-if-absent, then
//! compare-and-swap): the configured key (`AUDITLOG_SIGNING_KEY`) becomes
//! current if it is not; without one, a current key whose private half the
//! ring lacks (another process's configured key) is replaced by a generated
//! one. [`TreeHeadKeys::rotate`] retires the current key for a new one.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::ed25519::{PublicKey, SigningKey};
use crate::store;

use super::TreeHeadError;

const FORMAT_VERSION: u32 = 1;
/// Compare-and-swap attempts (each lost one means another process changed
/// the ring meanwhile).
const SWAP_ATTEMPTS: usize = 5;

/// The key this process signs with and every published public key.
#[derive(Clone, Debug)]
pub struct TreeHeadKeys {
    signer: SigningKey,
    /// Current first, then retired ones, newest first.
    published: Vec<PublicKey>,
}

impl TreeHeadKeys {
    /// The ring settled for this process (see the module header).
    pub async fn load(
        db: &DatabaseConnection,
        configured: Option<SigningKey>,
        now: DateTime<Utc>,
    ) -> Result<Self, TreeHeadError> {
        let first = StoredKey::current(
            configured.clone().unwrap_or_else(SigningKey::generate),
            configured.is_none(),
            now,
        )?;
        let candidate = to_json(&[first])?;
        let mut stored = store::instance::tree_head_keys(db, candidate).await?;
        for _ in 0..SWAP_ATTEMPTS {
            let mut keys = parse(&stored)?;
            let changed = settle(&mut keys, configured.as_ref(), now)?;
            if !changed {
                return Self::from_stored(&keys, configured);
            }
            let replacement = to_json(&keys)?;
            if store::instance::replace_tree_head_keys(db, &stored, replacement.clone()).await? {
                return Self::from_stored(&keys, configured);
            }
            stored = store::instance::read_tree_head_keys(db)
                .await?
                .ok_or_else(|| TreeHeadError::Keys("the tree-head key ring vanished".into()))?;
        }
        Err(TreeHeadError::Keys(
            "the tree-head key ring keeps changing; try again".into(),
        ))
    }

    /// Retires the current (generated) key for a new one, which signs from
    /// now on; the old public key stays published.
    pub async fn rotate(
        db: &DatabaseConnection,
        now: DateTime<Utc>,
    ) -> Result<Self, TreeHeadError> {
        for _ in 0..SWAP_ATTEMPTS {
            let stored = store::instance::read_tree_head_keys(db)
                .await?
                .ok_or_else(|| TreeHeadError::Keys("no tree-head key ring yet".into()))?;
            let mut keys = parse(&stored)?;
            retire_current(&mut keys, now);
            keys.insert(0, StoredKey::current(SigningKey::generate(), true, now)?);
            if store::instance::replace_tree_head_keys(db, &stored, to_json(&keys)?).await? {
                return Self::from_stored(&keys, None);
            }
        }
        Err(TreeHeadError::Keys(
            "the tree-head key ring keeps changing; try again".into(),
        ))
    }

    /// Every public key that ever signed a head, current first (the JWKS).
    pub async fn published(db: &DatabaseConnection) -> Result<Vec<PublicKey>, TreeHeadError> {
        let Some(stored) = store::instance::read_tree_head_keys(db).await? else {
            return Ok(Vec::new());
        };
        parse(&stored)?
            .iter()
            .map(|key| {
                PublicKey::from_x(&key.public_key).map_err(|e| TreeHeadError::Keys(e.to_string()))
            })
            .collect()
    }

    pub fn signer(&self) -> &SigningKey {
        &self.signer
    }

    pub fn public_keys(&self) -> &[PublicKey] {
        &self.published
    }

    fn from_stored(
        keys: &[StoredKey],
        configured: Option<SigningKey>,
    ) -> Result<Self, TreeHeadError> {
        let published = keys
            .iter()
            .map(|key| {
                PublicKey::from_x(&key.public_key).map_err(|e| TreeHeadError::Keys(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let signer = match configured {
            Some(key) => key,
            None => keys
                .first()
                .and_then(|key| key.private_key_pkcs8.as_deref())
                .map(private_key)
                .transpose()?
                .ok_or_else(|| TreeHeadError::Keys("the current key has no private half".into()))?,
        };
        Ok(Self { signer, published })
    }
}

/// Makes the ring fit this process; true if it changed.
fn settle(
    keys: &mut Vec<StoredKey>,
    configured: Option<&SigningKey>,
    now: DateTime<Utc>,
) -> Result<bool, TreeHeadError> {
    let current = keys.first().filter(|key| key.retired_at.is_none());
    let next = match (configured, current) {
        (Some(key), Some(current)) if current.kid == key.kid() => return Ok(false),
        (None, Some(current)) if current.private_key_pkcs8.is_some() => return Ok(false),
        (Some(key), _) => StoredKey::current(key.clone(), false, now)?,
        (None, _) => StoredKey::current(SigningKey::generate(), true, now)?,
    };
    retire_current(keys, now);
    keys.retain(|key| key.kid != next.kid);
    keys.insert(0, next);
    Ok(true)
}

/// The current key retires at `now` and loses its private half.
fn retire_current(keys: &mut [StoredKey], now: DateTime<Utc>) {
    if let Some(current) = keys.first_mut().filter(|key| key.retired_at.is_none()) {
        current.retired_at = Some(now);
        current.private_key_pkcs8 = None;
    }
}

fn parse(text: &str) -> Result<Vec<StoredKey>, TreeHeadError> {
    let ring: StoredRing = serde_json::from_str(text).map_err(|error| {
        TreeHeadError::Keys(format!(
            "the stored tree-head key ring is unreadable (line {}, column {})",
            error.line(),
            error.column()
        ))
    })?;
    if ring.version != FORMAT_VERSION {
        return Err(TreeHeadError::Keys(format!(
            "the stored tree-head key ring has format {}, this version reads {FORMAT_VERSION}",
            ring.version
        )));
    }
    for key in &ring.keys {
        let public =
            PublicKey::from_x(&key.public_key).map_err(|e| TreeHeadError::Keys(e.to_string()))?;
        if public.kid() != key.kid {
            return Err(TreeHeadError::Keys(format!(
                "kid {:?} is not its key's thumbprint",
                key.kid
            )));
        }
    }
    Ok(ring.keys)
}

fn to_json(keys: &[StoredKey]) -> Result<String, TreeHeadError> {
    serde_json::to_string(&StoredRing {
        version: FORMAT_VERSION,
        keys: keys.to_vec(),
    })
    .map_err(|error| TreeHeadError::Keys(format!("cannot encode the key ring ({error})")))
}

fn private_key(encoded: &str) -> Result<SigningKey, TreeHeadError> {
    let der = Zeroizing::new(
        STANDARD
            .decode(encoded)
            .map_err(|_| TreeHeadError::Keys("a stored private key is not base64".into()))?,
    );
    SigningKey::from_pkcs8_der(&der).map_err(|e| TreeHeadError::Keys(e.to_string()))
}

#[derive(Serialize, Deserialize)]
struct StoredRing {
    version: u32,
    keys: Vec<StoredKey>,
}

/// No `Debug`: it may hold a private key.
#[derive(Clone, Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    public_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    private_key_pkcs8: Option<String>,
    created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retired_at: Option<DateTime<Utc>>,
}

impl StoredKey {
    /// A current key; its private half is stored only if `store_private`.
    fn current(
        key: SigningKey,
        store_private: bool,
        now: DateTime<Utc>,
    ) -> Result<Self, TreeHeadError> {
        let private_key_pkcs8 = if store_private {
            let der = key
                .to_pkcs8_der()
                .map_err(|e| TreeHeadError::Keys(e.to_string()))?;
            Some(STANDARD.encode(der.as_slice()))
        } else {
            None
        };
        Ok(Self {
            kid: key.kid().to_owned(),
            public_key: key.public_key().x(),
            private_key_pkcs8,
            created_at: now,
            retired_at: None,
        })
    }
}
