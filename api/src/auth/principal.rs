//! [`Principal`]: the authenticated caller, and the role checks on it.

use uuid::Uuid;

use crate::domain::{ActorType, Role};
use crate::error::{ApiError, ApiResult};

/// A tenant's API key, authenticated.
#[derive(Clone, Debug)]
pub struct TenantCaller {
    pub tenant_id: Uuid,
    pub tenant_slug: String,
    pub key_id: Uuid,
    pub key_name: String,
    pub role: Role,
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
}

impl Principal {
    /// The calling tenant, if its role is one of `allowed`.
    pub fn tenant(&self, allowed: &[Role]) -> ApiResult<&TenantCaller> {
        match self {
            Self::Tenant(caller) if allowed.contains(&caller.role) => Ok(caller),
            Self::Tenant(caller) => Err(ApiError::Forbidden(format!(
                "an API key with role {:?} may not do this; allowed roles: {}",
                caller.role,
                allowed
                    .iter()
                    .map(|role| format!("{role:?}").to_uppercase())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
            Self::Operator => Err(ApiError::Forbidden(
                "the operator token manages tenants; use a tenant's API key for tenant data".into(),
            )),
            Self::Anonymous | Self::Invalid => Err(self.unauthenticated()),
        }
    }

    /// Succeeds for the platform operator only.
    pub fn operator(&self) -> ApiResult<()> {
        match self {
            Self::Operator => Ok(()),
            Self::Tenant(_) => Err(ApiError::Forbidden(
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

/// Who did an administrative action, for the tenant's own log.
#[derive(Clone, Debug)]
pub struct AuditActor {
    pub actor_type: ActorType,
    pub id: String,
    pub name: Option<String>,
}

impl AuditActor {
    pub fn of_key(caller: &TenantCaller) -> Self {
        Self {
            actor_type: ActorType::ApiKey,
            id: caller.key_id.to_string(),
            name: Some(caller.key_name.clone()),
        }
    }

    pub fn operator() -> Self {
        Self {
            actor_type: ActorType::System,
            id: "operator".into(),
            name: Some("platform operator".into()),
        }
    }

    pub fn command_line() -> Self {
        Self {
            actor_type: ActorType::System,
            id: "cli".into(),
            name: Some("auditlog command line".into()),
        }
    }
}
