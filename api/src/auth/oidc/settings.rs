//! The validated identity-provider settings (built by `config::OidcConfig`).

use std::time::Duration;

use jsonwebtoken::Algorithm;
use openidconnect::core::CoreJwsSigningAlgorithm;

use super::claims::ClaimMapping;

#[derive(Clone, Debug)]
pub struct OidcSettings {
    /// The issuer exactly as configured; tokens' `iss` must equal it.
    pub issuer: String,
    /// Accepted `aud` values of access tokens.
    pub audiences: Vec<String>,
    /// This service's OAuth2 client (browser login, introspection).
    pub client_id: Option<String>,
    /// Never logged (`Debug` of [`OidcSettings`] is never printed with it:
    /// see `config::OidcConfig::redacted`).
    pub client_secret: Option<String>,
    pub algorithms: Vec<SigningAlgorithm>,
    /// Clock skew tolerated on `exp`/`nbf`.
    pub leeway: Duration,
    /// Shortest interval between JWKS downloads for unknown key ids.
    pub jwks_min_refresh: Duration,
    /// Longest life of a cached introspection result.
    pub introspection_cache_max: Duration,
    pub introspection_cache_entries: u64,
    pub mapping: ClaimMapping,
    /// `None`: bearer tokens only, no browser login.
    pub login: Option<LoginSettings>,
    /// How often a person's WebSocket re-validates its credential.
    pub recheck_every: Duration,
}

/// The browser login (backend-for-frontend) flow.
#[derive(Clone, Debug)]
pub struct LoginSettings {
    /// Where the IdP sends the browser back (`.../auth/callback`).
    pub redirect_url: String,
    pub scopes: Vec<String>,
    /// Mark cookies `Secure` (the public URL is https).
    pub secure_cookies: bool,
    /// Origins (`scheme://host[:port]`) allowed to send cookie-authenticated requests.
    pub allowed_origins: Vec<String>,
    pub session_ttl: Duration,
}

/// An accepted JWS algorithm: asymmetric only, so a public key can never be
/// used as an HMAC secret and unsigned (`none`) tokens cannot exist here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningAlgorithm {
    jwt: Algorithm,
    oidc: CoreJwsSigningAlgorithm,
}

/// Every algorithm that may be configured, by its JWS name.
const ACCEPTABLE: [(&str, Algorithm, CoreJwsSigningAlgorithm); 9] = [
    (
        "RS256",
        Algorithm::RS256,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    ),
    (
        "RS384",
        Algorithm::RS384,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    ),
    (
        "RS512",
        Algorithm::RS512,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    ),
    (
        "PS256",
        Algorithm::PS256,
        CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    ),
    (
        "PS384",
        Algorithm::PS384,
        CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    ),
    (
        "PS512",
        Algorithm::PS512,
        CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    ),
    (
        "ES256",
        Algorithm::ES256,
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    ),
    (
        "ES384",
        Algorithm::ES384,
        CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    ),
    ("EdDSA", Algorithm::EdDSA, CoreJwsSigningAlgorithm::EdDsa),
];

impl SigningAlgorithm {
    pub fn parse(name: &str) -> Option<Self> {
        ACCEPTABLE
            .iter()
            .find(|(known, _, _)| *known == name)
            .map(|(_, jwt, oidc)| Self {
                jwt: *jwt,
                oidc: oidc.clone(),
            })
    }

    /// The algorithm for `jsonwebtoken` (access tokens).
    pub fn jwt(&self) -> Algorithm {
        self.jwt
    }

    /// The algorithm for `openidconnect`'s ID-token verifier.
    pub fn oidc(&self) -> CoreJwsSigningAlgorithm {
        self.oidc.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::SigningAlgorithm;

    #[test]
    fn only_asymmetric_algorithms_parse() {
        for good in ["RS256", "PS512", "ES256", "EdDSA"] {
            assert!(SigningAlgorithm::parse(good).is_some(), "{good}");
        }
        for bad in ["none", "HS256", "HS384", "HS512", "rs256", ""] {
            assert!(SigningAlgorithm::parse(bad).is_none(), "{bad}");
        }
    }
}
