//! The protocol half of the browser login: an authorization request with PKCE,
//! `state` and `nonce`; then the code exchange and the ID token's validation
//! (signature against the cached JWKS, `iss`, `aud`/`azp`, `exp`, `nonce`,
//! `at_hash`) by `openidconnect`. Cookies, redirects and sessions are the
//! HTTP layer's (`http::login`); this module only speaks to the IdP.

use openidconnect::core::{CoreAuthenticationFlow, CoreIdTokenVerifier};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, CsrfToken, EndpointNotSet, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::discovery::OidcClient;
use super::keys::KeyCache;
use super::settings::OidcSettings;

/// What the browser must bring back to `/auth/callback`: kept in an encrypted
/// cookie between the two requests, so any replica can finish the login.
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// Where to send the browser, and what to remember meanwhile.
pub struct LoginRedirect {
    pub authorize_url: String,
    pub pending: PendingLogin,
}

/// Why a login could not be completed (the category is logged and, when the
/// tenant is known, recorded as `user.login_failed`).
#[derive(Debug, thiserror::Error)]
pub enum LoginFailure {
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
    #[error("the authorization code could not be exchanged: {0}")]
    CodeExchange(String),
    #[error("the identity provider returned no ID token")]
    NoIdToken,
    #[error("the ID token is invalid: {0}")]
    InvalidIdToken(String),
}

impl LoginFailure {
    pub fn category(&self) -> &'static str {
        match self {
            Self::Unavailable(_) => "idp_unavailable",
            Self::CodeExchange(_) => "code_exchange_failed",
            Self::NoIdToken => "missing_id_token",
            Self::InvalidIdToken(_) => "invalid_id_token",
        }
    }
}

pub(crate) fn start(client: &OidcClient<EndpointNotSet>, scopes: &[String]) -> LoginRedirect {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        // `openid` is always requested by the client itself.
        .add_scopes(
            scopes
                .iter()
                .filter(|scope| scope.as_str() != "openid")
                .map(|scope| Scope::new(scope.clone())),
        )
        .set_pkce_challenge(challenge)
        .url();
    LoginRedirect {
        authorize_url: url.to_string(),
        pending: PendingLogin {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        },
    }
}

/// Exchanges `code` and returns the verified ID token's claims as JSON.
pub(crate) async fn finish(
    settings: &OidcSettings,
    client: &OidcClient<EndpointNotSet>,
    keys: &KeyCache,
    http: &reqwest::Client,
    jwks_uri: &str,
    code: String,
    pending: PendingLogin,
) -> Result<Map<String, Value>, LoginFailure> {
    let response = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|error| LoginFailure::CodeExchange(error.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier))
        .request_async(http)
        .await
        .map_err(|error| LoginFailure::CodeExchange(error.to_string()))?;
    let id_token = response.id_token().ok_or(LoginFailure::NoIdToken)?;
    // Make sure the key that signed it is known (a rotation is picked up here too).
    let kid = jsonwebtoken::decode_header(id_token.to_string())
        .map_err(|error| LoginFailure::InvalidIdToken(error.to_string()))?
        .kid;
    let key_set = keys.keys_for(http, jwks_uri, kid.as_deref()).await;
    let issuer = IssuerUrl::new(settings.issuer.clone())
        .map_err(|error| LoginFailure::InvalidIdToken(error.to_string()))?;
    // A public-client verifier: no client secret, so no HMAC-signed ID tokens.
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(settings.client_id.clone().unwrap_or_default()),
        issuer,
        key_set.oidc.clone(),
    )
    .set_allowed_algs(settings.algorithms.iter().map(|alg| alg.oidc()));
    let claims = id_token
        .claims(&verifier, &Nonce::new(pending.nonce))
        .map_err(|error| LoginFailure::InvalidIdToken(error.to_string()))?;
    if let Some(expected) = claims.access_token_hash() {
        let signing_alg = id_token
            .signing_alg()
            .map_err(|error| LoginFailure::InvalidIdToken(error.to_string()))?;
        let signing_key = id_token
            .signing_key(&verifier)
            .map_err(|error| LoginFailure::InvalidIdToken(error.to_string()))?;
        let actual = AccessTokenHash::from_token(response.access_token(), signing_alg, signing_key)
            .map_err(|error| LoginFailure::InvalidIdToken(error.to_string()))?;
        if actual != *expected {
            return Err(LoginFailure::InvalidIdToken("at_hash mismatch".into()));
        }
    }
    match serde_json::to_value(claims) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(LoginFailure::InvalidIdToken(
            "the ID token's claims are not a JSON object".into(),
        )),
    }
}
