//! [`People`]: authentication of persons — by the IdP's access tokens or by
//! browser sessions — and the mapping of a person to a tenant and a role.
//!
//! The tenant claim names a tenant by slug or id; the roles claim's values map
//! to ADMIN or AUDITOR (PUBLISHER is for API keys only). A verified person
//! without a known tenant or a mapped role is [`PersonOutcome::Refused`] with a
//! message that names the missing claim; the caller logs the attempt.

use chrono::Utc;
use entity::tenants;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::oidc::{IdentityClaims, IdentityProvider, IdpUnavailable, Refusal, TokenCheck};
use super::person::{Person, PersonCredential};
use super::session_secret;
use crate::domain::Role;
use crate::store::{self, StoreError};

/// What authenticating a person yields.
#[derive(Debug)]
pub enum PersonOutcome {
    /// A person of `tenant` with `role`.
    Accepted {
        tenant: tenants::Model,
        role: Role,
        person: Person,
    },
    /// A verified person who may not act here; `tenant` is known when only the
    /// role is missing (so the attempt can go into that tenant's log).
    Refused {
        tenant: Option<tenants::Model>,
        person: Person,
        refusal: Refusal,
    },
    /// Not a valid credential; a short category for the log.
    Invalid(&'static str),
}

/// Logs a refused person (never the credential): who, which tenant if known,
/// the reason category, and the message that names the missing claim.
/// `context` says where (`"bearer token"`, `"browser login"`).
pub(crate) fn log_refusal(
    context: &str,
    tenant: Option<&tenants::Model>,
    person: &Person,
    refusal: &Refusal,
) {
    tracing::warn!(
        subject = %person.subject,
        tenant_id = ?tenant.map(|t| t.id),
        reason = refusal.category(),
        "{context}: a person was refused: {}",
        refusal.message()
    );
}

#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    IdentityProvider(#[from] IdpUnavailable),
}

#[derive(Clone)]
pub struct People {
    db: DatabaseConnection,
    idp: IdentityProvider,
}

impl People {
    pub fn new(db: DatabaseConnection, idp: IdentityProvider) -> Self {
        Self { db, idp }
    }

    pub fn identity_provider(&self) -> &IdentityProvider {
        &self.idp
    }

    /// A bearer token that is not an API key or the operator token.
    pub async fn authenticate_token(&self, token: &str) -> Result<PersonOutcome, PeopleError> {
        let claims = match self.idp.check_access_token(token).await? {
            TokenCheck::Valid(claims) => claims,
            TokenCheck::Invalid(reason) => return Ok(PersonOutcome::Invalid(reason)),
        };
        let Some(claims) = IdentityClaims::read(&claims, &self.idp.settings().mapping) else {
            return Ok(PersonOutcome::Invalid("missing_subject"));
        };
        let credential = PersonCredential::AccessToken {
            expires_at: claims.expires_at,
        };
        Ok(self.resolve(claims, credential).await?)
    }

    /// The value of the session cookie.
    pub async fn authenticate_session(&self, cookie: &str) -> Result<PersonOutcome, StoreError> {
        let Some(presented) = session_secret::parse(cookie) else {
            return Ok(PersonOutcome::Invalid("malformed_session"));
        };
        let now = Utc::now();
        // The cookie names the tenant: the lookup runs scoped to it.
        let txn = store::tenant_scope::begin(&self.db, presented.tenant_id).await?;
        let session = store::user_sessions::find_active(
            &txn,
            presented.tenant_id,
            &presented.secret_hash,
            now,
        )
        .await?;
        let tenant = match &session {
            Some(session) => store::tenants::find_by_id(&txn, session.tenant_id).await?,
            None => None,
        };
        txn.commit().await?;
        let (Some(session), Some(tenant)) = (session, tenant) else {
            return Ok(PersonOutcome::Invalid("session_ended"));
        };
        let Some(role) = Role::from_db(&session.role).filter(|role| *role != Role::Publisher)
        else {
            tracing::error!(session_id = %session.id, role = %session.role, "session has an invalid role");
            return Ok(PersonOutcome::Invalid("session_ended"));
        };
        Ok(PersonOutcome::Accepted {
            tenant,
            role,
            person: Person {
                subject: session.subject,
                name: session.name,
                email: session.email,
                credential: PersonCredential::Session {
                    id: session.id,
                    expires_at: session.expires_at,
                },
            },
        })
    }

    /// Maps verified claims to a tenant and a role.
    pub async fn resolve(
        &self,
        claims: IdentityClaims,
        credential: PersonCredential,
    ) -> Result<PersonOutcome, StoreError> {
        let mapping = &self.idp.settings().mapping;
        let person = Person {
            subject: claims.subject,
            name: claims.name,
            email: claims.email,
            credential,
        };
        let Some(reference) = claims.tenant else {
            return Ok(PersonOutcome::Refused {
                tenant: None,
                person,
                refusal: Refusal::MissingTenantClaim {
                    claim: mapping.tenant_claim.clone(),
                },
            });
        };
        let tenant_id = match Uuid::try_parse(&reference) {
            Ok(id) => Some(id),
            Err(_) => store::registry::tenant_id_by_slug(&self.db, &reference).await?,
        };
        let tenant = match tenant_id {
            Some(id) => self.tenant(id).await?,
            None => None,
        };
        let Some(tenant) = tenant else {
            return Ok(PersonOutcome::Refused {
                tenant: None,
                person,
                refusal: Refusal::UnknownTenant {
                    claim: mapping.tenant_claim.clone(),
                },
            });
        };
        let Some(role) = mapping.role(&claims.roles) else {
            return Ok(PersonOutcome::Refused {
                tenant: Some(tenant),
                person,
                refusal: Refusal::MissingRole {
                    claim: mapping.roles_claim.clone(),
                },
            });
        };
        Ok(PersonOutcome::Accepted {
            tenant,
            role,
            person,
        })
    }

    /// The tenant row, read in a transaction scoped to it.
    async fn tenant(&self, id: Uuid) -> Result<Option<tenants::Model>, StoreError> {
        let txn = store::tenant_scope::begin(&self.db, id).await?;
        let tenant = store::tenants::find_by_id(&txn, id).await?;
        txn.commit().await?;
        Ok(tenant)
    }
}
