//! The identity provider (IdP): an OpenID Provider such as Auth0, Keycloak,
//! Okta, Entra ID or WorkOS, through which people sign in.
//!
//! [`IdentityProvider`] validates the IdP's access tokens — JWTs locally
//! ([`access_token`], keys from [`keys`]), opaque ones by RFC 7662
//! introspection ([`introspection`]) — and runs the protocol half of the
//! browser login ([`login`]). It returns claims; turning claims into a tenant
//! and a role ([`claims`]) is the authenticator's job, which has the database.
//!
//! Libraries do the protocol work: `openidconnect` (discovery, ID tokens, and
//! through it `oauth2` for PKCE, code exchange and introspection) and
//! `jsonwebtoken` (JWT access tokens). Nothing here logs or stores a token, a
//! code, a verifier or the client secret.

pub(crate) mod access_token;
pub(crate) mod authorization_code;
pub(crate) mod claims;
pub(crate) mod discovery;
pub(crate) mod keys;
pub(crate) mod settings;
pub(crate) mod token_introspection;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

pub(crate) use authorization_code::{LoginFailure, LoginRedirect, PendingLogin};
pub(crate) use claims::{ClaimMapping, IdentityClaims, Refusal};
pub(crate) use settings::{LoginSettings, OidcSettings, SigningAlgorithm};

use discovery::Discovery;
use keys::KeyCache;
use token_introspection::Introspector;

/// Time limit of one request to the IdP.
const IDP_TIMEOUT: Duration = Duration::from_secs(10);

/// The verdict on a presented access token.
#[derive(Debug)]
pub enum TokenCheck {
    /// Signature/introspection, issuer, audience and lifetime hold: the claims.
    Valid(Map<String, Value>),
    /// Not acceptable; a short category for the log (never the token).
    Invalid(&'static str),
}

/// The IdP could not be asked (discovery, JWKS or introspection failed).
#[derive(Debug, thiserror::Error)]
#[error("identity provider unavailable: {0}")]
pub struct IdpUnavailable(pub String);

#[derive(Clone)]
pub struct IdentityProvider {
    inner: Arc<Inner>,
}

struct Inner {
    settings: OidcSettings,
    /// Redirects off (no request of ours is ever sent somewhere else), bounded time.
    http: reqwest::Client,
    discovery: Discovery,
    keys: KeyCache,
    introspector: Introspector,
}

impl IdentityProvider {
    pub fn new(settings: OidcSettings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(IDP_TIMEOUT)
            .build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                keys: KeyCache::new(settings.jwks_min_refresh),
                introspector: Introspector::new(&settings),
                discovery: Discovery::default(),
                settings,
                http,
            }),
        })
    }

    pub fn settings(&self) -> &OidcSettings {
        &self.inner.settings
    }

    /// Fetches the discovery document and the keys in the background, so the
    /// first person's request does not wait for them (failures are retried on use).
    pub fn warm_up(&self) {
        let idp = self.clone();
        tokio::spawn(async move {
            let inner = &idp.inner;
            if let Ok(discovered) = inner.discovery.get(&inner.settings, &inner.http).await {
                inner
                    .keys
                    .keys_for(&inner.http, &discovered.jwks_uri, None)
                    .await;
            }
        });
    }

    /// Validates an access token: a JWT locally, anything else by introspection
    /// (when this service has a client at the IdP; otherwise it is invalid).
    pub async fn check_access_token(&self, token: &str) -> Result<TokenCheck, IdpUnavailable> {
        let inner = &self.inner;
        let discovered = inner
            .discovery
            .get(&inner.settings, &inner.http)
            .await
            .map_err(IdpUnavailable)?;
        if access_token::looks_like_jwt(token) {
            return Ok(access_token::verify(
                &inner.settings,
                &inner.keys,
                &inner.http,
                &discovered.jwks_uri,
                token,
            )
            .await);
        }
        let Some(client) = &discovered.introspection else {
            return Ok(TokenCheck::Invalid("opaque_token_without_introspection"));
        };
        let check = inner
            .introspector
            .check(&inner.settings, client, &inner.http, token)
            .await
            .map_err(IdpUnavailable)?;
        Ok(match check.as_ref() {
            TokenCheck::Valid(claims) => TokenCheck::Valid(claims.clone()),
            TokenCheck::Invalid(reason) => TokenCheck::Invalid(reason),
        })
    }

    /// Starts a browser login; `None` when the browser login is not configured.
    pub async fn start_login(&self) -> Result<Option<LoginRedirect>, IdpUnavailable> {
        let inner = &self.inner;
        let Some(login_settings) = &inner.settings.login else {
            return Ok(None);
        };
        let discovered = inner
            .discovery
            .get(&inner.settings, &inner.http)
            .await
            .map_err(IdpUnavailable)?;
        Ok(discovered
            .login
            .as_ref()
            .map(|client| authorization_code::start(client, &login_settings.scopes)))
    }

    /// Finishes a browser login: the verified ID token's claims.
    pub async fn finish_login(
        &self,
        code: String,
        pending: PendingLogin,
    ) -> Result<Map<String, Value>, LoginFailure> {
        let inner = &self.inner;
        let discovered = inner
            .discovery
            .get(&inner.settings, &inner.http)
            .await
            .map_err(LoginFailure::Unavailable)?;
        let Some(client) = &discovered.login else {
            return Err(LoginFailure::Unavailable(
                "the browser login is not configured".into(),
            ));
        };
        authorization_code::finish(
            &inner.settings,
            client,
            &inner.keys,
            &inner.http,
            &discovered.jwks_uri,
            code,
            pending,
        )
        .await
    }
}
