//! GraphQL input types and their conversion into domain values.
//!
//! This is the edge: everything a client sends becomes a domain type here or a
//! `BAD_USER_INPUT` error naming the offending field.

use async_graphql::{InputObject, Json};

use super::enums::{GqlActorType, GqlOutcome};
use super::scalars::Timestamp;
use crate::domain::new_event::{RawEvent, RawTarget};
use crate::domain::{IpAddress, timestamp};
use crate::error::{ApiError, ApiResult};
use crate::store::events::EventFilter;

/// Most values accepted in one list filter (`actions`, `actorIds`).
pub(crate) const MAX_FILTER_VALUES: usize = 100;

/// Narrows `auditEvents`, `auditEventFacets` and live subscriptions. All
/// given fields must match.
#[derive(InputObject, Clone, Debug, Default)]
pub(crate) struct AuditEventFilter {
    /// Events whose action is exactly any of these (at most 100).
    pub actions: Option<Vec<String>>,
    /// Events whose action starts with this text, e.g. `"entry."` matches `entry.create` and `entry.update`.
    pub action_prefix: Option<String>,
    /// Events whose `actor.actorId` is any of these (at most 100), of any
    /// actor type unless `actorType` is given too.
    pub actor_ids: Option<Vec<String>>,
    /// Events by actors of this type.
    pub actor_type: Option<GqlActorType>,
    /// Events whose `target.type` is exactly this.
    pub target_type: Option<String>,
    /// Events whose `target.targetId` is exactly this.
    pub target_id: Option<String>,
    /// Events with this outcome.
    pub outcome: Option<GqlOutcome>,
    /// Inclusive lower bound on `occurredAt`.
    pub occurred_after: Option<Timestamp>,
    /// Exclusive upper bound on `occurredAt`.
    pub occurred_before: Option<Timestamp>,
    /// Events recorded with this client IP address (IPv4 or IPv6, any
    /// spelling: it is compared as an address).
    pub ip_address: Option<String>,
    /// Case-insensitive substring of action, actor name or email, or target name; empty text matches everything.
    pub search: Option<String>,
}

impl AuditEventFilter {
    pub(crate) fn into_domain(self) -> ApiResult<EventFilter> {
        for (name, list) in [("actions", &self.actions), ("actorIds", &self.actor_ids)] {
            if list
                .as_ref()
                .is_some_and(|values| values.len() > MAX_FILTER_VALUES)
            {
                return Err(ApiError::bad_input(format!(
                    "filter.{name} accepts at most {MAX_FILTER_VALUES} values"
                )));
            }
        }
        self.refuse_nul()?;
        let ip_address = self
            .ip_address
            .map(|ip| IpAddress::parse(&ip))
            .transpose()
            .map_err(|reason| ApiError::bad_input(format!("filter.ipAddress: {reason}")))?;
        let occurred_after = self.occurred_after.map(|at| at.0);
        let occurred_before = self.occurred_before.map(|at| at.0);
        for (name, at) in [
            ("occurredAfter", occurred_after),
            ("occurredBefore", occurred_before),
        ] {
            if let Some(at) = at {
                timestamp::storable(at)
                    .map_err(|reason| ApiError::bad_input(format!("filter.{name}: {reason}")))?;
            }
        }
        if let (Some(after), Some(before)) = (occurred_after, occurred_before)
            && after > before
        {
            return Err(ApiError::bad_input(
                "filter.occurredAfter must not be later than filter.occurredBefore",
            ));
        }
        Ok(EventFilter {
            actions: self.actions,
            action_prefix: self.action_prefix,
            actor_ids: self.actor_ids,
            actor_type: self.actor_type.map(Into::into),
            target_type: self.target_type,
            target_id: self.target_id,
            outcome: self.outcome.map(Into::into),
            occurred_after,
            occurred_before,
            ip_address,
            search: self.search.filter(|text| !text.is_empty()),
            // Set by the resolver from the caller's retention window, never by clients.
            retained_since: None,
        })
    }

    /// No stored text contains NUL (ingestion refuses it), and PostgreSQL cannot
    /// even compare with it: a NUL in a filter is a client error on both backends.
    fn refuse_nul(&self) -> ApiResult<()> {
        let has_nul = |text: &String| text.contains('\0');
        let fields = [
            ("actions", self.actions.iter().flatten().any(has_nul)),
            ("actionPrefix", self.action_prefix.iter().any(has_nul)),
            ("actorIds", self.actor_ids.iter().flatten().any(has_nul)),
            ("targetType", self.target_type.iter().any(has_nul)),
            ("targetId", self.target_id.iter().any(has_nul)),
            ("ipAddress", self.ip_address.iter().any(has_nul)),
            ("search", self.search.iter().any(has_nul)),
        ];
        match fields.into_iter().find(|(_, nul)| *nul) {
            Some((name, _)) => Err(ApiError::bad_input(format!(
                "filter.{name} must not contain a NUL character"
            ))),
            None => Ok(()),
        }
    }
}

/// One event to record.
#[derive(InputObject, Clone, Debug)]
pub(crate) struct AuditEventInput {
    /// `<resource>.<verb>`, lower case, e.g. `entry.create`.
    pub action: String,
    /// Who did it, as they are now: the event keeps this snapshot.
    pub actor: ActorInput,
    /// What it was done to, if anything.
    pub target: Option<TargetInput>,
    /// Whether it succeeded (default `SUCCESS`).
    #[graphql(default)]
    pub outcome: GqlOutcome,
    /// Where the request came from, if known.
    pub context: Option<ContextInput>,
    /// Free-form JSON, at most 64 KiB serialized.
    pub payload: Option<Json<serde_json::Value>>,
    /// Default: when the server receives it. At most 5 minutes in the future.
    pub occurred_at: Option<Timestamp>,
    /// Re-sending an event with the same key returns the original and stores nothing.
    pub idempotency_key: Option<String>,
}

/// The actor of an event to record; read back as `Actor`.
#[derive(InputObject, Clone, Debug)]
pub(crate) struct ActorInput {
    /// The kind of actor.
    #[graphql(name = "type")]
    pub actor_type: GqlActorType,
    /// The actor's id in your application (read back as `Actor.actorId`).
    pub id: String,
    /// The actor's display name now, if any.
    pub name: Option<String>,
    /// The actor's email address now, if any.
    pub email: Option<String>,
}

/// The target of an event to record; read back as `Target`.
#[derive(InputObject, Clone, Debug)]
pub(crate) struct TargetInput {
    /// The kind of target in your application, e.g. `document`.
    #[graphql(name = "type")]
    pub target_type: String,
    /// The target's id in your application (read back as `Target.targetId`).
    pub id: Option<String>,
    /// The target's display name now, if any.
    pub name: Option<String>,
}

/// Where the recorded request came from.
#[derive(InputObject, Clone, Debug)]
pub(crate) struct ContextInput {
    /// The client's IP address (IPv4 or IPv6); stored in canonical form.
    pub ip_address: Option<String>,
    /// The client's `User-Agent`.
    pub user_agent: Option<String>,
    /// Your request id, to correlate with your logs (default: the
    /// `x-request-id` header of the call to `recordAuditEvents`, if sent).
    pub request_id: Option<String>,
}

impl From<AuditEventInput> for RawEvent {
    fn from(input: AuditEventInput) -> Self {
        let context = input.context;
        Self {
            action: input.action,
            actor_type: Some(input.actor.actor_type.into()),
            actor_id: input.actor.id,
            actor_name: input.actor.name,
            actor_email: input.actor.email,
            target: input.target.map(|target| RawTarget {
                target_type: target.target_type,
                id: target.id,
                name: target.name,
            }),
            outcome: input.outcome.into(),
            ip_address: context.as_ref().and_then(|c| c.ip_address.clone()),
            user_agent: context.as_ref().and_then(|c| c.user_agent.clone()),
            request_id: context.and_then(|c| c.request_id),
            transport_request_id: None,
            payload: input.payload.map(|json| json.0),
            occurred_at: input.occurred_at.map(|at| at.0),
            idempotency_key: input.idempotency_key,
        }
    }
}
