//! The errors of viewer tokens, one per operation: [`ViewerTokenError`]
//! (verifying: what the authenticator tells a client), [`MintError`] (minting:
//! always our bug, an internal error) and [`KeyRingError`] (loading and
//! rotating keys: a start-up error or an internal one). None of them carries a
//! token, a claim value or key material; [`Invalid`] is a short category for
//! the log.

use entity::store::StoreError;

/// Why `verify` refused a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ViewerTokenError {
    /// Ours (signature, issuer and audience hold) but past `exp`: the client
    /// should get a new token, not suspect an attack.
    #[error("the viewer token has expired")]
    Expired,
    /// Not a token we would accept now.
    #[error("invalid viewer token ({})", .0.as_str())]
    Invalid(Invalid),
}

/// What was wrong with an invalid token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Invalid {
    /// Over `MAX_TOKEN_BYTES`, refused before any parsing.
    TooLarge,
    /// Not three base64url parts with a JSON header.
    Malformed,
    /// `alg` is not `EdDSA` (`none`, `HS256`, `RS256`, …).
    Algorithm,
    /// `typ` is not ours: a JWT of something else.
    Type,
    /// No `kid`, or one no published key has (also after a reload).
    UnknownKey,
    Signature,
    Issuer,
    Audience,
    /// The payload is not our claims (a missing or mistyped field).
    Claims,
    /// Issued (or `nbf`) in the future, beyond the leeway.
    NotYetValid,
    /// `exp - iat` is not a lifetime we mint.
    Lifetime,
}

impl Invalid {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::TooLarge => "too_large",
            Self::Malformed => "malformed",
            Self::Algorithm => "algorithm_not_allowed",
            Self::Type => "not_a_viewer_token",
            Self::UnknownKey => "unknown_signing_key",
            Self::Signature => "bad_signature",
            Self::Issuer => "wrong_issuer",
            Self::Audience => "wrong_audience",
            Self::Claims => "bad_claims",
            Self::NotYetValid => "not_yet_valid",
            Self::Lifetime => "bad_lifetime",
        }
    }
}

/// Why `mint` made no token: claims `verify` would refuse, or signing failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MintError {
    #[error("the claims' lifetime is not 1 s to 24 h (use `ViewerClaims::issue`)")]
    Lifetime,
    #[error("the token would exceed {limit} bytes (a scope or subject too large)")]
    TooLarge { limit: usize },
    #[error("signing the viewer token failed: {0}")]
    Signing(String),
}

/// Why the key ring could not be loaded or changed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum KeyRingError {
    /// `AUDITLOG_VIEWER_TOKEN_KEY` (or a stored private key) is not an Ed25519 key.
    #[error("{0}")]
    InvalidKey(String),
    /// The stored ring does not parse or breaks its invariants.
    #[error("the stored viewer-token key ring is unreadable: {0}")]
    Corrupt(String),
    /// `rotate` on a process whose key is configured: change the setting instead.
    #[error(
        "the viewer-token key is configured (AUDITLOG_VIEWER_TOKEN_KEY); rotate by changing it"
    )]
    Configured,
    /// Other replicas kept changing the ring while this one tried to.
    #[error("the viewer-token key ring kept changing under this replica; try again")]
    Contended,
    #[error(transparent)]
    Store(#[from] StoreError),
}
