//! [`Principal`]: the authenticated caller, and the role checks on it.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::person::Person;
use crate::domain::{ActorType, AuditActor, Plan, PlatformRole, RetentionWindow, Role};
use crate::error::{ApiError, ApiResult};
use crate::store::events::EventFilter;

/// A caller acting in one tenant: an API key, a platform key with the
/// tenant's `Auditlog-Tenant` header, a person signed in through the
/// identity provider, or a viewer token.
#[derive(Clone, Debug)]
pub struct TenantCaller {
    pub tenant_id: Uuid,
    pub tenant_slug: String,
    /// Who is calling; becomes the actor of the self-audit events it causes.
    pub identity: CallerIdentity,
    pub role: Role,
    /// The tenant's retention in force when the request was authenticated: the
    /// one place reads and ingest take their window from.
    pub retention: RetentionWindow,
    /// The tenant's plan when the request was authenticated (its ingest quota).
    pub plan: Plan,
}

/// Who a [`TenantCaller`] is.
#[derive(Clone, Debug)]
pub enum CallerIdentity {
    /// A machine credential (`alk_...`).
    ApiKey { id: Uuid, name: String },
    /// A platform key (`alp_...`) acting for the tenant the request named.
    PlatformKey(PlatformCaller),
    /// A person, by the identity provider's token or a browser session.
    Person(Person),
    /// A viewer token (`createViewerToken`): someone the minting caller
    /// vouched for, reading (and, as ADMIN, configuring retention) within the
    /// token's scope until it expires.
    ViewerToken(ViewerCaller),
}

/// The holder of a viewer token, as its claims say.
#[derive(Clone, Debug)]
pub struct ViewerCaller {
    /// The token's `jti`: in the log of what it does, never the token.
    pub token_id: Uuid,
    /// Who the token was minted for: the actor of what they do.
    pub subject_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub expires_at: DateTime<Utc>,
    /// Every read through the token is ANDed with this (`None`: the whole tenant).
    pub scope: Option<Arc<EventFilter>>,
}

impl TenantCaller {
    /// The filter every read of this caller is narrowed by (a viewer token's
    /// scope); `None` for every other credential.
    pub fn scope(&self) -> Option<&EventFilter> {
        match &self.identity {
            CallerIdentity::ViewerToken(viewer) => viewer.scope.as_deref(),
            _ => None,
        }
    }

    /// When the caller's credential stops being valid, if it ever does.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        match &self.identity {
            CallerIdentity::Person(person) => person.expires_at(),
            CallerIdentity::ViewerToken(viewer) => Some(viewer.expires_at),
            CallerIdentity::ApiKey { .. } | CallerIdentity::PlatformKey(_) => None,
        }
    }
}

/// A platform key (`alp_...`): installation-wide, it acts for the tenant each
/// request names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformCaller {
    pub id: Uuid,
    pub name: String,
    pub role: PlatformRole,
}

#[derive(Clone, Debug)]
pub enum Principal {
    /// No `Authorization` header.
    Anonymous,
    /// A credential was presented and matched nothing (unknown, malformed, revoked).
    Invalid,
    /// The platform operator (`AUDITLOG_OPERATOR_TOKEN`).
    Operator,
    Tenant(TenantCaller),
    /// A platform key whose request names no tenant: tenant fields answer
    /// `TENANT_REQUIRED`.
    Platform(PlatformCaller),
    /// A platform key whose request names a tenant that does not exist
    /// (`TENANT_NOT_FOUND`); the text is the header's value.
    UnknownTenant(String),
    /// Someone authenticated who may not act here, e.g. a person whose token
    /// names no known tenant or no mapped role, or a cookie request that failed
    /// the CSRF check. The message says why (`FORBIDDEN`).
    Refused(String),
}

impl Principal {
    /// The calling tenant, if its role is one of `allowed`.
    pub fn tenant(&self, allowed: &[Role]) -> ApiResult<&TenantCaller> {
        match self {
            Self::Tenant(caller) if allowed.contains(&caller.role) => Ok(caller),
            Self::Tenant(caller) => Err(ApiError::Forbidden(format!(
                "a caller with role {} may not do this; allowed roles: {}",
                caller.role.as_db().to_uppercase(),
                allowed
                    .iter()
                    .map(|role| role.as_db().to_uppercase())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
            Self::Operator => Err(ApiError::Forbidden(
                "the operator token manages tenants; use a tenant's API key for tenant data".into(),
            )),
            Self::Platform(_) => Err(ApiError::TenantRequired(
                "a platform key acts for one tenant per request: name it in the \
                 `Auditlog-Tenant` header (its slug or id)"
                    .into(),
            )),
            Self::UnknownTenant(named) => Err(ApiError::TenantNotFound(format!(
                "no tenant {named:?} (the `Auditlog-Tenant` header names a tenant by slug or id)"
            ))),
            Self::Refused(reason) => Err(ApiError::Forbidden(reason.clone())),
            Self::Anonymous | Self::Invalid => Err(self.unauthenticated()),
        }
    }

    /// [`Principal::tenant`], refusing viewer tokens: what only a tenant's own
    /// credentials may do (`what`: "record events", "create API keys", ...).
    /// A viewer token reads on behalf of someone the SaaS vouched for; letting
    /// it mint credentials or write events would turn a short-lived, scoped
    /// browser credential into a lasting, unscoped one.
    pub fn tenant_not_viewer(&self, allowed: &[Role], what: &str) -> ApiResult<&TenantCaller> {
        let caller = self.tenant(allowed)?;
        match caller.identity {
            CallerIdentity::ViewerToken(_) => Err(ApiError::Forbidden(format!(
                "a viewer token may not {what}; use an API key or a platform key"
            ))),
            _ => Ok(caller),
        }
    }

    /// Who may create tenants and change their plans: the operator, or a
    /// platform ADMIN key (with or without a tenant header). The actor their
    /// self-audit events name.
    pub fn tenant_manager(&self) -> ApiResult<AuditActor> {
        let platform = match self {
            Self::Operator => return Ok(AuditActor::operator()),
            Self::Platform(key) => Some(key),
            Self::Tenant(TenantCaller {
                identity: CallerIdentity::PlatformKey(key),
                ..
            }) => Some(key),
            Self::UnknownTenant(_) | Self::Tenant(_) | Self::Refused(_) => None,
            Self::Anonymous | Self::Invalid => return Err(self.unauthenticated()),
        };
        match platform {
            Some(key) if key.role == PlatformRole::Admin => Ok(AuditActor::of_platform_key(key)),
            _ => Err(ApiError::Forbidden(
                "only the operator or a platform ADMIN key may do this".into(),
            )),
        }
    }

    /// The platform key of the request, if one authenticated it.
    pub fn platform_key(&self) -> Option<&PlatformCaller> {
        match self {
            Self::Platform(key)
            | Self::Tenant(TenantCaller {
                identity: CallerIdentity::PlatformKey(key),
                ..
            }) => Some(key),
            _ => None,
        }
    }

    /// Succeeds for the platform operator only.
    pub fn operator(&self) -> ApiResult<()> {
        match self {
            Self::Operator => Ok(()),
            Self::Tenant(_) | Self::Platform(_) | Self::UnknownTenant(_) | Self::Refused(_) => Err(
                ApiError::Forbidden("only the platform operator may do this".into()),
            ),
            Self::Anonymous | Self::Invalid => Err(self.unauthenticated()),
        }
    }

    fn unauthenticated(&self) -> ApiError {
        ApiError::Unauthenticated(match self {
            Self::Invalid => "the credential is invalid or revoked".into(),
            _ => "missing credential: send `Authorization: Bearer <api key>`".into(),
        })
    }
}

/// The actor of a caller's self-audit events: credentials are the
/// transport's business, so the mapping lives here, not in `entity`.
pub(crate) trait ActorOfCaller: Sized {
    fn of_caller(caller: &TenantCaller) -> Self;
    fn of_person(person: &Person) -> Self;
    fn of_platform_key(key: &PlatformCaller) -> Self;
}

impl ActorOfCaller for AuditActor {
    /// The calling API key (`API_KEY`), or the signed-in person (`USER`, id =
    /// the identity provider's `sub`).
    fn of_caller(caller: &TenantCaller) -> Self {
        match &caller.identity {
            CallerIdentity::ApiKey { id, name } => Self {
                actor_type: ActorType::ApiKey,
                id: id.to_string(),
                name: Some(name.clone()),
                email: None,
            },
            CallerIdentity::PlatformKey(key) => Self::of_platform_key(key),
            CallerIdentity::Person(person) => Self::of_person(person),
            // The person the token was minted for (`USER`, the subject's id).
            CallerIdentity::ViewerToken(viewer) => Self {
                actor_type: ActorType::User,
                id: viewer.subject_id.clone(),
                name: viewer.name.clone(),
                email: viewer.email.clone(),
            },
        }
    }

    /// A platform key is a machine credential like an API key (`API_KEY`).
    fn of_platform_key(key: &PlatformCaller) -> Self {
        Self {
            actor_type: ActorType::ApiKey,
            id: key.id.to_string(),
            name: Some(key.name.clone()),
            email: None,
        }
    }

    fn of_person(person: &Person) -> Self {
        Self {
            actor_type: ActorType::User,
            id: person.subject.clone(),
            name: person.name.clone(),
            email: person.email.clone(),
        }
    }
}
