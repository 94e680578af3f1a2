//! GraphQL output types, built from stored rows.
//!
//! Conversions are total: a row with a value outside the vocabulary (which the
//! schema's CHECK constraints prevent) is reported as an internal error, not a panic.

use async_graphql::{ComplexObject, ID, Json, SimpleObject};
use entity::{api_keys, audit_events, tenants};

use super::enums::{GqlActorType, GqlOutcome, GqlPlan, GqlRole};
use super::scalars::{Count, Sequence, Timestamp};
use crate::domain::clock;
use crate::domain::secret::display_prefix;
use crate::domain::{ActorType, IpAddress, Outcome, Plan, RetentionRules, RetentionWindow, Role};
use crate::error::ApiError;
use crate::store::events::Facets;

fn corrupt(what: &str, value: &str) -> ApiError {
    ApiError::Internal(anyhow::anyhow!(
        "stored {what} {value:?} is not in the vocabulary"
    ))
}

/// One recorded audit event, immutable once stored. `id` is globally unique
/// (a UUID), so clients may cache events by it.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub(crate) struct AuditEvent {
    /// The event's shareable permalink id (a UUID); see `Query.auditEvent`.
    pub id: ID,
    /// Position in the tenant's log: 1, 2, 3, ... without gaps, in commit order.
    pub sequence: Sequence,
    /// What was done, `<resource>.<verb>`, e.g. `entry.create`.
    pub action: String,
    /// Who did it, as recorded with the event.
    pub actor: Actor,
    /// What it was done to, as recorded with the event; null if none.
    pub target: Option<Target>,
    /// Whether it succeeded.
    pub outcome: GqlOutcome,
    /// Where the request came from (each field null if not recorded).
    pub context: EventContext,
    /// The free-form JSON recorded with the event, if any.
    pub payload: Option<Json<serde_json::Value>>,
    /// When it happened, as reported by the client (default: when received).
    pub occurred_at: Timestamp,
    /// When the server stored it.
    pub received_at: Timestamp,
}

/// Who did it, as recorded with the event: a snapshot, not an entity, so two
/// events of the same actor may show different names or emails (the values at
/// the time of each event). It has no `id`, so normalized client caches keep
/// each event's snapshot apart.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub(crate) struct Actor {
    /// The kind of actor; `actorId` is unique only within a type.
    #[graphql(name = "type")]
    pub actor_type: GqlActorType,
    /// The actor's id in the recording application (e.g. its user id), as
    /// given when the event was recorded. Not unique across actor types.
    pub actor_id: String,
    /// The actor's display name at the time of the event, if given.
    pub name: Option<String>,
    /// The actor's email address at the time of the event, if given.
    pub email: Option<String>,
}

#[ComplexObject]
impl Actor {
    /// Same value as `actorId`.
    #[graphql(
        deprecation = "A snapshot, not an entity: the same id can name different actors or targets (of other types) and names change between events, so normalized caches (Apollo InMemoryCache, urql graphcache) that key on `id` show wrong data. Use `actorId`."
    )]
    async fn id(&self) -> &str {
        &self.actor_id
    }
}

/// The authenticated caller of a tenant (`Query.caller`).
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct Caller {
    /// What the caller may do in its tenant.
    pub role: GqlRole,
    /// Who the caller's own changes are recorded as (the `actor` of their
    /// self-audit events): a person, an API key, or a viewer token's subject.
    pub actor: Actor,
    /// When the credential stops working (a session, an identity provider's
    /// token, a viewer token); null for keys, which work until revoked.
    pub expires_at: Option<Timestamp>,
}

impl Caller {
    pub(crate) fn of(caller: &crate::auth::TenantCaller) -> Self {
        use crate::auth::ActorOfCaller;
        let actor = crate::domain::AuditActor::of_caller(caller);
        Self {
            role: caller.role.into(),
            actor: Actor {
                actor_type: actor.actor_type.into(),
                actor_id: actor.id,
                name: actor.name,
                email: actor.email,
            },
            expires_at: caller.expires_at().map(Timestamp::from),
        }
    }
}

/// What it was done to, as recorded with the event: a snapshot, not an
/// entity (see `Actor`).
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub(crate) struct Target {
    /// The kind of target in the recording application, e.g. `document`.
    #[graphql(name = "type")]
    pub target_type: String,
    /// The target's id in the recording application, if given. Unique only
    /// within a target type.
    pub target_id: Option<String>,
    /// The target's display name at the time of the event, if given.
    pub name: Option<String>,
}

#[ComplexObject]
impl Target {
    /// Same value as `targetId`.
    #[graphql(
        deprecation = "A snapshot, not an entity: the same id can name different actors or targets (of other types) and names change between events, so normalized caches (Apollo InMemoryCache, urql graphcache) that key on `id` show wrong data. Use `targetId`."
    )]
    async fn id(&self) -> Option<&str> {
        self.target_id.as_deref()
    }
}

/// Where an event's request came from.
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct EventContext {
    /// The client's IP address, in canonical form.
    pub ip_address: Option<String>,
    /// The client's `User-Agent`.
    pub user_agent: Option<String>,
    /// The request id recorded with the event, to correlate with the
    /// recording application's logs.
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
                actor_id: row.actor_id,
                name: row.actor_name,
                email: row.actor_email,
            },
            target: row.target_type.map(|target_type| Target {
                target_type,
                target_id: row.target_id,
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
            occurred_at: row.occurred_at.into(),
            received_at: row.received_at.into(),
        })
    }
}

/// An organisation using the audit log; every event and key belongs to one.
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct Tenant {
    /// Globally unique id (a UUID).
    pub id: ID,
    /// URL-safe short name, unique, chosen at creation (part of its API keys).
    pub slug: String,
    /// Display name.
    pub name: String,
    /// The tenant's plan.
    pub plan: GqlPlan,
    /// When the tenant was created.
    pub created_at: Timestamp,
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
    pub updated_at: Timestamp,
    /// Events that occurred before this instant have expired: no query returns
    /// them and the next purge deletes them. Null while on legal hold.
    pub retained_since: Option<Timestamp>,
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
            updated_at: row.retention_updated_at.unwrap_or(row.created_at).into(),
            retained_since: window.cutoff(clock::now()).map(Timestamp),
        };
        Ok(Self {
            id: ID(row.id.to_string()),
            slug: row.slug,
            name: row.name,
            plan: plan.into(),
            created_at: row.created_at.into(),
            retention,
        })
    }
}

/// An API key, without its secret (which is never stored).
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct ApiKey {
    /// Globally unique id (a UUID); pass it to `revokeApiKey`.
    pub id: ID,
    /// The name given at creation, to tell keys apart.
    pub name: String,
    /// What the key may do.
    pub role: GqlRole,
    /// Public start of the key (`alk_<tenant>_<prefix>`), to recognise it.
    pub prefix: String,
    /// When the key was created.
    pub created_at: Timestamp,
    /// When the key last authenticated a request (updated at most about once
    /// a minute); null if never.
    pub last_used_at: Option<Timestamp>,
    /// When the key was revoked; null while it works.
    pub revoked_at: Option<Timestamp>,
}

impl ApiKey {
    pub(crate) fn from_row(row: api_keys::Model, tenant_slug: &str) -> Result<Self, ApiError> {
        let role = Role::from_db(&row.role).ok_or_else(|| corrupt("role", &row.role))?;
        Ok(Self {
            id: ID(row.id.to_string()),
            name: row.name,
            role: role.into(),
            prefix: display_prefix(tenant_slug, &row.prefix),
            created_at: row.created_at.into(),
            last_used_at: row.last_used_at.map(Timestamp),
            revoked_at: row.revoked_at.map(Timestamp),
        })
    }
}

/// A new API key with its secret.
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct CreatedApiKey {
    /// The key, as `apiKeys` lists it.
    pub api_key: ApiKey,
    /// The whole key. Shown here once; only its hash is kept.
    pub secret: String,
}

/// A new tenant with its first ADMIN key.
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct CreatedTenant {
    /// The tenant.
    pub tenant: Tenant,
    /// Its first ADMIN key, with the secret (shown once).
    pub admin_key: CreatedApiKey,
}

/// The result of `recordAuditEvents`.
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct RecordAuditEventsPayload {
    /// The stored events, in input order.
    pub events: Vec<AuditEvent>,
}

/// What the tenant's retained events contain, to build filter menus: every
/// retained event without a filter, the newest 5,000 matching ones at most
/// with a filter (`exact` and `countedEvents` say which).
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct AuditEventFacets {
    /// Distinct actions, most frequent first (at most 200).
    #[graphql(complexity = "super::complexity::facet_list(child_complexity)")]
    pub actions: Vec<ValueCount>,
    /// Distinct actor ids, most frequent first (at most 200).
    #[graphql(complexity = "super::complexity::facet_list(child_complexity)")]
    pub actors: Vec<ActorCount>,
    /// True when every retained event matching the filter was counted: always
    /// without a filter; with one, when at most 5,000 events match (and, with
    /// `search`, when the search settled them all).
    pub exact: bool,
    /// How many events the counts cover (with a filter, at most 5,000: the
    /// newest matching ones).
    pub counted_events: Count,
    /// Every matching event that occurred after this instant was counted: the
    /// oldest counted event's `occurredAt`, or, for a `search` the index does
    /// not narrow, the oldest event checked (the newest 10,000 that the rest
    /// of the filter selects). Null when nothing was counted and nothing
    /// left unchecked. With `exact: false`, older matching events may exist
    /// and were not counted.
    pub counted_since: Option<Timestamp>,
}

impl AuditEventFacets {
    pub(crate) fn from_store(facets: Facets) -> Self {
        Self {
            actions: facets
                .actions
                .into_iter()
                .map(|f| ValueCount {
                    value: f.value,
                    count: Count(f.count),
                })
                .collect(),
            actors: facets
                .actors
                .into_iter()
                .map(|f| ActorCount {
                    actor_id: f.id,
                    name: f.name,
                    count: Count(f.count),
                })
                .collect(),
            exact: facets.coverage.exact,
            counted_events: Count(facets.coverage.counted),
            counted_since: facets.coverage.oldest.map(Timestamp),
        }
    }
}

/// One distinct value with the number of retained events that have it.
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct ValueCount {
    /// The value, e.g. an action; pass it to the matching filter field.
    pub value: String,
    /// Retained events with this value.
    pub count: Count,
}

/// One actor id with the number of events it recorded (a facet row, not an
/// entity: it has no `id`, so client caches keep rows apart).
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub(crate) struct ActorCount {
    /// The actor's id, as in `Actor.actorId`; pass it to `filter.actorIds`.
    pub actor_id: String,
    /// One of the names recorded with this actor id (the greatest, in byte
    /// order), if any event gave one. Without a filter it may come from an
    /// event that has since expired, while the actor still has events.
    pub name: Option<String>,
    /// Retained events recorded with this actor id.
    pub count: Count,
}

#[ComplexObject]
impl ActorCount {
    /// Same value as `actorId`.
    #[graphql(
        deprecation = "A snapshot, not an entity: the same id can name different actors or targets (of other types) and names change between events, so normalized caches (Apollo InMemoryCache, urql graphcache) that key on `id` show wrong data. Use `actorId`."
    )]
    async fn id(&self) -> &str {
        &self.actor_id
    }
}
