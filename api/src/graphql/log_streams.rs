//! Log streams in the schema (tenant ADMIN): `logStreams`,
//! `logStreamDeliveries` and the mutations that manage streams. The work is
//! `service::log_streams`'; delivery is the worker's. The contract a
//! receiver relies on is docs/streams.md.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use entity::log_stream_deliveries;

use super::context::ContextExt;
use super::enums::{GqlActorType, GqlOutcome};
use super::inputs::AuditEventFilter;
use super::query::parse_uuid;
use super::scalars::Timestamp;
use crate::auth::TenantCaller;
use crate::domain::Role;
use crate::domain::log_stream::{DeliveryStatus, StreamKind, StreamState};
use crate::error::{ApiError, ApiResult};
use crate::service::log_streams::{StreamRequest, StreamView, Streams};
use crate::store::events::EventFilter;

/// Deliveries per page at most (and by default 20).
const MAX_DELIVERIES_PAGE: i32 = 100;

/// Where a stream delivers to.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(
    name = "LogStreamKind",
    remote = "crate::domain::log_stream::StreamKind"
)]
pub(crate) enum GqlStreamKind {
    /// An HTTPS endpoint that receives signed JSON batches (Standard Webhooks).
    Webhook,
    /// A Splunk HTTP Event Collector (`<url>/services/collector/event`).
    SplunkHec,
}

/// Where a stream is in its life.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(
    name = "LogStreamState",
    remote = "crate::domain::log_stream::StreamState"
)]
pub(crate) enum GqlStreamState {
    /// Delivering.
    Active,
    /// Stopped by an admin (`pauseLogStream`); `resumeLogStream` continues
    /// from the cursor.
    Paused,
    /// The last attempt failed; retrying on the backoff schedule.
    Failing,
    /// Gave up (every retry failed, the receiver answered 410 Gone or
    /// another 4xx): `lastError` says why; `resumeLogStream` or
    /// `replayLogStream` re-enables it.
    Disabled,
}

/// How one delivery attempt ended.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(
    name = "LogStreamDeliveryStatus",
    remote = "crate::domain::log_stream::DeliveryStatus"
)]
pub(crate) enum GqlDeliveryStatus {
    /// The receiver answered 2xx.
    Delivered,
    /// No answer in time, a refused connection, or a non-2xx answer.
    Failed,
}

/// A stream's settings.
#[derive(InputObject, Clone, Debug)]
pub(crate) struct LogStreamInput {
    /// A name to tell streams apart, 1 to 200 characters.
    pub name: String,
    /// Where to deliver; cannot change after creation.
    pub kind: GqlStreamKind,
    /// The receiver: `https://` (plain `http://` only in development mode or
    /// to private targets the operator allows); for SPLUNK_HEC the
    /// collector's base URL (`/services/collector/event` is appended).
    pub url: String,
    /// Only matching events are delivered (every event without).
    pub filter: Option<AuditEventFilter>,
    /// SPLUNK_HEC: the HEC token (required at creation; omitted on update,
    /// the stored one stays). Stored encrypted, never returned.
    pub splunk_token: Option<String>,
    /// SPLUNK_HEC: the index (default: the token's).
    pub splunk_index: Option<String>,
    /// SPLUNK_HEC: the sourcetype (default `auditlog:event`).
    pub splunk_sourcetype: Option<String>,
    /// Events per delivery, 1 to 1000.
    #[graphql(default = 100)]
    pub batch_size: i32,
}

impl LogStreamInput {
    fn into_request(self) -> ApiResult<StreamRequest> {
        let filter = self.filter.map(AuditEventFilter::into_domain).transpose()?;
        Ok(StreamRequest {
            name: self.name,
            kind: self.kind.into(),
            url: self.url,
            filter,
            splunk_token: self.splunk_token,
            splunk_index: self.splunk_index,
            splunk_sourcetype: self.splunk_sourcetype,
            batch_size: self.batch_size,
        })
    }
}

/// A stream's filter, as it was given (the fields of `AuditEventFilter`).
#[derive(SimpleObject, Clone, Debug, Default)]
pub(crate) struct LogStreamFilter {
    /// Events whose action is any of these.
    pub actions: Option<Vec<String>>,
    /// Events whose action starts with this.
    pub action_prefix: Option<String>,
    /// Events whose `actor.actorId` is any of these.
    pub actor_ids: Option<Vec<String>>,
    /// Events by actors of this type.
    pub actor_type: Option<GqlActorType>,
    /// Events whose `target.type` is this.
    pub target_type: Option<String>,
    /// Events whose `target.targetId` is this.
    pub target_id: Option<String>,
    /// Events with this outcome.
    pub outcome: Option<GqlOutcome>,
    /// Inclusive lower bound on `occurredAt`.
    pub occurred_after: Option<Timestamp>,
    /// Exclusive upper bound on `occurredAt`.
    pub occurred_before: Option<Timestamp>,
    /// Events recorded with this client IP address (canonical spelling).
    pub ip_address: Option<String>,
    /// Case-insensitive substring of action, actor name or email, or target name.
    pub search: Option<String>,
}

impl From<EventFilter> for LogStreamFilter {
    fn from(filter: EventFilter) -> Self {
        Self {
            actions: filter.actions,
            action_prefix: filter.action_prefix,
            actor_ids: filter.actor_ids,
            actor_type: filter.actor_type.map(Into::into),
            target_type: filter.target_type,
            target_id: filter.target_id,
            outcome: filter.outcome.map(Into::into),
            occurred_after: filter.occurred_after.map(Timestamp),
            occurred_before: filter.occurred_before.map(Timestamp),
            ip_address: filter.ip_address.map(|ip| ip.canonical()),
            search: filter.search,
        }
    }
}

/// A range of sequences the retention purge deleted before the stream
/// delivered them (also recorded as `log_stream.gap`).
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct LogStreamGap {
    /// The first purged sequence.
    pub from_sequence: i64,
    /// The last purged sequence.
    pub to_sequence: i64,
    /// When the stream jumped over it.
    pub at: Timestamp,
}

/// An outbound stream of the tenant's events.
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct LogStream {
    /// Globally unique id (a UUID).
    pub id: ID,
    /// The name given to tell streams apart.
    pub name: String,
    /// Where it delivers to.
    pub kind: GqlStreamKind,
    /// The receiver (SPLUNK_HEC: the collector's base URL).
    pub url: String,
    /// Only matching events are delivered; null: every event.
    pub filter: Option<LogStreamFilter>,
    /// Events per delivery at most.
    pub batch_size: i32,
    /// SPLUNK_HEC: the index events go to (null: the token's default).
    pub splunk_index: Option<String>,
    /// SPLUNK_HEC: the sourcetype (null: `auditlog:event`).
    pub splunk_sourcetype: Option<String>,
    /// Delivering, paused, retrying or given up.
    pub state: GqlStreamState,
    /// The cursor: every matching event with a sequence up to this was
    /// acknowledged by the receiver. `replayLogStream` moves it.
    pub delivered_through_sequence: i64,
    /// Events of the tenant after the cursor (matching or not).
    pub lag_events: i64,
    /// When a batch was last acknowledged.
    pub last_delivery_at: Option<Timestamp>,
    /// Why the last attempt failed (null after a success).
    pub last_error: Option<String>,
    /// Failed attempts of the batch being retried.
    pub attempt: i32,
    /// When the next attempt is due (FAILING).
    pub next_attempt_at: Option<Timestamp>,
    /// The last range purged before delivery, if any.
    pub last_gap: Option<LogStreamGap>,
    /// WEBHOOK: until when the previous signing secret still signs too.
    pub previous_secret_valid_until: Option<Timestamp>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When its settings or state last changed.
    pub updated_at: Timestamp,
}

impl LogStream {
    fn of(view: StreamView) -> ApiResult<Self> {
        let StreamView { row, committed } = view;
        let corrupt = |what: &str, value: &str| {
            ApiError::Internal(anyhow::anyhow!(
                "stored log stream {what} {value:?} is unknown"
            ))
        };
        let kind = StreamKind::from_db(&row.kind).ok_or_else(|| corrupt("kind", &row.kind))?;
        let state = StreamState::from_db(&row.state).ok_or_else(|| corrupt("state", &row.state))?;
        let filter = match &row.filter {
            None => None,
            Some(text) => {
                let value = serde_json::from_str(text).map_err(|_| corrupt("filter", text))?;
                Some(
                    EventFilter::from_json(&value)
                        .ok_or_else(|| corrupt("filter", text))?
                        .into(),
                )
            }
        };
        let last_gap = match (row.gap_from, row.gap_to, row.gap_at) {
            (Some(from), Some(to), Some(at)) => Some(LogStreamGap {
                from_sequence: from,
                to_sequence: to,
                at: Timestamp(at),
            }),
            _ => None,
        };
        let previous_secret_valid_until = row
            .previous_secret_ciphertext
            .as_ref()
            .and(row.previous_secret_until)
            .filter(|until| *until > crate::domain::clock::now())
            .map(Timestamp);
        Ok(Self {
            id: ID(row.id.to_string()),
            lag_events: (committed - row.delivered_through).max(0),
            next_attempt_at: (state == StreamState::Failing)
                .then_some(Timestamp(row.next_attempt_at)),
            name: row.name,
            kind: kind.into(),
            url: row.url,
            filter,
            batch_size: row.batch_size,
            splunk_index: row.splunk_index,
            splunk_sourcetype: row.splunk_sourcetype,
            state: state.into(),
            delivered_through_sequence: row.delivered_through,
            last_delivery_at: row.last_delivery_at.map(Timestamp),
            last_error: row.last_error,
            attempt: row.attempt,
            last_gap,
            previous_secret_valid_until,
            created_at: Timestamp(row.created_at),
            updated_at: Timestamp(row.updated_at),
        })
    }
}

/// What creating a stream or rotating its secret returns.
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct CreatedLogStream {
    /// The stream.
    pub log_stream: LogStream,
    /// WEBHOOK: the `whsec_` signing secret, shown this once (verify
    /// deliveries with it, e.g. with a Standard Webhooks library). Null for
    /// SPLUNK_HEC.
    pub signing_secret: Option<String>,
}

/// One delivery attempt.
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct LogStreamDelivery {
    /// The attempt's own id.
    pub id: ID,
    /// What the receiver saw as `webhook-id` (SPLUNK_HEC:
    /// `X-Splunk-Request-Channel`): the same for every attempt of a batch.
    pub delivery_id: String,
    /// Whether the receiver acknowledged it.
    pub status: GqlDeliveryStatus,
    /// A `testLogStream` delivery (no events, no cursor move).
    pub test: bool,
    /// The first sequence the batch accounts for (events the filter left out included).
    pub first_sequence: i64,
    /// The last sequence the batch accounts for.
    pub last_sequence: i64,
    /// Events in the batch.
    pub event_count: i32,
    /// 1 for a batch's first attempt.
    pub attempt: i32,
    /// The receiver's HTTP status, if it answered.
    pub response_status: Option<i32>,
    /// Milliseconds from sending to the answer (or the failure).
    pub latency_ms: i64,
    /// Why it failed.
    pub error: Option<String>,
    /// When the attempt ended.
    pub created_at: Timestamp,
}

impl LogStreamDelivery {
    fn of(row: log_stream_deliveries::Model) -> Self {
        Self {
            id: ID(row.id.to_string()),
            delivery_id: row.delivery_id.to_string(),
            status: DeliveryStatus::from_db(&row.status)
                .unwrap_or(DeliveryStatus::Failed)
                .into(),
            test: row.test,
            first_sequence: row.first_sequence,
            last_sequence: row.last_sequence,
            event_count: row.event_count,
            attempt: row.attempt,
            response_status: row.response_status,
            latency_ms: row.latency_ms,
            error: row.error,
            created_at: Timestamp(row.created_at),
        }
    }
}

/// A page of delivery attempts, newest first.
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct LogStreamDeliveryConnection {
    /// The attempts with their cursors.
    pub edges: Vec<LogStreamDeliveryEdge>,
    /// The attempts.
    pub nodes: Vec<LogStreamDelivery>,
    /// Whether older attempts follow, and where.
    pub page_info: LogStreamDeliveryPageInfo,
}

/// An attempt and its cursor.
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct LogStreamDeliveryEdge {
    /// Pass as `after` for the attempts before this one.
    pub cursor: String,
    /// The attempt.
    pub node: LogStreamDelivery,
}

/// Where a page of attempts ends.
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct LogStreamDeliveryPageInfo {
    /// Older attempts follow.
    pub has_next_page: bool,
    /// The cursor of the page's last attempt.
    pub end_cursor: Option<String>,
}

fn admin<'a>(ctx: &'a Context<'_>, what: &str) -> Result<&'a TenantCaller> {
    Ok(ctx.principal().tenant_not_viewer(&[Role::Admin], what)?)
}

fn streams<'a>(ctx: &'a Context<'_>) -> Streams<'a> {
    let services = ctx.services();
    Streams {
        db: &services.db,
        live: &services.live,
        deliverer: &services.streams,
        plain_http: services.streams_plain_http,
    }
}

#[derive(Default)]
pub(super) struct LogStreamQuery;

#[Object]
impl LogStreamQuery {
    /// The tenant's log streams, oldest first (ADMIN).
    async fn log_streams(&self, ctx: &Context<'_>) -> Result<Vec<LogStream>> {
        let caller = admin(ctx, "list log streams")?;
        let views = streams(ctx).list(caller).await?;
        Ok(views
            .into_iter()
            .map(LogStream::of)
            .collect::<ApiResult<_>>()?)
    }

    /// A stream's delivery attempts of the last 7 days, newest first (ADMIN).
    async fn log_stream_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stream.")] id: ID,
        #[graphql(desc = "Attempts per page, 1 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<LogStreamDeliveryConnection> {
        let caller = admin(ctx, "list log stream deliveries")?;
        let id = parse_uuid("id", &id)?;
        let first = first.unwrap_or(20);
        if !(1..=MAX_DELIVERIES_PAGE).contains(&first) {
            return Err(
                ApiError::bad_input(format!("`first` must be 1 to {MAX_DELIVERIES_PAGE}")).into(),
            );
        }
        let after = after
            .map(|cursor| {
                uuid::Uuid::parse_str(&cursor)
                    .map_err(|_| ApiError::bad_input("`after` is not a cursor of this connection"))
            })
            .transpose()?;
        let page = streams(ctx)
            .deliveries(caller, id, u64::try_from(first).unwrap_or(20), after)
            .await?;
        let nodes: Vec<LogStreamDelivery> =
            page.rows.into_iter().map(LogStreamDelivery::of).collect();
        let edges = nodes
            .iter()
            .map(|node| LogStreamDeliveryEdge {
                cursor: node.id.to_string(),
                node: node.clone(),
            })
            .collect::<Vec<_>>();
        Ok(LogStreamDeliveryConnection {
            page_info: LogStreamDeliveryPageInfo {
                has_next_page: page.has_next_page,
                end_cursor: edges.last().map(|edge| edge.cursor.clone()),
            },
            edges,
            nodes,
        })
    }
}

#[derive(Default)]
pub(super) struct LogStreamMutation;

#[Object]
impl LogStreamMutation {
    /// Creates a stream (ADMIN; recorded as `log_stream.create`). It delivers
    /// the events after `startAfterSequence` (default: the tenant's last
    /// event, so from now on; 0: the whole retained log).
    async fn create_log_stream(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stream's settings.")] input: LogStreamInput,
        #[graphql(desc = "Deliver the events after this sequence (default: from now).")]
        start_after_sequence: Option<i64>,
    ) -> Result<CreatedLogStream> {
        let caller = admin(ctx, "create log streams")?;
        let (view, secret) = streams(ctx)
            .create(caller, input.into_request()?, start_after_sequence)
            .await?;
        Ok(CreatedLogStream {
            log_stream: LogStream::of(view)?,
            signing_secret: secret,
        })
    }

    /// Changes a stream's settings (ADMIN; `log_stream.update`). A batch in
    /// flight is dropped and the next one is built with the new settings.
    async fn update_log_stream(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stream.")] id: ID,
        #[graphql(desc = "Its new settings (`kind` must stay).")] input: LogStreamInput,
    ) -> Result<LogStream> {
        let caller = admin(ctx, "change log streams")?;
        let id = parse_uuid("id", &id)?;
        let view = streams(ctx)
            .update(caller, id, input.into_request()?)
            .await?;
        Ok(LogStream::of(view)?)
    }

    /// Stops delivering (ADMIN; `log_stream.pause`); the cursor stays.
    async fn pause_log_stream(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stream.")] id: ID,
    ) -> Result<LogStream> {
        let caller = admin(ctx, "pause log streams")?;
        let id = parse_uuid("id", &id)?;
        Ok(LogStream::of(streams(ctx).pause(caller, id).await?)?)
    }

    /// Delivers again from the cursor, retries starting over (ADMIN;
    /// `log_stream.resume`); re-enables a DISABLED stream.
    async fn resume_log_stream(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stream.")] id: ID,
    ) -> Result<LogStream> {
        let caller = admin(ctx, "resume log streams")?;
        let id = parse_uuid("id", &id)?;
        Ok(LogStream::of(streams(ctx).resume(caller, id).await?)?)
    }

    /// Moves the cursor back (or forward) to `afterSequence` (ADMIN;
    /// `log_stream.replay`): the next batch starts at `afterSequence + 1`.
    /// Re-enables a FAILING or DISABLED stream; a PAUSED one stays paused.
    async fn replay_log_stream(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stream.")] id: ID,
        #[graphql(desc = "Re-deliver the events after this sequence.")] after_sequence: i64,
    ) -> Result<LogStream> {
        let caller = admin(ctx, "replay log streams")?;
        let id = parse_uuid("id", &id)?;
        Ok(LogStream::of(
            streams(ctx).replay(caller, id, after_sequence).await?,
        )?)
    }

    /// A new signing secret for a WEBHOOK stream, shown once (ADMIN;
    /// `log_stream.rotate_secret`). For 24 hours deliveries carry both the
    /// old and the new signature.
    async fn rotate_log_stream_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stream.")] id: ID,
    ) -> Result<CreatedLogStream> {
        let caller = admin(ctx, "rotate log stream secrets")?;
        let id = parse_uuid("id", &id)?;
        let (view, secret) = streams(ctx).rotate_secret(caller, id).await?;
        Ok(CreatedLogStream {
            log_stream: LogStream::of(view)?,
            signing_secret: Some(secret),
        })
    }

    /// Deletes a stream and its delivery records (ADMIN; `log_stream.delete`).
    async fn delete_log_stream(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stream.")] id: ID,
    ) -> Result<bool> {
        let caller = admin(ctx, "delete log streams")?;
        let id = parse_uuid("id", &id)?;
        Ok(streams(ctx).delete(caller, id).await?)
    }

    /// Sends one synthetic delivery now (no events; `type` is
    /// `audit_events.test`) and reports it (ADMIN; `log_stream.test`). The
    /// cursor and state do not change.
    async fn test_log_stream(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stream.")] id: ID,
    ) -> Result<LogStreamDelivery> {
        let caller = admin(ctx, "test log streams")?;
        let id = parse_uuid("id", &id)?;
        Ok(LogStreamDelivery::of(streams(ctx).test(caller, id).await?))
    }
}
