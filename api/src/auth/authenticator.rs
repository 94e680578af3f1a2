//! [`Authenticator`]: turns a bearer token (or a browser session) into a [`Principal`].
//!
//! Order for a bearer token: the operator token; a platform key (`alp_...`);
//! a viewer token (a JWT whose header says `typ: auditlog-viewer+jwt`,
//! verified by its signature alone: no database round trip but the tenant
//! row, cached like API keys); an API key (`alk_...`); else, when an identity
//! provider is configured, the IdP's access token (see [`super::people`]).
//! Without an IdP, anything else is `Invalid`. A viewer token is decided here
//! and never sent to the identity provider, forged or not.
//!
//! The `Auditlog-Tenant` header (its value is the `named_tenant` argument)
//! picks the tenant a platform key acts for, by slug or id. Every other
//! credential carries its tenant; the header may repeat it, and a header
//! naming any other tenant refuses the request (`FORBIDDEN`), so a tenant's
//! identity still comes only from its credential. The operator ignores it.

use std::sync::Arc;

use entity::tenants;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::oidc::IdpUnavailable;
use super::person_auth::{People, PeopleError, PersonOutcome};
use super::viewer_token::{self, LazyViewerKeys, ViewerTokenError};
use super::{ApiKeyCache, CallerIdentity, PlatformCaller, Principal, TenantCaller, ViewerCaller};
use crate::domain::clock;
use crate::domain::secret::{
    PresentedKey, PresentedPlatformKey, parse_key, parse_platform_key, secret_matches, tokens_match,
};
use crate::domain::{Plan, PlatformRole, RetentionRules, RetentionWindow, Role, TenantSlug};
use crate::store::read_scope::ReadScope;
use crate::store::{self, StoreError};

/// SHA-256 of no secret anyone holds (hex of 32 zero bytes): the decoy that
/// unknown slugs are checked against.
const DECOY_SECRET_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Clone)]
pub struct Authenticator {
    db: DatabaseConnection,
    /// `None` turns the operator API off.
    operator_token: Option<Arc<str>>,
    /// Turns the tenant row into the caller's retention window.
    retention: RetentionRules,
    /// People signing in through the identity provider; `None`: API keys only.
    people: Option<People>,
    /// Recently verified API keys (see `key_cache`).
    key_cache: ApiKeyCache,
    /// Verifies viewer tokens; `None`: they are not accepted.
    viewer_keys: Option<LazyViewerKeys>,
}

/// Authentication could not decide (never a bad credential: that is `Invalid`).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    IdentityProvider(#[from] IdpUnavailable),
    /// The viewer-token keys could not be loaded (the schema is not migrated,
    /// or the database is down).
    #[error("the viewer-token keys are unavailable: {0}")]
    ViewerKeys(String),
}

impl AuthError {
    /// The database could not be reached: the client should retry (`UNAVAILABLE`).
    pub fn is_database_unavailable(&self) -> bool {
        match self {
            Self::Store(StoreError::Database(error)) => {
                crate::error::unavailable::is_unavailable(error)
            }
            // Loaded from the database on first use: until that succeeds
            // (migrated schema, reachable database) the caller should retry.
            Self::ViewerKeys(_) => true,
            _ => false,
        }
    }
}

impl From<PeopleError> for AuthError {
    fn from(error: PeopleError) -> Self {
        match error {
            PeopleError::Store(error) => Self::Store(error),
            PeopleError::IdentityProvider(error) => Self::IdentityProvider(error),
        }
    }
}

impl Authenticator {
    pub fn new(
        db: DatabaseConnection,
        operator_token: Option<String>,
        retention: RetentionRules,
    ) -> Self {
        let operator_token = operator_token
            .filter(|token| !token.is_empty())
            .map(Arc::from);
        Self {
            db,
            operator_token,
            retention,
            people: None,
            key_cache: ApiKeyCache::disabled(),
            viewer_keys: None,
        }
    }

    /// Also accepts viewer tokens signed by `keys`.
    pub(crate) fn with_viewer_keys(mut self, keys: LazyViewerKeys) -> Self {
        self.viewer_keys = Some(keys);
        self
    }

    /// Keeps verified API keys in `cache` (shared with whoever invalidates it).
    pub fn with_key_cache(mut self, cache: ApiKeyCache) -> Self {
        self.key_cache = cache;
        self
    }

    /// Also accepts people (IdP access tokens and browser sessions).
    pub fn with_people(mut self, people: Option<People>) -> Self {
        self.people = people;
        self
    }

    pub fn people(&self) -> Option<&People> {
        self.people.as_ref()
    }

    /// Authenticates the value of an `Authorization` header (or its absence),
    /// for the tenant `named_tenant` (the `Auditlog-Tenant` header) names.
    /// Only database and IdP failures are errors; every bad credential is `Invalid`.
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        named_tenant: Option<&str>,
    ) -> Result<Principal, AuthError> {
        let Some(header) = authorization else {
            return Ok(Principal::Anonymous);
        };
        let Some(token) = bearer_token(header) else {
            return Ok(Principal::Invalid);
        };
        if let Some(operator_token) = &self.operator_token
            && tokens_match(token, operator_token)
        {
            return Ok(Principal::Operator);
        }
        if let Some(presented) = parse_platform_key(token) {
            return Ok(self
                .platform_principal(token, &presented, named_tenant)
                .await?);
        }
        let principal = if viewer_token::looks_like_viewer_token(token) {
            self.viewer_principal(token).await?
        } else if parse_key(token).is_none()
            && let Some(people) = &self.people
        {
            let outcome = people.authenticate_token(token).await?;
            self.person_principal(outcome)
        } else if let Some(principal) = self.key_cache.get(token) {
            principal
        } else {
            let principal = self.authenticate_api_key(token).await?;
            if matches!(principal, Principal::Tenant(_)) {
                self.key_cache.insert(token, &principal);
            }
            principal
        };
        Ok(only_own_tenant(principal, named_tenant))
    }

    /// Whether this `Authorization` value (with this `Auditlog-Tenant`) was
    /// verified within `AUDITLOG_AUTH_CACHE_MS`: then authenticating it again
    /// costs no database work, and the per-IP limit, which guards that work
    /// against unauthenticated floods, lets it through to its credential's
    /// own limit. A wrong credential is never cached, so it is always counted.
    pub fn recently_verified(&self, authorization: &str, named_tenant: Option<&str>) -> bool {
        let Some(token) = bearer_token(authorization) else {
            return false;
        };
        if parse_platform_key(token).is_some() {
            return self
                .key_cache
                .get(&platform_cache_key(token, named_tenant))
                .is_some();
        }
        self.key_cache.get(token).is_some()
    }

    /// Authenticates the value of the browser-session cookie (the HTTP layer
    /// has checked the request's origin first).
    pub async fn authenticate_session(
        &self,
        cookie: &str,
        named_tenant: Option<&str>,
    ) -> Result<Principal, AuthError> {
        let Some(people) = &self.people else {
            return Ok(Principal::Invalid);
        };
        let outcome = people.authenticate_session(cookie).await?;
        Ok(only_own_tenant(
            self.person_principal(outcome),
            named_tenant,
        ))
    }

    /// The principal of an authenticated (or refused) person; refusals are
    /// logged with the person's subject and the reason, never the credential.
    pub fn person_principal(&self, outcome: PersonOutcome) -> Principal {
        match outcome {
            PersonOutcome::Accepted {
                tenant,
                role,
                person,
            } => match self.retention_window(&tenant) {
                Some((plan, retention)) => Principal::Tenant(TenantCaller {
                    tenant_id: tenant.id,
                    tenant_slug: tenant.slug,
                    identity: CallerIdentity::Person(person),
                    role,
                    retention,
                    plan,
                }),
                None => Principal::Invalid,
            },
            PersonOutcome::Refused {
                tenant,
                person,
                refusal,
            } => {
                super::person_auth::log_refusal("bearer token", tenant.as_ref(), &person, &refusal);
                Principal::Refused(refusal.message())
            }
            PersonOutcome::Invalid(reason) => {
                tracing::info!(reason, "a person's credential was rejected");
                Principal::Invalid
            }
        }
    }

    /// The plan and retention window of `tenant` in force now (`None`, logged,
    /// for a row this build cannot read).
    fn retention_window(&self, tenant: &tenants::Model) -> Option<(Plan, RetentionWindow)> {
        let Some(plan) = Plan::from_db(&tenant.plan) else {
            tracing::error!(tenant_id = %tenant.id, plan = %tenant.plan, "tenant has an unknown plan");
            return None;
        };
        Some((
            plan,
            RetentionWindow {
                days: self.retention.effective_days(plan, tenant.retention_days),
                legal_hold: tenant.legal_hold,
            },
        ))
    }

    /// A viewer token's principal (cached per token like API keys; a cached
    /// one is still refused once the token has expired).
    async fn viewer_principal(&self, token: &str) -> Result<Principal, AuthError> {
        let now = clock::now();
        if let Some(principal) = self.key_cache.get(token) {
            let live = matches!(&principal, Principal::Tenant(caller) if caller.expires_at().is_none_or(|at| at > now));
            return Ok(if live { principal } else { Principal::Invalid });
        }
        let Some(keys) = &self.viewer_keys else {
            return Ok(Principal::Invalid);
        };
        let keys = keys
            .get()
            .await
            .map_err(|error| AuthError::ViewerKeys(error.to_string()))?;
        let claims = match viewer_token::verify(keys, token, now).await {
            Ok(claims) => claims,
            Err(ViewerTokenError::Expired) => {
                tracing::debug!("an expired viewer token was presented");
                return Ok(Principal::Invalid);
            }
            Err(error) => {
                tracing::info!(reason = %error, "a viewer token was rejected");
                return Ok(Principal::Invalid);
            }
        };
        let scope = match &claims.scope {
            None => None,
            Some(claim) => match viewer_token::scope::from_claim(claim) {
                Some(scope) => Some(std::sync::Arc::new(scope)),
                None => {
                    tracing::info!(token_id = %claims.jti, "a viewer token's scope is not one we mint");
                    return Ok(Principal::Invalid);
                }
            },
        };
        // The platform log is no tenant a token may read.
        if store::platform_log::is_platform_log(claims.tenant_id) {
            return Ok(Principal::Invalid);
        }
        let Some(tenant) = self.tenant_row(claims.tenant_id).await? else {
            return Ok(Principal::Invalid);
        };
        let Some((plan, retention)) = self.retention_window(&tenant) else {
            return Ok(Principal::Invalid);
        };
        let principal = Principal::Tenant(TenantCaller {
            tenant_id: tenant.id,
            tenant_slug: tenant.slug,
            role: claims.role.into(),
            identity: CallerIdentity::ViewerToken(ViewerCaller {
                token_id: claims.jti,
                subject_id: claims.subject.id,
                name: claims.subject.name,
                email: claims.subject.email,
                expires_at: claims.expires_at,
                scope,
            }),
            retention,
            plan,
        });
        self.key_cache.insert(token, &principal);
        Ok(principal)
    }

    /// A platform key, for the tenant `named_tenant` names (cached per key and
    /// header, like API keys).
    async fn platform_principal(
        &self,
        token: &str,
        presented: &PresentedPlatformKey<'_>,
        named_tenant: Option<&str>,
    ) -> Result<Principal, StoreError> {
        let cache_key = platform_cache_key(token, named_tenant);
        if let Some(principal) = self.key_cache.get(&cache_key) {
            return Ok(principal);
        }
        let Some(key) = self.platform_key(presented).await? else {
            return Ok(Principal::Invalid);
        };
        let principal = match named_tenant {
            None => Principal::Platform(key),
            Some(named) => match self.tenant_named(named).await? {
                Some(tenant) => match self.retention_window(&tenant) {
                    Some((plan, retention)) => Principal::Tenant(TenantCaller {
                        tenant_id: tenant.id,
                        tenant_slug: tenant.slug,
                        role: key.role.tenant_role(),
                        identity: CallerIdentity::PlatformKey(key),
                        retention,
                        plan,
                    }),
                    None => Principal::Invalid,
                },
                None => Principal::UnknownTenant(named.to_owned()),
            },
        };
        if matches!(principal, Principal::Platform(_) | Principal::Tenant(_)) {
            self.key_cache.insert(&cache_key, &principal);
        }
        Ok(principal)
    }

    /// The platform key `presented` is, if its secret matches and it is not
    /// revoked; refreshes its `last_used_at` when due.
    async fn platform_key(
        &self,
        presented: &PresentedPlatformKey<'_>,
    ) -> Result<Option<PlatformCaller>, StoreError> {
        let row = store::platform_keys::find_by_prefix(&self.db, presented.prefix).await?;
        // An unknown prefix is checked against the decoy, so that timing does
        // not tell which prefixes exist.
        let hash = row
            .as_ref()
            .map_or(DECOY_SECRET_HASH, |row| row.secret_hash.as_str());
        let matches = secret_matches(presented.secret, hash);
        let Some(row) = row.filter(|row| matches && row.revoked_at.is_none()) else {
            return Ok(None);
        };
        let Some(role) = PlatformRole::from_db(&row.role) else {
            tracing::error!(key_id = %row.id, role = %row.role, "platform key has an unknown role");
            return Ok(None);
        };
        let now = clock::now();
        if row
            .last_used_at
            .is_none_or(|at| now - at >= store::api_keys::LAST_USED_RESOLUTION)
        {
            store::platform_keys::touch_last_used(&self.db, row.id, now).await?;
        }
        Ok(Some(PlatformCaller {
            id: row.id,
            name: row.name,
            role,
        }))
    }

    /// The tenant `named` names: its id, or else its slug.
    async fn tenant_named(&self, named: &str) -> Result<Option<tenants::Model>, StoreError> {
        let tenant_id = match Uuid::try_parse(named.trim()) {
            Ok(id) => Some(id),
            Err(_) => match TenantSlug::parse(named.trim()) {
                Ok(slug) => store::registry::tenant_id_by_slug(&self.db, slug.as_str()).await?,
                Err(_) => None,
            },
        };
        // The platform log's row is no tenant anyone acts for.
        let Some(tenant_id) = tenant_id.filter(|id| !store::platform_log::is_platform_log(*id))
        else {
            return Ok(None);
        };
        self.tenant_row(tenant_id).await
    }

    /// The row of tenant `tenant_id`, read in a transaction scoped to it.
    async fn tenant_row(&self, tenant_id: Uuid) -> Result<Option<tenants::Model>, StoreError> {
        let txn = store::read_scope::begin_read(&self.db, tenant_id).await?;
        let tenant = store::tenants::find_by_id(&txn, tenant_id).await?;
        txn.commit().await?;
        Ok(tenant)
    }

    async fn authenticate_api_key(&self, token: &str) -> Result<Principal, StoreError> {
        let Some(presented) = parse_key(token) else {
            return Ok(Principal::Invalid);
        };
        // The key names its tenant by slug: the registry gives the id, and the
        // rest runs in a transaction scoped to that tenant.
        let Some(tenant_id) =
            store::registry::tenant_id_by_slug(&self.db, presented.tenant_slug).await?
        else {
            self.decoy_key_lookup(&presented).await?;
            return Ok(Principal::Invalid);
        };
        let txn = store::read_scope::begin_read(&self.db, tenant_id).await?;
        let principal = self.api_key_principal(&txn, tenant_id, &presented).await?;
        txn.commit().await?;
        let Some((principal, stale_key)) = principal else {
            return Ok(Principal::Invalid);
        };
        // Its own transaction: a read that turns into a write would, on
        // SQLite, have to upgrade its lock, which fails instead of waiting.
        if let Some(key_id) = stale_key {
            let txn = store::tenant_scope::begin(&self.db, tenant_id).await?;
            store::api_keys::touch_last_used(&txn, tenant_id, key_id, clock::now()).await?;
            txn.commit().await?;
        }
        Ok(principal)
    }

    /// The work of a key lookup for a slug no tenant has, so that its answer
    /// takes as long as for a known tenant's wrong key and response times do
    /// not tell which tenant slugs exist: the same transaction, the same two
    /// queries (they find nothing under the nil tenant id) and a hash check
    /// against a decoy. Counted in `auditlog_auth_decoy_lookups_total`.
    async fn decoy_key_lookup(&self, presented: &PresentedKey<'_>) -> Result<(), StoreError> {
        let nobody = Uuid::nil();
        let txn = store::read_scope::begin_read(&self.db, nobody).await?;
        let tenant = store::tenants::find_by_id(&txn, nobody).await?;
        let key = store::api_keys::find_by_prefix(&txn, nobody, presented.prefix).await?;
        std::hint::black_box((tenant, key));
        std::hint::black_box(secret_matches(presented.secret, DECOY_SECRET_HASH));
        txn.commit().await?;
        metrics::counter!("auditlog_auth_decoy_lookups_total").increment(1);
        Ok(())
    }

    /// The principal of a valid key (`None`: invalid), and the key's id if its
    /// `last_used_at` is due for a refresh.
    async fn api_key_principal(
        &self,
        txn: &ReadScope,
        tenant_id: Uuid,
        presented: &PresentedKey<'_>,
    ) -> Result<Option<(Principal, Option<Uuid>)>, StoreError> {
        let Some(tenant) = store::tenants::find_by_id(txn, tenant_id).await? else {
            return Ok(None);
        };
        let Some(key) = store::api_keys::find_by_prefix(txn, tenant.id, presented.prefix).await?
        else {
            return Ok(None);
        };
        let role = Role::from_db(&key.role);
        if !secret_matches(presented.secret, &key.secret_hash) || key.revoked_at.is_some() {
            return Ok(None);
        }
        let Some(role) = role else {
            tracing::error!(key_id = %key.id, role = %key.role, "API key has an unknown role");
            return Ok(None);
        };
        let Some((plan, retention)) = self.retention_window(&tenant) else {
            return Ok(None);
        };
        let now = clock::now();
        let stale = key
            .last_used_at
            .is_none_or(|at| now - at >= store::api_keys::LAST_USED_RESOLUTION);
        let stale_key = stale.then_some(key.id);
        let principal = Principal::Tenant(TenantCaller {
            tenant_id: tenant.id,
            tenant_slug: tenant.slug,
            identity: CallerIdentity::ApiKey {
                id: key.id,
                name: key.name,
            },
            role,
            retention,
            plan,
        });
        Ok(Some((principal, stale_key)))
    }
}

/// `principal` if `named_tenant` is absent or names the principal's own
/// tenant (by slug or id); a tenant credential naming another tenant is
/// refused, whatever that tenant is (existing or not).
fn only_own_tenant(principal: Principal, named_tenant: Option<&str>) -> Principal {
    let (Some(named), Principal::Tenant(caller)) = (named_tenant, &principal) else {
        return principal;
    };
    let named = named.trim();
    let own = named == caller.tenant_slug || Uuid::try_parse(named) == Ok(caller.tenant_id);
    if own {
        principal
    } else {
        Principal::Refused(
            "the Auditlog-Tenant header names another tenant than the credential's; \
             only a platform key may choose its tenant"
                .into(),
        )
    }
}

/// A platform key's principal depends on the tenant it names: its cache key.
fn platform_cache_key(token: &str, named_tenant: Option<&str>) -> String {
    format!("{token}\n{}", named_tenant.unwrap_or_default())
}

/// The token of a `Bearer <token>` header value (scheme case-insensitive).
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn extracts_bearer_tokens_only() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token("Bearer "), None);
    }
}
