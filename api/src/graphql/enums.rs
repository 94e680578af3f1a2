//! The GraphQL spelling of the domain's closed vocabularies.
//!
//! The domain enums (`entity::domain`) know nothing of GraphQL; these mirror
//! them with async-graphql's `remote`, which generates the conversions both
//! ways, so adding a variant to one without the other is a compile error.

use async_graphql::Enum;

use crate::domain;

/// The tenant's subscription plan; it decides the retention policy (the
/// periods are set by the operator of the deployment; `Tenant.retention`
/// shows the ones in force).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "Plan", remote = "domain::Plan")]
pub enum GqlPlan {
    /// Retention fixed by the plan; `setRetentionPolicy` and `setLegalHold`
    /// are refused for the tenant's own keys.
    Team,
    /// Retention chosen by the tenant's ADMIN within `minDays`..`maxDays`, and
    /// legal hold available.
    Enterprise,
}

/// What an API key may do in its tenant.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "Role", remote = "domain::Role")]
pub enum GqlRole {
    /// Everything in the tenant: reads, recording events, keys and retention.
    Admin,
    /// Read only: the queries and the subscription.
    Auditor,
    /// Only `recordAuditEvents`; no reads.
    Publisher,
}

/// The kind of actor that did something; an actor id is unique only within its type.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "ActorType", remote = "domain::ActorType")]
pub enum GqlActorType {
    /// A person.
    User,
    /// A program acting with an API key.
    ApiKey,
    /// The recording application itself (jobs, automatic actions).
    System,
}

/// Whether the recorded action succeeded.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[graphql(name = "Outcome", remote = "domain::Outcome")]
pub enum GqlOutcome {
    /// The action succeeded (the default when recording).
    #[default]
    Success,
    /// The action was attempted and failed or was refused.
    Failure,
}
