//! Sign-in for people: the identity provider (IdP) and browser-login settings.
//!
//! All optional: without `AUDITLOG_OIDC_ISSUER` the service accepts API keys
//! and the operator token only, exactly as before. [`OidcConfig::settings`]
//! validates the combination once at start-up (no I/O) and yields the typed
//! [`OidcSettings`] the `auth::oidc` module works with.

use std::time::Duration;

use clap::Args;

use super::{CrossOrigins, Secret};
use openidconnect::url::{Origin, Url};

use crate::auth::oidc::{ClaimMapping, LoginSettings, OidcSettings, SigningAlgorithm};

/// Flags and environment variables of the identity-provider integration.
#[derive(Clone, Debug, Args)]
pub struct OidcConfig {
    /// Issuer URL of the OpenID Provider (its discovery document lives at
    /// `<issuer>/.well-known/openid-configuration`). Unset: people cannot sign in.
    #[arg(long, env = "AUDITLOG_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,

    /// Accepted `aud` values of access tokens (comma-separated): the identifier
    /// of this API at the IdP. Required with an issuer.
    #[arg(long, env = "AUDITLOG_OIDC_AUDIENCE", value_delimiter = ',')]
    pub oidc_audience: Vec<String>,

    /// OAuth2 client id of this service (browser login and token introspection).
    #[arg(long, env = "AUDITLOG_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,

    /// OAuth2 client secret of this service. Never logged.
    #[arg(long, env = "AUDITLOG_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<Secret>,

    /// Public base URL of this service as browsers reach it (e.g.
    /// `https://audit.example.com`). Enables the browser login; its origin may
    /// send cookie-authenticated requests; `https` makes cookies `Secure`.
    #[arg(long, env = "AUDITLOG_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Redirect URL registered at the IdP. Default: `<public url>/auth/callback`.
    #[arg(long, env = "AUDITLOG_OIDC_REDIRECT_URL")]
    pub oidc_redirect_url: Option<String>,

    /// Scopes requested at browser login (space- or comma-separated).
    #[arg(
        long,
        env = "AUDITLOG_OIDC_SCOPES",
        default_value = "openid profile email"
    )]
    pub oidc_scopes: String,

    /// Claim naming the person's tenant (its slug or id). A dotted path reaches
    /// into nested objects when no claim has the literal name.
    #[arg(long, env = "AUDITLOG_OIDC_TENANT_CLAIM", default_value = "org_id")]
    pub oidc_tenant_claim: String,

    /// Claim listing the person's roles (an array, or a space-separated string);
    /// dotted paths as for the tenant claim (e.g. `realm_access.roles`).
    #[arg(long, env = "AUDITLOG_OIDC_ROLES_CLAIM", default_value = "roles")]
    pub oidc_roles_claim: String,

    /// Roles-claim values that make a person ADMIN (comma-separated).
    #[arg(
        long,
        env = "AUDITLOG_OIDC_ADMIN_ROLES",
        value_delimiter = ',',
        default_value = "admin"
    )]
    pub oidc_admin_roles: Vec<String>,

    /// Roles-claim values that make a person AUDITOR (comma-separated).
    #[arg(
        long,
        env = "AUDITLOG_OIDC_AUDITOR_ROLES",
        value_delimiter = ',',
        default_value = "auditor"
    )]
    pub oidc_auditor_roles: Vec<String>,

    /// JWS algorithms accepted on tokens (comma-separated). Asymmetric only:
    /// `none` and `HS*` are refused at start-up.
    #[arg(
        long,
        env = "AUDITLOG_OIDC_ALGORITHMS",
        value_delimiter = ',',
        default_value = "RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,EdDSA"
    )]
    pub oidc_algorithms: Vec<String>,

    /// Clock skew tolerated on `exp`/`nbf`, in seconds.
    #[arg(long, env = "AUDITLOG_OIDC_LEEWAY_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(0..=300))]
    pub oidc_leeway_secs: u64,

    /// Shortest interval between two JWKS downloads triggered by unknown key ids.
    #[arg(
        long,
        env = "AUDITLOG_OIDC_JWKS_MIN_REFRESH_SECS",
        default_value_t = 10
    )]
    pub oidc_jwks_min_refresh_secs: u64,

    /// Longest time an introspection result (opaque tokens) is cached; it never
    /// outlives the token's own `exp`. A revoked token stops working within it.
    #[arg(
        long,
        env = "AUDITLOG_OIDC_INTROSPECTION_CACHE_SECS",
        default_value_t = 60
    )]
    pub oidc_introspection_cache_secs: u64,

    /// Most introspection results kept at once.
    #[arg(
        long,
        env = "AUDITLOG_OIDC_INTROSPECTION_CACHE_ENTRIES",
        default_value_t = 10_000
    )]
    pub oidc_introspection_cache_entries: u64,

    /// Lifetime of a browser session, in seconds (default 8 hours).
    #[arg(long, env = "AUDITLOG_SESSION_TTL_SECS", default_value_t = 8 * 3600,
          value_parser = clap::value_parser!(u64).range(60..=30 * 86_400))]
    pub session_ttl_secs: u64,

    /// How often an open WebSocket re-validates its API key, token or session
    /// (a person's also ends exactly when the token or session expires), in seconds.
    #[arg(long, env = "AUDITLOG_AUTH_RECHECK_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub auth_recheck_secs: u64,
}

impl Default for OidcConfig {
    /// The flags' declared defaults (each written once, in its attribute).
    fn default() -> Self {
        auditlog_worker::config::defaults()
    }
}

impl OidcConfig {
    /// The validated settings, or `None` when no issuer is configured. An error
    /// names the setting at fault. Cookie requests are accepted from the public
    /// URL's origin and `cross_origins`.
    pub fn settings(&self, cross_origins: &CrossOrigins) -> anyhow::Result<Option<OidcSettings>> {
        let Some(issuer) = non_empty(&self.oidc_issuer) else {
            return Ok(None);
        };
        // Kept exactly as configured: `iss` is compared byte for byte, and some
        // IdPs' issuers end with a slash (Auth0) while others' do not (Keycloak).
        let issuer = issuer.to_owned();
        Url::parse(&issuer)
            .map_err(|e| anyhow::anyhow!("AUDITLOG_OIDC_ISSUER is not a URL: {e}"))?;
        let audiences = trimmed(&self.oidc_audience);
        if audiences.is_empty() {
            anyhow::bail!(
                "AUDITLOG_OIDC_AUDIENCE is required with AUDITLOG_OIDC_ISSUER (the `aud` of this API's access tokens)"
            );
        }
        let algorithms = self
            .oidc_algorithms
            .iter()
            .map(|name| name.trim())
            .filter(|name| !name.is_empty())
            .map(|name| {
                SigningAlgorithm::parse(name).ok_or_else(|| {
                    anyhow::anyhow!(
                        "AUDITLOG_OIDC_ALGORITHMS: {name:?} is not an accepted algorithm \
                         (asymmetric JWS algorithms only; never `none` or HS*)"
                    )
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        if algorithms.is_empty() {
            anyhow::bail!("AUDITLOG_OIDC_ALGORITHMS must name at least one algorithm");
        }
        let mapping = ClaimMapping {
            tenant_claim: required(&self.oidc_tenant_claim, "AUDITLOG_OIDC_TENANT_CLAIM")?,
            roles_claim: required(&self.oidc_roles_claim, "AUDITLOG_OIDC_ROLES_CLAIM")?,
            admin_values: trimmed(&self.oidc_admin_roles),
            auditor_values: trimmed(&self.oidc_auditor_roles),
        };
        let client_id = non_empty(&self.oidc_client_id).map(str::to_owned);
        let client_secret = non_empty(&self.oidc_client_secret).map(str::to_owned);
        let login = self.login_settings(client_id.as_deref(), cross_origins)?;
        Ok(Some(OidcSettings {
            issuer,
            audiences,
            client_id,
            client_secret,
            algorithms,
            leeway: Duration::from_secs(self.oidc_leeway_secs),
            jwks_min_refresh: Duration::from_secs(self.oidc_jwks_min_refresh_secs),
            introspection_cache_max: Duration::from_secs(self.oidc_introspection_cache_secs),
            introspection_cache_entries: self.oidc_introspection_cache_entries.max(1),
            mapping,
            login,
            recheck_every: Duration::from_secs(self.auth_recheck_secs),
        }))
    }

    /// Browser login needs a client id and a redirect URL (given, or derived
    /// from the public URL); without them only bearer tokens are accepted.
    fn login_settings(
        &self,
        client_id: Option<&str>,
        cross_origins: &CrossOrigins,
    ) -> anyhow::Result<Option<LoginSettings>> {
        let public_url = non_empty(&self.public_url).map(|url| url.trim_end_matches('/'));
        let redirect_url = match (non_empty(&self.oidc_redirect_url), public_url) {
            (Some(url), _) => url.to_owned(),
            (None, Some(public)) => format!("{public}/auth/callback"),
            (None, None) => return Ok(None),
        };
        if client_id.is_none() {
            anyhow::bail!(
                "AUDITLOG_OIDC_CLIENT_ID is required for the browser login (AUDITLOG_PUBLIC_URL or AUDITLOG_OIDC_REDIRECT_URL is set)"
            );
        }
        let redirect = Url::parse(&redirect_url)
            .map_err(|e| anyhow::anyhow!("the redirect URL {redirect_url:?} is not a URL: {e}"))?;
        let base = match public_url {
            Some(public) => Url::parse(public)
                .map_err(|e| anyhow::anyhow!("AUDITLOG_PUBLIC_URL is not a URL: {e}"))?,
            None => redirect.clone(),
        };
        let mut allowed_origins = vec![origin_of(&base)?];
        allowed_origins.extend_from_slice(cross_origins.as_slice());
        let scopes = self
            .oidc_scopes
            .split([' ', ','])
            .filter(|scope| !scope.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(Some(LoginSettings {
            redirect_url,
            scopes,
            secure_cookies: base.scheme() == "https",
            allowed_origins,
            session_ttl: Duration::from_secs(self.session_ttl_secs),
        }))
    }

    /// The public URL's origin (`scheme://host[:port]`), when one is set.
    pub fn public_origin(&self) -> anyhow::Result<Option<String>> {
        let Some(public) = non_empty(&self.public_url) else {
            return Ok(None);
        };
        let url = Url::parse(public)
            .map_err(|e| anyhow::anyhow!("AUDITLOG_PUBLIC_URL is not a URL: {e}"))?;
        Ok(Some(origin_of(&url)?))
    }

    /// The origins browsers may open WebSockets from: the public URL's origin
    /// (when set) and `cross_origins`. Empty: no `Origin` is checked.
    pub fn websocket_origins(&self, cross_origins: &CrossOrigins) -> anyhow::Result<Vec<String>> {
        let mut origins = Vec::new();
        if let Some(public) = non_empty(&self.public_url) {
            let url = Url::parse(public)
                .map_err(|e| anyhow::anyhow!("AUDITLOG_PUBLIC_URL is not a URL: {e}"))?;
            origins.push(origin_of(&url)?);
        }
        origins.extend_from_slice(cross_origins.as_slice());
        Ok(origins)
    }
}

/// `scheme://host[:port]`, the way browsers send it in `Origin`.
fn origin_of(url: &Url) -> anyhow::Result<String> {
    match url.origin() {
        origin @ Origin::Tuple(..) => Ok(origin.ascii_serialization()),
        Origin::Opaque(_) => anyhow::bail!("{url} has no origin"),
    }
}

fn non_empty<T: std::ops::Deref<Target = str>>(value: &Option<T>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn trimmed(values: &[String]) -> Vec<String> {
    values
        .iter()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

fn required(value: &str, name: &str) -> anyhow::Result<String> {
    let value = value.trim();
    if value.is_empty() {
        anyhow::bail!("{name} must not be empty");
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::{CrossOrigins, OidcConfig};
    use crate::config::OriginsConfig;

    fn configured() -> OidcConfig {
        OidcConfig {
            oidc_issuer: Some("https://idp.example.com/".into()),
            oidc_audience: vec!["https://api.example.com".into()],
            oidc_client_id: Some("console".into()),
            public_url: Some("https://audit.example.com".into()),
            ..OidcConfig::default()
        }
    }

    #[test]
    fn no_issuer_means_no_sign_in() {
        assert!(
            OidcConfig::default()
                .settings(&CrossOrigins::default())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn derives_redirect_url_origins_and_secure_cookies() {
        let settings = configured()
            .settings(&CrossOrigins::default())
            .unwrap()
            .unwrap();
        assert_eq!(settings.issuer, "https://idp.example.com/");
        let login = settings.login.unwrap();
        assert_eq!(
            login.redirect_url,
            "https://audit.example.com/auth/callback"
        );
        assert_eq!(login.allowed_origins, vec!["https://audit.example.com"]);
        assert!(login.secure_cookies);
    }

    #[test]
    fn cookie_and_websocket_origins_add_the_cross_origins_to_the_public_one() {
        let cross = OriginsConfig {
            cors_origins: vec!["https://app.example.com".into()],
            ..OriginsConfig::default()
        }
        .cross_origins()
        .unwrap();
        let expected = ["https://audit.example.com", "https://app.example.com"];
        let login = configured()
            .settings(&cross)
            .unwrap()
            .unwrap()
            .login
            .unwrap();
        assert_eq!(login.allowed_origins, expected);
        assert_eq!(configured().websocket_origins(&cross).unwrap(), expected);
    }

    #[test]
    fn refuses_symmetric_and_none_algorithms() {
        for bad in ["HS256", "none", "RS1"] {
            let config = OidcConfig {
                oidc_algorithms: vec![bad.into()],
                ..configured()
            };
            assert!(
                config.settings(&CrossOrigins::default()).is_err(),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn requires_an_audience() {
        let config = OidcConfig {
            oidc_audience: vec![],
            ..configured()
        };
        assert!(config.settings(&CrossOrigins::default()).is_err());
    }
}
