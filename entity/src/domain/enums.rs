//! The closed vocabularies of the domain: plans, roles, actor types, outcomes.

/// Maps each enum to the lower-case spelling stored in the database.
macro_rules! db_spelling {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            pub fn as_db(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
            pub fn from_db(raw: &str) -> Option<Self> {
                match raw { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

/// The tenant's subscription plan; it decides the retention policy (the
/// periods themselves are operator configuration: `domain::RetentionRules`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    Team,
    Enterprise,
}
db_spelling!(Plan { Team => "team", Enterprise => "enterprise" });

/// What an API key may do in its tenant.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// Everything in the tenant.
    Admin,
    /// Read only.
    Auditor,
    /// Only `recordAuditEvents`.
    Publisher,
}
db_spelling!(Role { Admin => "admin", Auditor => "auditor", Publisher => "publisher" });

/// What a platform key may do, in the tenant each request names: the tenant
/// role of the same name (see [`PlatformRole::tenant_role`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PlatformRole {
    /// Only `recordAuditEvents`, for any tenant.
    Publisher,
    /// Everything a tenant ADMIN may do, for any tenant, and creating tenants
    /// and changing their plans.
    Admin,
}
db_spelling!(PlatformRole { Publisher => "publisher", Admin => "admin" });

impl PlatformRole {
    /// The role the key has in the tenant a request names.
    pub fn tenant_role(self) -> Role {
        match self {
            PlatformRole::Publisher => Role::Publisher,
            PlatformRole::Admin => Role::Admin,
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ActorType {
    User,
    ApiKey,
    System,
}
db_spelling!(ActorType { User => "user", ApiKey => "api_key", System => "system" });

#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum Outcome {
    #[default]
    Success,
    Failure,
}
db_spelling!(Outcome { Success => "success", Failure => "failure" });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_spelling_round_trips() {
        for role in [Role::Admin, Role::Auditor, Role::Publisher] {
            assert_eq!(Role::from_db(role.as_db()), Some(role));
        }
        for actor in [ActorType::User, ActorType::ApiKey, ActorType::System] {
            assert_eq!(ActorType::from_db(actor.as_db()), Some(actor));
        }
        assert_eq!(Plan::from_db("team"), Some(Plan::Team));
        assert_eq!(Outcome::from_db("nope"), None);
    }
}
