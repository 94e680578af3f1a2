//! The key that signs viewer tokens (docs/configuration.md, "Credentials and
//! browser sign-in"; how keys are kept and rotated: docs/security.md,
//! "Viewer tokens: keys").
//!
//! The setting is read as text and parsed by [`ViewerTokensConfig::signing_key`]
//! at start-up rather than by a clap value parser: clap's error for a value
//! that does not parse quotes the value, and this one is a private key.

use clap::Args;

use super::Secret;
use crate::auth::viewer_token::ViewerSigningKey;

#[derive(Clone, Debug, Args)]
pub struct ViewerTokensConfig {
    /// Ed25519 private key that signs viewer tokens, as PKCS#8 PEM (the text
    /// `openssl genpkey -algorithm ed25519` prints). Unset: a key is generated
    /// once and kept in the database, shared by all replicas. Changing it
    /// rotates the key; the previous one stays valid for 24 hours.
    #[arg(long, env = "AUDITLOG_VIEWER_TOKEN_KEY", hide_env_values = true)]
    pub viewer_token_key: Option<Secret>,
}

impl ViewerTokensConfig {
    /// The configured key (`None` when unset or empty); an error names the
    /// setting and what is wrong, never the value.
    pub(crate) fn signing_key(&self) -> anyhow::Result<Option<ViewerSigningKey>> {
        let Some(pem) = self
            .viewer_token_key
            .as_deref()
            .filter(|pem| !pem.trim().is_empty())
        else {
            return Ok(None);
        };
        ViewerSigningKey::from_pkcs8_pem(pem)
            .map(Some)
            .map_err(|error| anyhow::anyhow!("AUDITLOG_VIEWER_TOKEN_KEY: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::ViewerTokensConfig;

    #[test]
    fn unset_is_none_and_a_bad_key_is_a_clear_error() {
        let unset = ViewerTokensConfig {
            viewer_token_key: None,
        };
        assert!(unset.signing_key().unwrap().is_none());
        let empty = ViewerTokensConfig {
            viewer_token_key: Some("".into()),
        };
        assert!(empty.signing_key().unwrap().is_none());
        let bad = ViewerTokensConfig {
            viewer_token_key: Some("hunter2".into()),
        };
        let error = bad.signing_key().unwrap_err().to_string();
        assert!(error.starts_with("AUDITLOG_VIEWER_TOKEN_KEY: "), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }
}
