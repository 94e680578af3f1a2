//! [`Principal`]: the authenticated caller, and the role checks on it.

use uuid::Uuid;

use super::person::Person;
use crate::domain::{ActorType, AuditActor, Plan, RetentionWindow, Role};
use crate::error::{ApiError, ApiResult};

/// A caller acting in one tenant: an API key, or a person signed in through
/// the identity provider.
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
    /// A person, by the identity provider's token or a browser session.
    Person(Person),
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
            Self::Refused(reason) => Err(ApiError::Forbidden(reason.clone())),
            Self::Anonymous | Self::Invalid => Err(self.unauthenticated()),
        }
    }

    /// Succeeds for the platform operator only.
    pub fn operator(&self) -> ApiResult<()> {
        match self {
            Self::Operator => Ok(()),
            Self::Tenant(_) | Self::Refused(_) => Err(ApiError::Forbidden(
                "only the platform operator may do this".into(),
            )),
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
            CallerIdentity::Person(person) => Self::of_person(person),
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
