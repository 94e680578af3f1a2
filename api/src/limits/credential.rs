//! [`CredentialKey`]: who a per-credential limit counts against. Never a
//! secret: an API key by its id, a person by tenant and IdP subject (all their
//! tokens and sessions share one budget), the operator as one caller.

use uuid::Uuid;

use crate::auth::{CallerIdentity, Principal};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CredentialKey {
    ApiKey(Uuid),
    Person { tenant_id: Uuid, subject: String },
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
                CallerIdentity::Person(person) => Self::Person {
                    tenant_id: caller.tenant_id,
                    subject: person.subject.clone(),
                },
            }),
            Principal::Anonymous | Principal::Invalid | Principal::Refused(_) => None,
        }
    }
}
