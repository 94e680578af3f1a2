//! OpenID Connect discovery, and the `openidconnect`/`oauth2` client types
//! built from it.
//!
//! The discovery document (`<issuer>/.well-known/openid-configuration`) is
//! fetched with `openidconnect` (which checks that its `issuer` is the
//! configured one) on first use, then kept for the life of the process. A
//! failed fetch is retried at most every [`RETRY_AFTER`], so an unreachable IdP
//! costs a request no more than one attempt per interval.
//!
//! Every OAuth2 exchange (authorization URL with PKCE, code exchange, RFC 7662
//! introspection) goes through the clients built here: `openidconnect::Client`
//! wraps `oauth2::Client` and re-exports its types.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreClaimName, CoreClaimType, CoreClientAuthMethod,
    CoreErrorResponseType, CoreGenderClaim, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm,
    CoreResponseMode, CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreSubjectIdentifierType, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AdditionalProviderMetadata, Client, ClientId, ClientSecret,
    EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, ExtraTokenFields,
    IdTokenFields, IntrospectionUrl, IssuerUrl, ProviderMetadata, RedirectUrl,
    StandardErrorResponse, StandardTokenIntrospectionResponse, StandardTokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::settings::OidcSettings;

/// Shortest wait between two discovery attempts after a failure.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// Discovery fields `openidconnect`'s core metadata lacks.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub(crate) struct ExtraProviderMetadata {
    /// RFC 8414 / RFC 7662: where opaque access tokens are introspected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint: Option<IntrospectionUrl>,
}
impl AdditionalProviderMetadata for ExtraProviderMetadata {}

/// Claims beyond the standard ones (the tenant and roles claims live here).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub(crate) struct ExtraClaims {
    #[serde(flatten)]
    pub other: Map<String, Value>,
}
impl AdditionalClaims for ExtraClaims {}

/// Members of an introspection response beyond RFC 7662's (tenant, roles, name…).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub(crate) struct ExtraFields {
    #[serde(flatten)]
    pub other: Map<String, Value>,
}
impl ExtraTokenFields for ExtraFields {}

pub(crate) type OidcProviderMetadata = ProviderMetadata<
    ExtraProviderMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

pub(crate) type OidcTokenResponse = StandardTokenResponse<
    IdTokenFields<
        ExtraClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

pub(crate) type IntrospectionResponse =
    StandardTokenIntrospectionResponse<ExtraFields, CoreTokenType>;

/// The service's client at the IdP, with the endpoints the typestate says are set.
pub(crate) type OidcClient<HasIntrospectionUrl> = Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    OidcTokenResponse,
    IntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    HasIntrospectionUrl,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What discovery yields, built once per process.
pub(crate) struct Discovered {
    pub jwks_uri: String,
    /// Browser login (authorization code + PKCE); needs a client id and a redirect URL.
    pub login: Option<OidcClient<EndpointNotSet>>,
    /// Introspection of opaque tokens; needs a client id and the endpoint.
    pub introspection: Option<OidcClient<EndpointSet>>,
}

#[derive(Default)]
pub(crate) struct Discovery {
    discovered: tokio::sync::OnceCell<Arc<Discovered>>,
    last_failure: Mutex<Option<Instant>>,
}

impl Discovery {
    /// The discovered provider; concurrent first callers share one fetch.
    pub(crate) async fn get(
        &self,
        settings: &OidcSettings,
        http: &reqwest::Client,
    ) -> Result<Arc<Discovered>, String> {
        if let Some(discovered) = self.discovered.get() {
            return Ok(discovered.clone());
        }
        let failed_recently = self
            .last_failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some_and(|at| at.elapsed() < RETRY_AFTER);
        if failed_recently {
            return Err("discovery failed moments ago; retrying shortly".into());
        }
        let result = self
            .discovered
            .get_or_try_init(|| async { discover(settings, http).await.map(Arc::new) })
            .await
            .cloned();
        if let Err(error) = &result {
            tracing::warn!(issuer = %settings.issuer, error = %error, "OpenID Connect discovery failed");
            *self
                .last_failure
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
        }
        result
    }
}

async fn discover(settings: &OidcSettings, http: &reqwest::Client) -> Result<Discovered, String> {
    let issuer = IssuerUrl::new(settings.issuer.clone()).map_err(|e| e.to_string())?;
    let metadata = OidcProviderMetadata::discover_async(issuer, http)
        .await
        .map_err(|e| format!("{e}"))?;
    let jwks_uri = metadata.jwks_uri().url().to_string();
    let introspection_url = metadata
        .additional_metadata()
        .introspection_endpoint
        .clone();
    let Some(client_id) = settings.client_id.clone() else {
        tracing::info!(issuer = %settings.issuer, "identity provider discovered (no client id: JWT access tokens only)");
        return Ok(Discovered {
            jwks_uri,
            login: None,
            introspection: None,
        });
    };
    let client = Client::from_provider_metadata(
        metadata,
        ClientId::new(client_id),
        settings.client_secret.clone().map(ClientSecret::new),
    );
    let login = match &settings.login {
        Some(login) => Some(client.clone().set_redirect_uri(
            RedirectUrl::new(login.redirect_url.clone()).map_err(|e| e.to_string())?,
        )),
        None => None,
    };
    let introspection = introspection_url.map(|url| client.set_introspection_url(url));
    tracing::info!(
        issuer = %settings.issuer,
        browser_login = login.is_some(),
        introspection = introspection.is_some(),
        "identity provider discovered"
    );
    Ok(Discovered {
        jwks_uri,
        login,
        introspection,
    })
}
