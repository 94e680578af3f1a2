//! Viewer tokens: short-lived, self-contained credentials for one tenant
//! (ADMIN or AUDITOR, a subject, an optional scope), verified without a
//! database round trip. This module signs and verifies them and keeps their
//! keys; minting them for clients (`createViewerToken`), authenticating with
//! them and enforcing their scope are its callers' business.
//!
//! A token is a compact JWS signed with EdDSA (Ed25519): header
//! `{"alg":"EdDSA","typ":"auditlog-viewer+jwt","kid":…}`, payload as in
//! [`claims`] (`iss` [`ISSUER`], `aud` [`AUDIENCE`]). The keys are a ring
//! ([`keys`], [`ring`]) kept in the database or configured
//! (`AUDITLOG_VIEWER_TOKEN_KEY`), published at `GET /.well-known/jwks.json`.
//!
//! [`verify`] checks, in order, and says why it refused ([`ViewerTokenError`]):
//! the size (at most [`MAX_TOKEN_BYTES`], before any parsing); the header
//! (three base64url parts, `alg` exactly `EdDSA` — so `none`, `HS256` keyed
//! with our public key and `RS256` never reach a key — and our `typ`); a
//! `kid` of a key valid now; the signature; `iss`; `aud`; the claims' shape;
//! then the times: a lifetime we mint (at most 24 h), not issued in the
//! future, not expired, each within [`LEEWAY_SECS`]. `jsonwebtoken` does the
//! parsing and the signature; the times are checked here against the
//! caller's `now`, so tests need no clock.
//!
//! For the authenticator: [`looks_like_viewer_token`] (a header decode, no
//! cryptography) says whether a bearer value is meant as a viewer token,
//! so it is verified here and never sent to the identity provider.

mod claims;
mod error;
mod keys;
mod lazy;
mod ring;
pub(crate) mod scope;
mod signing_key;
mod snapshot;
#[cfg(test)]
mod tests;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::Deserialize;

pub(crate) use claims::{TokenLifetime, ViewerClaims, ViewerRole, ViewerSubject};
pub(crate) use error::{Invalid, KeyRingError, MintError, ViewerTokenError};
pub(crate) use keys::ViewerTokenKeys;
pub(crate) use lazy::LazyViewerKeys;
pub(crate) use signing_key::ViewerSigningKey;

use claims::WireClaims;

/// `iss` of every viewer token.
pub(crate) const ISSUER: &str = "auditlog";
/// `aud` of every viewer token: no other JWT audience of ours accepts them.
pub(crate) const AUDIENCE: &str = "auditlog-viewer";
/// The header's `typ` (RFC 8725 explicit typing), which tells a viewer token
/// from an identity provider's JWT.
pub(crate) const TOKEN_TYPE: &str = "auditlog-viewer+jwt";
/// Longest token `verify` reads (a scope of 100 long actions fits easily).
pub(crate) const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Clock difference tolerated on `exp`, `iat` and `nbf`.
pub(crate) const LEEWAY_SECS: i64 = 5;
/// Longest header [`looks_like_viewer_token`] decodes (ours is ~120).
const MAX_HEADER_CHARS: usize = 1024;

/// Signs `claims` with the ring's current key. Refuses claims [`verify`] would
/// refuse for their lifetime or size; build them with [`ViewerClaims::issue`].
pub(crate) fn mint(keys: &ViewerTokenKeys, claims: &ViewerClaims) -> Result<String, MintError> {
    if !claims.has_valid_lifetime() {
        return Err(MintError::Lifetime);
    }
    let snapshot = keys.snapshot();
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some(TOKEN_TYPE.to_owned());
    header.kid = Some(snapshot.signer.kid.clone());
    let token = jsonwebtoken::encode(&header, &WireClaims::from(claims), &snapshot.signer.key)
        .map_err(|error| MintError::Signing(error.to_string()))?;
    if token.len() > MAX_TOKEN_BYTES {
        return Err(MintError::TooLarge {
            limit: MAX_TOKEN_BYTES,
        });
    }
    Ok(token)
}

/// The claims of `token` if it is a viewer token valid at `now` (see the
/// module header for what is checked). Never panics, whatever `token` is;
/// reads the database only for an unknown `kid`, rate-limited.
pub(crate) async fn verify(
    keys: &ViewerTokenKeys,
    token: &str,
    now: DateTime<Utc>,
) -> Result<ViewerClaims, ViewerTokenError> {
    let invalid = ViewerTokenError::Invalid;
    if token.len() > MAX_TOKEN_BYTES {
        return Err(invalid(Invalid::TooLarge));
    }
    let header = RawHeader::of(token).ok_or(invalid(Invalid::Malformed))?;
    if header.alg.as_deref() != Some("EdDSA") {
        return Err(invalid(Invalid::Algorithm));
    }
    if header.typ.as_deref() != Some(TOKEN_TYPE) {
        return Err(invalid(Invalid::Type));
    }
    let kid = header.kid.ok_or(invalid(Invalid::UnknownKey))?;
    let key = keys
        .decoding_key(&kid, now)
        .await
        .ok_or(invalid(Invalid::UnknownKey))?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    // The times are checked against `now` by `check_times`.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.leeway = 0;
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let decoded = jsonwebtoken::decode::<WireClaims>(token, &key, &validation)
        .map_err(|error| invalid(classify(error.kind())))?;
    decoded.claims.check_times(now)
}

/// Whether `token` is meant as a viewer token: a compact JWS whose header
/// decodes and names our `typ`, whatever its `alg` or `kid` (a forged one
/// must be refused here, not passed on). No signature work.
pub(crate) fn looks_like_viewer_token(token: &str) -> bool {
    token.len() <= MAX_TOKEN_BYTES
        && RawHeader::of(token).is_some_and(|header| header.typ.as_deref() == Some(TOKEN_TYPE))
}

/// The header fields we decide on, read before `jsonwebtoken` sees the token
/// (its `Header` refuses unknown algorithms such as `none` with a parse
/// error, which would hide why a token was refused).
#[derive(Deserialize)]
struct RawHeader {
    alg: Option<String>,
    typ: Option<String>,
    kid: Option<String>,
}

impl RawHeader {
    fn of(token: &str) -> Option<Self> {
        let mut parts = token.split('.');
        let (Some(header), Some(_payload), Some(_signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        if header.len() > MAX_HEADER_CHARS {
            return None;
        }
        let json = URL_SAFE_NO_PAD.decode(header).ok()?;
        serde_json::from_slice(&json).ok()
    }
}

fn classify(kind: &ErrorKind) -> Invalid {
    match kind {
        ErrorKind::InvalidSignature => Invalid::Signature,
        ErrorKind::InvalidIssuer => Invalid::Issuer,
        ErrorKind::InvalidAudience => Invalid::Audience,
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => Invalid::Algorithm,
        ErrorKind::MissingRequiredClaim(_)
        | ErrorKind::InvalidClaimFormat(_)
        | ErrorKind::InvalidSubject
        | ErrorKind::Json(_) => Invalid::Claims,
        _ => Invalid::Malformed,
    }
}
