//! The GraphQL spelling of the domain's closed vocabularies.
//!
//! The domain enums (`entity::domain`) know nothing of GraphQL; these mirror
//! them with async-graphql's `remote`, which generates the conversions both
//! ways, so adding a variant to one without the other is a compile error.

use async_graphql::Enum;

use crate::domain;

/// The tenant's subscription plan; it decides the retention policy (the
/// periods themselves are operator configuration: `domain::RetentionRules`).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "Plan", remote = "domain::Plan")]
pub enum GqlPlan {
    Team,
    Enterprise,
}

/// What an API key may do in its tenant.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "Role", remote = "domain::Role")]
pub enum GqlRole {
    /// Everything in the tenant.
    Admin,
    /// Read only.
    Auditor,
    /// Only `recordAuditEvents`.
    Publisher,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "ActorType", remote = "domain::ActorType")]
pub enum GqlActorType {
    User,
    ApiKey,
    System,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[graphql(name = "Outcome", remote = "domain::Outcome")]
pub enum GqlOutcome {
    #[default]
    Success,
    Failure,
}
