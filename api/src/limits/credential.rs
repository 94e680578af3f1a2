//! [`CredentialKey`]: who a per-credential limit counts against. Never a
//! secret: an API key by its id, a person by tenant and IdP subject (all their
//! tokens and sessions share one budget), a viewer token's subject likewise, a platform key per tenant it acts
//! for (one busy tenant cannot spend the budget of the others sharing the
//! key), the operator as one caller.

use uuid::Uuid;

use crate::auth::{CallerIdentity, Principal};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CredentialKey {
    ApiKey(Uuid),
    /// A platform key, and the tenant the request named (`None`: none).
    PlatformKey {
        id: Uuid,
        tenant_id: Option<Uuid>,
    },
    Person {
        tenant_id: Uuid,
        subject: String,
    },
    /// The subject of viewer tokens, per tenant.
    ViewerSubject {
        tenant_id: Uuid,
        subject: String,
    },
    Operator,
}

impl CredentialKey {
    /// The key of an authenticated caller; `None` for anonymous, invalid and
    /// refused callers, which only the per-IP limit covers.
    pub fn of(principal: &Principal) -> Option<Self> {
        match principal {
            Principal::Operator => Some(Self::Operator),
            Principal::Tenant(caller) => Some(match &caller.identity {
                CallerIdentity::ApiKey { id, .. } => Self::ApiKey(*id),
                CallerIdentity::PlatformKey(key) => Self::PlatformKey {
                    id: key.id,
                    tenant_id: Some(caller.tenant_id),
                },
                CallerIdentity::Person(person) => Self::Person {
                    tenant_id: caller.tenant_id,
                    subject: person.subject.clone(),
                },
                // Every token minted for one subject shares one budget, like a
                // person's tokens and sessions.
                CallerIdentity::ViewerToken(viewer) => Self::ViewerSubject {
                    tenant_id: caller.tenant_id,
                    subject: viewer.subject_id.clone(),
                },
            }),
            Principal::Platform(key) => Some(Self::PlatformKey {
                id: key.id,
                tenant_id: None,
            }),
            Principal::Anonymous
            | Principal::Invalid
            | Principal::UnknownTenant(_)
            | Principal::Refused(_) => None,
        }
    }
}
