//! JWT access tokens, validated locally with `jsonwebtoken`.
//!
//! Checked, in order: the header parses and names an allowed algorithm (so
//! `none` and HS* never get further); the signing key is in the IdP's JWKS
//! (downloaded again for an unknown `kid`); the signature; `iss` equals the
//! configured issuer; `aud` contains a configured audience; `exp` (required)
//! and `nbf` (if present) hold within the configured leeway; `sub` is present.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Validation, decode, decode_header};
use serde_json::{Map, Value};

use super::TokenCheck;
use super::keys::KeyCache;
use super::settings::OidcSettings;

/// Whether `token` has the compact JWS shape (`header.payload.signature`,
/// the signature possibly empty as in unsigned `alg: none` tokens, which then
/// fail here rather than reach the introspection endpoint); anything else is
/// treated as an opaque token.
pub(crate) fn looks_like_jwt(token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    parts.len() == 3 && !parts[0].is_empty() && !parts[1].is_empty()
}

pub(crate) async fn verify(
    settings: &OidcSettings,
    keys: &KeyCache,
    http: &reqwest::Client,
    jwks_uri: &str,
    token: &str,
) -> TokenCheck {
    // Unknown algorithms (including `none`) fail to parse here.
    let Ok(header) = decode_header(token) else {
        return TokenCheck::Invalid("malformed_or_unsupported_header");
    };
    if !settings
        .algorithms
        .iter()
        .any(|allowed| allowed.jwt() == header.alg)
    {
        return TokenCheck::Invalid("algorithm_not_allowed");
    }
    let key_set = keys.keys_for(http, jwks_uri, header.kid.as_deref()).await;
    let Some(key) = key_set.for_token(header.kid.as_deref(), header.alg) else {
        return TokenCheck::Invalid("unknown_signing_key");
    };
    let mut validation = Validation::new(header.alg);
    validation.leeway = settings.leeway.as_secs();
    validation.validate_nbf = true;
    validation.set_issuer(&[settings.issuer.as_str()]);
    validation.set_audience(&settings.audiences);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    match decode::<Map<String, Value>>(token, key, &validation) {
        Ok(data) => TokenCheck::Valid(data.claims),
        Err(error) => TokenCheck::Invalid(match error.kind() {
            ErrorKind::ExpiredSignature => "expired",
            ErrorKind::ImmatureSignature => "not_yet_valid",
            ErrorKind::InvalidAudience => "wrong_audience",
            ErrorKind::InvalidIssuer => "wrong_issuer",
            ErrorKind::InvalidSignature => "bad_signature",
            ErrorKind::MissingRequiredClaim(_) => "missing_required_claim",
            _ => "invalid_token",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::looks_like_jwt;

    #[test]
    fn tells_jwts_from_opaque_tokens() {
        assert!(looks_like_jwt("aaa.bbb.ccc"));
        assert!(looks_like_jwt("aaa.bbb."), "unsigned (`alg: none`) shape");
        assert!(!looks_like_jwt(".bbb.ccc"));
        assert!(!looks_like_jwt("opaque-token_123"));
        assert!(!looks_like_jwt("a.b.c.d.e"), "JWE is not accepted");
    }
}
