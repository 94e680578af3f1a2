//! API-key secrets: generation, parsing, hashing and constant-time comparison.
//!
//! A key reads `alk_<tenant-slug>_<prefix>_<secret>`. The slug and the 8-character
//! prefix are public (they identify the key in listings and logs); only the
//! SHA-256 of the 32-character secret is stored. Slugs never contain `_`, so the
//! key splits unambiguously. Carrying the slug lets authentication find the key
//! through an index that leads with `tenant_id`, like every index on tenant data.

use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const KEY_SCHEME: &str = "alk";
const PREFIX_LEN: usize = 8;
const SECRET_LEN: usize = 32;

/// A freshly generated key: `full` is shown to its creator once and then dropped.
pub struct GeneratedKey {
    pub prefix: String,
    pub secret_hash: String,
    pub full: String,
}

/// The parts of a presented key, before it has been checked against the database.
#[derive(Debug, PartialEq, Eq)]
pub struct PresentedKey<'a> {
    pub tenant_slug: &'a str,
    pub prefix: &'a str,
    pub secret: &'a str,
}

pub fn generate_key(tenant_slug: &str) -> GeneratedKey {
    let prefix = random_alphanumeric(PREFIX_LEN);
    let secret = random_alphanumeric(SECRET_LEN);
    GeneratedKey {
        full: format!("{KEY_SCHEME}_{tenant_slug}_{prefix}_{secret}"),
        secret_hash: sha256_hex(&secret),
        prefix,
    }
}

/// The public form of a key's prefix, as shown in `ApiKey.prefix`.
pub fn display_prefix(tenant_slug: &str, prefix: &str) -> String {
    format!("{KEY_SCHEME}_{tenant_slug}_{prefix}")
}

pub fn parse_key(raw: &str) -> Option<PresentedKey<'_>> {
    let rest = raw.strip_prefix(KEY_SCHEME)?.strip_prefix('_')?;
    let mut parts = rest.rsplitn(3, '_');
    let secret = parts.next()?;
    let prefix = parts.next()?;
    let tenant_slug = parts.next()?;
    let well_formed = secret.len() == SECRET_LEN
        && prefix.len() == PREFIX_LEN
        && !tenant_slug.is_empty()
        && secret
            .chars()
            .chain(prefix.chars())
            .all(|c| c.is_ascii_alphanumeric());
    well_formed.then_some(PresentedKey {
        tenant_slug,
        prefix,
        secret,
    })
}

/// A platform key reads `alp_<prefix>_<secret>`: no tenant (it acts for the
/// tenant each request names), so its prefix alone finds it (unique index).
const PLATFORM_KEY_SCHEME: &str = "alp";

/// The parts of a presented platform key, before the database check.
#[derive(Debug, PartialEq, Eq)]
pub struct PresentedPlatformKey<'a> {
    pub prefix: &'a str,
    pub secret: &'a str,
}

pub fn generate_platform_key() -> GeneratedKey {
    let prefix = random_alphanumeric(PREFIX_LEN);
    let secret = random_alphanumeric(SECRET_LEN);
    GeneratedKey {
        full: format!("{PLATFORM_KEY_SCHEME}_{prefix}_{secret}"),
        secret_hash: sha256_hex(&secret),
        prefix,
    }
}

/// The public form of a platform key's prefix, as shown in `PlatformKey.prefix`.
pub fn display_platform_prefix(prefix: &str) -> String {
    format!("{PLATFORM_KEY_SCHEME}_{prefix}")
}

pub fn parse_platform_key(raw: &str) -> Option<PresentedPlatformKey<'_>> {
    let rest = raw.strip_prefix(PLATFORM_KEY_SCHEME)?.strip_prefix('_')?;
    let (prefix, secret) = rest.split_once('_')?;
    let well_formed = secret.len() == SECRET_LEN
        && prefix.len() == PREFIX_LEN
        && secret
            .chars()
            .chain(prefix.chars())
            .all(|c| c.is_ascii_alphanumeric());
    well_formed.then_some(PresentedPlatformKey { prefix, secret })
}

pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Compares a presented secret with a stored hash in constant time.
pub fn secret_matches(presented_secret: &str, stored_hash_hex: &str) -> bool {
    let presented = Sha256::digest(presented_secret.as_bytes());
    match hex::decode(stored_hash_hex) {
        Ok(stored) => presented.as_slice().ct_eq(&stored).into(),
        Err(_) => false,
    }
}

/// Compares two tokens in constant time, whatever their lengths (both are hashed first).
pub fn tokens_match(presented: &str, expected: &str) -> bool {
    Sha256::digest(presented.as_bytes())
        .as_slice()
        .ct_eq(Sha256::digest(expected.as_bytes()).as_slice())
        .into()
}

pub fn random_alphanumeric(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_keys_parse_back_and_are_not_tenant_keys() {
        let key = generate_platform_key();
        let parsed = parse_platform_key(&key.full).expect("a generated key parses");
        assert_eq!(parsed.prefix, key.prefix);
        assert!(secret_matches(parsed.secret, &key.secret_hash));
        assert!(parse_key(&key.full).is_none());
        assert!(parse_platform_key(&generate_key("acme").full).is_none());
        assert!(parse_platform_key("alp_short_secret").is_none());
        assert!(parse_platform_key(&format!("{}_", key.full)).is_none());
    }

    #[test]
    fn generated_keys_parse_back_and_match_their_hash() {
        let key = generate_key("acme-corp");
        let parsed = parse_key(&key.full).expect("a generated key parses");
        assert_eq!(parsed.tenant_slug, "acme-corp");
        assert_eq!(parsed.prefix, key.prefix);
        assert!(secret_matches(parsed.secret, &key.secret_hash));
        assert!(!secret_matches("x", &key.secret_hash));
        assert!(!key.secret_hash.contains(parsed.secret));
    }

    #[test]
    fn malformed_keys_do_not_parse() {
        for bad in [
            "",
            "alk_",
            "alk_acme_short_secret",
            "xyz_acme_12345678_".repeat(2).as_str(),
            "Bearer",
        ] {
            assert_eq!(parse_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn token_comparison_handles_different_lengths() {
        assert!(tokens_match("op-token", "op-token"));
        assert!(!tokens_match("op-token", "op-token-longer"));
    }
}
