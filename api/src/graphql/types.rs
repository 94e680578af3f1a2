//! GraphQL output types, built from stored rows.
//!
//! Conversions are total: a row with a value outside the vocabulary (which the
//! schema's CHECK constraints prevent) is reported as an internal error, not a panic.

use async_graphql::{ID, Json, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{api_keys, audit_events, tenants};

use super::enums::{GqlActorType, GqlOutcome, GqlPlan, GqlRole};
use super::scalars::{Count, Sequence};
use crate::domain::clock;
use crate::domain::secret::display_prefix;
use crate::domain::{ActorType, IpAddress, Outcome, Plan, RetentionRules, RetentionWindow, Role};
use crate::error::ApiError;

fn corrupt(what: &str, value: &str) -> ApiError {
    ApiError::Internal(anyhow::anyhow!(
        "stored {what} {value:?} is not in the vocabulary"
    ))
}

/// One recorded audit event. `id` is the shareable permalink id.
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct AuditEvent {
    pub id: ID,
    /// Position in the tenant's log: 1, 2, 3, ... without gaps, in commit order.
    pub sequence: Sequence,
    pub action: String,
    pub actor: Actor,
    pub target: Option<Target>,
    pub outcome: GqlOutcome,
    pub context: EventContext,
    pub payload: Option<Json<serde_json::Value>>,
    /// When it happened, as reported by the client (default: when received).
    pub occurred_at: DateTime<Utc>,
    /// When the server stored it.
    pub received_at: DateTime<Utc>,
}

#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct Actor {
    #[graphql(name = "type")]
    pub actor_type: GqlActorType,
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct Target {
    #[graphql(name = "type")]
    pub target_type: String,
    pub id: Option<String>,
    pub name: Option<String>,
}

#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct EventContext {
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

impl TryFrom<audit_events::Model> for AuditEvent {
    type Error = ApiError;

    fn try_from(row: audit_events::Model) -> Result<Self, ApiError> {
        let actor_type = ActorType::from_db(&row.actor_type)
            .ok_or_else(|| corrupt("actor type", &row.actor_type))?;
        let outcome =
            Outcome::from_db(&row.outcome).ok_or_else(|| corrupt("outcome", &row.outcome))?;
        Ok(Self {
            id: ID(row.id.to_string()),
            sequence: Sequence(row.sequence),
            action: row.action,
            actor: Actor {
                actor_type: actor_type.into(),
                id: row.actor_id,
                name: row.actor_name,
                email: row.actor_email,
            },
            target: row.target_type.map(|target_type| Target {
                target_type,
                id: row.target_id,
                name: row.target_name,
            }),
            outcome: outcome.into(),
            context: EventContext {
                ip_address: row
                    .ip_address
                    .as_deref()
                    .and_then(IpAddress::from_stored)
                    .map(|ip| ip.canonical()),
                user_agent: row.user_agent,
                request_id: row.request_id,
            },
            payload: row.payload.map(Json),
            occurred_at: row.occurred_at,
            received_at: row.received_at,
        })
    }
}

/// The caller's tenant.
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct Tenant {
    pub id: ID,
    pub slug: String,
    pub name: String,
    pub plan: GqlPlan,
    pub created_at: DateTime<Utc>,
    /// How long events are kept, and whether the tenant is on legal hold.
    pub retention: RetentionPolicy,
}

/// A tenant's retention policy in force. Retention is measured on `occurredAt`.
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct RetentionPolicy {
    /// Days an event is kept after it occurred.
    pub days: i32,
    /// The plan's default period (what `changeTenantPlan` resets to).
    pub plan_default: i32,
    /// Shortest period this tenant may choose (equal to `maxDays` when its plan fixes it).
    pub min_days: i32,
    /// Longest period this tenant may choose.
    pub max_days: i32,
    /// While true nothing expires: every event is kept and stays visible.
    pub legal_hold: bool,
    /// Why the legal hold is on (as given to `setLegalHold`).
    pub legal_hold_reason: Option<String>,
    /// When the period, legal hold or plan last changed (creation if never).
    pub updated_at: DateTime<Utc>,
    /// Events that occurred before this instant have expired: no query returns
    /// them and the next purge deletes them. Null while on legal hold.
    pub retained_since: Option<DateTime<Utc>>,
}

impl Tenant {
    pub(crate) fn from_row(row: tenants::Model, rules: &RetentionRules) -> Result<Self, ApiError> {
        let plan = Plan::from_db(&row.plan).ok_or_else(|| corrupt("plan", &row.plan))?;
        let days = rules.effective_days(plan, row.retention_days);
        let (min, max) = rules.bounds(plan);
        let window = RetentionWindow {
            days,
            legal_hold: row.legal_hold,
        };
        let retention = RetentionPolicy {
            days: days.as_i32(),
            plan_default: rules.plan_default(plan).as_i32(),
            min_days: min.as_i32(),
            max_days: max.as_i32(),
            legal_hold: row.legal_hold,
            legal_hold_reason: row.legal_hold_reason,
            updated_at: row.retention_updated_at.unwrap_or(row.created_at),
            retained_since: window.cutoff(clock::now()),
        };
        Ok(Self {
            id: ID(row.id.to_string()),
            slug: row.slug,
            name: row.name,
            plan: plan.into(),
            created_at: row.created_at,
            retention,
        })
    }
}

/// An API key, without its secret (which is never stored).
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct ApiKey {
    pub id: ID,
    pub name: String,
    pub role: GqlRole,
    /// Public start of the key (`alk_<tenant>_<prefix>`), to recognise it.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    pub(crate) fn from_row(row: api_keys::Model, tenant_slug: &str) -> Result<Self, ApiError> {
        let role = Role::from_db(&row.role).ok_or_else(|| corrupt("role", &row.role))?;
        Ok(Self {
            id: ID(row.id.to_string()),
            name: row.name,
            role: role.into(),
            prefix: display_prefix(tenant_slug, &row.prefix),
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        })
    }
}

#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct CreatedApiKey {
    pub api_key: ApiKey,
    /// The whole key. Shown here once; only its hash is kept.
    pub secret: String,
}

#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct CreatedTenant {
    pub tenant: Tenant,
    pub admin_key: CreatedApiKey,
}

#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct RecordAuditEventsPayload {
    /// The stored events, in input order.
    pub events: Vec<AuditEvent>,
}

#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct AuditEventFacets {
    #[graphql(complexity = "super::complexity::facet_list(child_complexity)")]
    pub actions: Vec<ValueCount>,
    #[graphql(complexity = "super::complexity::facet_list(child_complexity)")]
    pub actors: Vec<ActorCount>,
}

#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct ValueCount {
    pub value: String,
    pub count: Count,
}

#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct ActorCount {
    pub id: String,
    pub name: Option<String>,
    pub count: Count,
}
