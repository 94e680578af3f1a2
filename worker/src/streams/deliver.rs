//! One stream's delivery, batch after batch, under its lease (the protocol
//! is `entity::store::log_streams`'): claim, compute or reload the pending
//! batch, send it outside any transaction, then record the outcome fenced
//! by the lease. A batch goes out only after the previous one was
//! acknowledged; a crash anywhere re-sends the pending batch under the same
//! delivery id.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use entity::audit_events;
use entity::domain::clock;
use entity::domain::log_stream::{DeliveryStatus, StreamKind, StreamState};
use entity::domain::{AuditActor, Plan, RetentionRules, RetentionWindow};
use entity::log_streams;
use entity::store::admin_audit::{self, AdminAction};
use entity::store::events::{self, EventFilter};
use entity::store::log_streams::deliveries::{self, KEPT_FOR_DAYS, NewDelivery};
use entity::store::log_streams::delivery::{self, Claimed};
use entity::store::tenant_scope;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;
use url::Url;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::batch::{self, Batch, SplunkFields};
use super::http::{Exchange, Sender, Verdict, cut};
use super::schedule::RetrySchedule;
use super::secrets::LazySecrets;
use super::{StreamError, metrics};
use crate::purge::Published;
use crate::tree_heads::{HeadJson, TreeHeadSigner};

/// Sequences looked at per step when none match the filter: a selective
/// stream's cursor moves over non-matching events in bounded steps.
const SCAN_WINDOW: i64 = 10_000;
/// How long one claim delivers before it gives the stream back (others
/// waiting get their turn; a busy stream is claimed again at once).
const CLAIM_BUDGET: Duration = Duration::from_secs(5);
/// How often a stream's old delivery records are deleted.
const PRUNE_EVERY: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// What delivering streams needs; cheap to clone.
#[derive(Clone)]
pub struct Deliverer {
    pub(super) db: DatabaseConnection,
    pub(super) sender: Sender,
    pub(super) secrets: LazySecrets,
    pub(super) heads: TreeHeadSigner,
    pub(super) schedule: RetrySchedule,
    pub(super) live: Arc<dyn Published>,
    pub(super) holder: String,
    pub(super) lease: Duration,
    /// The operator's retention policy: expired events are not delivered.
    pub(super) retention: RetentionRules,
    /// Heads already signed for a tenant's batch end: the streams of one
    /// tenant deliver the same ranges, and a head is verifiable however old.
    pub(super) head_cache: HeadCache,
    pub(super) host: String,
}

/// How a claim ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimEnd {
    /// Another worker holds it, or it is not delivering.
    NotClaimed,
    /// Caught up, or waiting for a retry.
    Idle,
    /// The budget was spent with more to send.
    Busy,
    /// The lease was lost (taken over, paused, deleted) mid-way.
    Lost,
}

/// Covering heads by (tenant, last sequence), at most [`HeadCache::CAPACITY`]
/// (emptied when full: a miss only costs one signature).
#[derive(Clone, Default)]
pub struct HeadCache(Arc<std::sync::Mutex<std::collections::HashMap<(Uuid, u64), HeadJson>>>);

impl HeadCache {
    const CAPACITY: usize = 4096;

    fn get(&self, tenant_id: Uuid, last: u64) -> Option<HeadJson> {
        let heads = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        heads.get(&(tenant_id, last)).cloned()
    }

    fn put(&self, tenant_id: Uuid, last: u64, head: HeadJson) {
        let mut heads = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if heads.len() >= Self::CAPACITY {
            heads.clear();
        }
        heads.insert((tenant_id, last), head);
    }
}

/// What [`Deliverer::deliver`] did, and how far behind the stream was.
#[derive(Clone, Copy, Debug)]
pub struct ClaimReport {
    pub end: ClaimEnd,
    /// Events of the tenant after the cursor, as last seen.
    pub lag_events: i64,
    /// Age of the oldest event not yet acknowledged (0 when caught up).
    pub lag_seconds: f64,
}

/// What the claim saw of the stream's lag (no extra query: the steps read it).
#[derive(Default)]
struct LagSeen {
    committed: i64,
    delivered_through: i64,
    /// `receivedAt` of the first event of the batch in flight.
    oldest: Option<DateTime<Utc>>,
}

impl LagSeen {
    fn report(&self, end: ClaimEnd) -> ClaimReport {
        let lag_events = (self.committed - self.delivered_through).max(0);
        let lag_seconds = match self.oldest {
            Some(oldest) if lag_events > 0 => (clock::now() - oldest).as_seconds_f64().max(0.0),
            _ => 0.0,
        };
        ClaimReport {
            end,
            lag_events,
            lag_seconds,
        }
    }
}

enum Step {
    /// A batch was acknowledged and more may follow.
    Sent,
    /// The cursor moved without a delivery (a gap, unmatched events).
    Skipped,
    /// Caught up, or an attempt failed: the lease is given back already.
    Done,
    /// Not ours (any more).
    NotClaimed,
}

/// The batch being delivered.
struct Pending {
    delivery_id: Uuid,
    first: i64,
    last: i64,
    attempt: i32,
    events: Vec<audit_events::Model>,
}

impl Deliverer {
    /// Claims the stream and delivers until it is caught up, failing, or the
    /// budget is spent; then gives the lease back (in the transaction of the
    /// last step, when there is one).
    pub async fn deliver(
        &self,
        tenant_id: Uuid,
        stream_id: Uuid,
    ) -> Result<ClaimReport, StreamError> {
        let started = Instant::now();
        let mut seen = LagSeen::default();
        let mut held: Option<Claimed> = None;
        loop {
            match self
                .step(tenant_id, stream_id, &mut held, &mut seen)
                .await?
            {
                Step::Sent | Step::Skipped if started.elapsed() < CLAIM_BUDGET => continue,
                Step::Sent | Step::Skipped => break,
                Step::Done => return Ok(seen.report(ClaimEnd::Idle)),
                // Another worker holds it, or an admin paused, disabled or
                // deleted it: nothing of ours to release.
                Step::NotClaimed if held.is_some() => return Ok(seen.report(ClaimEnd::Lost)),
                Step::NotClaimed => return Ok(seen.report(ClaimEnd::NotClaimed)),
            }
        }
        if let Some(claimed) = &held {
            let txn = tenant_scope::begin(&self.db, tenant_id).await?;
            delivery::release(&txn, claimed).await?;
            txn.commit().await?;
        }
        Ok(seen.report(ClaimEnd::Busy))
    }

    async fn step(
        &self,
        tenant_id: Uuid,
        stream_id: Uuid,
        held: &mut Option<Claimed>,
        seen: &mut LagSeen,
    ) -> Result<Step, StreamError> {
        let (claimed, pending) = match self.pending_batch(tenant_id, stream_id, seen).await? {
            Prepared::Batch(claimed, pending) => (claimed, pending),
            Prepared::Skipped(claimed) => {
                *held = Some(claimed);
                return Ok(Step::Skipped);
            }
            Prepared::Done => return Ok(Step::Done),
            Prepared::NotClaimed => return Ok(Step::NotClaimed),
        };
        let exchange = self.send(&claimed.row, &pending).await;
        let step = self.record(&claimed, &pending, &exchange, seen).await?;
        *held = Some(claimed);
        Ok(step)
    }

    /// The batch to send: the pending one reloaded, or the next one stored
    /// as pending (committed before anything is sent). Its transaction
    /// starts by taking or renewing the lease (so it writes first), and
    /// gives the lease back when there is nothing to send.
    ///
    /// A batch says "every matching event of `firstSequence..=lastSequence`
    /// is here", so a range never spans a sequence that is gone: events the
    /// purge deleted or that expired (the tenant's retention cutoff hides
    /// them as it does from every read) end a batch before them, and when
    /// the cursor reaches them the stream jumps over the run and records it
    /// (`log_stream.gap`).
    async fn pending_batch(
        &self,
        tenant_id: Uuid,
        stream_id: Uuid,
        seen: &mut LagSeen,
    ) -> Result<Prepared, StreamError> {
        let now = clock::now();
        let until = now + chrono::TimeDelta::from_std(self.lease).unwrap_or(chrono::TimeDelta::MAX);
        let txn = tenant_scope::begin(&self.db, tenant_id).await?;
        let Some(claimed) =
            delivery::claim(&txn, tenant_id, stream_id, &self.holder, now, until).await?
        else {
            txn.commit().await?;
            return Ok(Prepared::NotClaimed);
        };
        let row = &claimed.row;
        let (cutoff, committed) = self.tenant_state(&txn, tenant_id).await?;
        seen.committed = committed;
        seen.delivered_through = row.delivered_through;
        if row.next_attempt_at > now {
            delivery::release(&txn, &claimed).await?;
            txn.commit().await?;
            return Ok(Prepared::Done);
        }
        let retained = EventFilter {
            retained_since: cutoff,
            ..EventFilter::default()
        };
        let mut filter = stream_filter(row)?.unwrap_or_default();
        filter.retained_since = retained.retained_since;
        if let (Some(delivery_id), Some(last)) =
            (row.pending_delivery_id, row.pending_last_sequence)
        {
            let events = events::after_sequence(
                &txn,
                tenant_id,
                row.delivered_through,
                Some(last),
                Some(&filter),
                batch_limit(row),
            )
            .await?;
            txn.commit().await?;
            seen.oldest = events.first().map(|event| event.received_at);
            let pending = Pending {
                delivery_id,
                first: row.batch_start_after + 1,
                last,
                attempt: row.attempt + 1,
                events,
            };
            return Ok(Prepared::Batch(claimed, pending));
        }
        let cursor = row.delivered_through;
        if committed <= cursor {
            delivery::release(&txn, &claimed).await?;
            txn.commit().await?;
            return Ok(Prepared::Done);
        }
        let next_present =
            delivery::present_sequences(&txn, tenant_id, (cursor, None), &retained, 1).await?;
        let gap_to = next_present.first().map_or(committed, |next| next - 1);
        if gap_to > cursor {
            delivery::jump_gap(&txn, &claimed, (cursor + 1, gap_to), now).await?;
            let payload = json!({
                "fromSequence": cursor + 1,
                "toSequence": gap_to,
                "reason": "purged or expired before delivery",
            });
            let sequence = record_worker_action(&txn, row, "log_stream.gap", payload, now).await?;
            txn.commit().await?;
            self.live.published(tenant_id, sequence).await;
            return Ok(Prepared::Skipped(claimed));
        }
        let upper = committed.min(cursor.saturating_add(SCAN_WINDOW));
        let mut events = events::after_sequence(
            &txn,
            tenant_id,
            cursor,
            Some(upper),
            Some(&filter),
            batch_limit(row),
        )
        .await?;
        let full = events.len() as u64 >= batch_limit(row);
        let mut last = match events.last() {
            Some(event) if full => event.sequence,
            _ => upper,
        };
        if let Some(hole) = first_hole(&txn, tenant_id, (cursor, last), &events, &retained).await? {
            // `cursor + 1` is present, so the batch keeps at least it.
            last = hole - 1;
            events.retain(|event| event.sequence <= last);
        }
        if events.is_empty() {
            delivery::skip_unmatched(&txn, &claimed, last).await?;
            txn.commit().await?;
            return Ok(Prepared::Skipped(claimed));
        }
        let delivery_id = Uuid::now_v7();
        delivery::set_pending(&txn, &claimed, delivery_id, last).await?;
        txn.commit().await?;
        seen.oldest = events.first().map(|event| event.received_at);
        let pending = Pending {
            delivery_id,
            first: row.batch_start_after + 1,
            last,
            attempt: 1,
            events,
        };
        Ok(Prepared::Batch(claimed, pending))
    }

    /// The tenant's retention cutoff now (`None`: on legal hold) and its
    /// last committed sequence, from its row.
    async fn tenant_state(
        &self,
        db: &impl ConnectionTrait,
        tenant_id: Uuid,
    ) -> Result<(Option<DateTime<Utc>>, i64), StreamError> {
        let tenant = entity::store::tenants::find_by_id(db, tenant_id)
            .await?
            .ok_or_else(|| StreamError::Invalid(format!("tenant {tenant_id} is gone")))?;
        let plan = Plan::from_db(&tenant.plan).ok_or_else(|| {
            StreamError::Invalid(format!("tenant plan {:?} is unknown", tenant.plan))
        })?;
        let window = RetentionWindow {
            days: self.retention.effective_days(plan, tenant.retention_days),
            legal_hold: tenant.legal_hold,
        };
        Ok((window.cutoff(clock::now()), tenant.event_counter))
    }

    /// Encodes, signs and POSTs `pending`; never fails (what went wrong is
    /// the exchange's detail).
    async fn send(&self, row: &log_streams::Model, pending: &Pending) -> Exchange {
        match self.request(row, pending).await {
            Ok((url, headers, body)) => self.sender.post(&url, headers, body).await,
            Err(detail) => Exchange {
                status: None,
                retry_after: None,
                detail: Some(detail),
                latency: Duration::ZERO,
            },
        }
    }

    async fn request(
        &self,
        row: &log_streams::Model,
        pending: &Pending,
    ) -> Result<(Url, HeaderMap, Vec<u8>), String> {
        let kind = StreamKind::from_db(&row.kind).ok_or("unknown stream kind")?;
        self.secrets
            .get()
            .await
            .map_err(|error| error.to_string())?;
        let now = clock::now();
        let mut batch = Batch {
            tenant_id: row.tenant_id,
            stream_id: row.id,
            first_sequence: pending.first,
            last_sequence: pending.last,
            events: &pending.events,
            tree_head: None,
        };
        match kind {
            StreamKind::Webhook => {
                batch.tree_head = self.tree_head(row.tenant_id, pending.last).await;
                let body = batch::webhook_body(&batch, now)?;
                let url = Url::parse(&row.url).map_err(|error| error.to_string())?;
                let headers = self.webhook_headers(row, pending.delivery_id, now, &body)?;
                Ok((url, headers, body))
            }
            StreamKind::SplunkHec => {
                let fields = self.splunk_fields(row);
                let body = batch::splunk_body(&batch, &fields)?;
                let (url, headers) = self.splunk_request(row, pending.delivery_id)?;
                Ok((url, headers, body))
            }
        }
    }

    /// The latest signed head covering `last`, if any can be had (a failure
    /// to sign is logged and the batch goes without).
    async fn tree_head(&self, tenant_id: Uuid, last: i64) -> Option<HeadJson> {
        let sequence = u64::try_from(last).ok()?;
        if let Some(head) = self.head_cache.get(tenant_id, sequence) {
            return Some(head);
        }
        match self.heads.covering_head(tenant_id, sequence).await {
            Ok(head) => {
                let head = head.as_ref().map(HeadJson::of);
                if let Some(head) = &head {
                    self.head_cache.put(tenant_id, sequence, head.clone());
                }
                head
            }
            Err(error) => {
                tracing::warn!(tenant_id = %tenant_id, error = %error, "no tree head for a stream batch");
                None
            }
        }
    }

    /// The Standard Webhooks headers of a delivery with `body`.
    pub(super) fn webhook_headers(
        &self,
        row: &log_streams::Model,
        delivery_id: Uuid,
        now: DateTime<Utc>,
        body: &[u8],
    ) -> Result<HeaderMap, String> {
        let secrets = self.signing_secrets(row, now)?;
        let secrets: Vec<&str> = secrets.iter().map(|secret| secret.as_str()).collect();
        let id = delivery_id.to_string();
        let timestamp = now.timestamp();
        let signature = super::webhook::signature_header(&secrets, &id, timestamp, body);
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        insert(&mut headers, "webhook-id", &id)?;
        insert(&mut headers, "webhook-timestamp", &timestamp.to_string())?;
        insert(&mut headers, "webhook-signature", &signature)?;
        Ok(headers)
    }

    /// The current secret, and the previous one while its rotation window lasts.
    fn signing_secrets(
        &self,
        row: &log_streams::Model,
        now: DateTime<Utc>,
    ) -> Result<Vec<Zeroizing<String>>, String> {
        let mut secrets = Vec::new();
        let open = |stored: &str| {
            self.secrets
                .loaded()?
                .open(row.tenant_id, row.id, stored)
                .map_err(|error| error.to_string())
        };
        if let Some(current) = &row.secret_ciphertext {
            secrets.push(open(current)?);
        }
        if let (Some(previous), Some(until)) =
            (&row.previous_secret_ciphertext, row.previous_secret_until)
            && until > now
        {
            secrets.push(open(previous)?);
        }
        if secrets.is_empty() {
            return Err("the stream has no signing secret".into());
        }
        Ok(secrets)
    }

    pub(super) fn splunk_fields<'a>(&'a self, row: &'a log_streams::Model) -> SplunkFields<'a> {
        SplunkFields {
            host: &self.host,
            index: row.splunk_index.as_deref(),
            sourcetype: row.splunk_sourcetype.as_deref(),
        }
    }

    /// `<url>/services/collector/event` and `Authorization: Splunk <token>`;
    /// HEC's `X-Splunk-Request-Channel` carries the delivery id.
    pub(super) fn splunk_request(
        &self,
        row: &log_streams::Model,
        delivery_id: Uuid,
    ) -> Result<(Url, HeaderMap), String> {
        let base = row.url.trim_end_matches('/');
        let url = if base.ends_with("/services/collector/event") {
            Url::parse(base)
        } else {
            Url::parse(&format!("{base}/services/collector/event"))
        }
        .map_err(|error| error.to_string())?;
        let token = match &row.secret_ciphertext {
            Some(stored) => self
                .secrets
                .loaded()?
                .open(row.tenant_id, row.id, stored)
                .map_err(|error| error.to_string())?,
            None => return Err("the stream has no Splunk token".into()),
        };
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let mut authorization = HeaderValue::from_str(&format!("Splunk {}", token.as_str()))
            .map_err(|_| "the Splunk token is not a valid header value".to_owned())?;
        authorization.set_sensitive(true);
        headers.insert(AUTHORIZATION, authorization);
        insert(
            &mut headers,
            "x-splunk-request-channel",
            &delivery_id.to_string(),
        )?;
        Ok((url, headers))
    }

    /// Records the attempt and moves the stream on, fenced by the lease.
    async fn record(
        &self,
        claimed: &Claimed,
        pending: &Pending,
        exchange: &Exchange,
        seen: &mut LagSeen,
    ) -> Result<Step, StreamError> {
        let tenant_id = claimed.row.tenant_id;
        let verdict = Verdict::of(exchange);
        let kind = claimed.row.kind.as_str();
        metrics::delivery(kind, &verdict, exchange.latency);
        let now = clock::now();
        let txn = tenant_scope::begin(&self.db, tenant_id).await?;
        let Some(row) = delivery::fenced(&txn, claimed).await? else {
            txn.rollback().await?;
            return Ok(Step::NotClaimed);
        };
        if row.pending_delivery_id != Some(pending.delivery_id) {
            // An admin replayed or changed the stream meanwhile: this batch is void.
            txn.rollback().await?;
            return Ok(Step::Skipped);
        }
        let status = match verdict {
            Verdict::Delivered => DeliveryStatus::Delivered,
            _ => DeliveryStatus::Failed,
        };
        let record = NewDelivery {
            stream_id: row.id,
            delivery_id: pending.delivery_id,
            test: false,
            status,
            first_sequence: pending.first,
            last_sequence: pending.last,
            event_count: i32::try_from(pending.events.len()).unwrap_or(i32::MAX),
            attempt: pending.attempt,
            response_status: exchange.status.map(i32::from),
            latency_ms: i64::try_from(exchange.latency.as_millis()).unwrap_or(i64::MAX),
            error: (status == DeliveryStatus::Failed).then(|| failure_text(exchange)),
        };
        deliveries::insert(&txn, tenant_id, record, now).await?;
        if row
            .deliveries_pruned_at
            .is_none_or(|at| at < now - PRUNE_EVERY)
        {
            let before = now - chrono::TimeDelta::days(KEPT_FOR_DAYS);
            deliveries::prune(&txn, tenant_id, row.id, before).await?;
            delivery::mark_pruned(&txn, claimed, now).await?;
        }
        // A failure: the state it leaves, when to try again, and why.
        let failed = match verdict {
            Verdict::Delivered => None,
            Verdict::Retry(retry_after) => {
                let failures = usize::try_from(pending.attempt).unwrap_or(usize::MAX);
                Some(match self.schedule.next_delay(failures, retry_after) {
                    Some(delay) => (
                        StreamState::Failing,
                        now + chrono::TimeDelta::from_std(delay).unwrap_or(chrono::TimeDelta::MAX),
                        failure_text(exchange),
                    ),
                    None => (
                        StreamState::Disabled,
                        now,
                        format!(
                            "gave up after {} attempts: {}",
                            pending.attempt,
                            failure_text(exchange)
                        ),
                    ),
                })
            }
            Verdict::Disable => Some((StreamState::Disabled, now, failure_text(exchange))),
        };
        let mut published = None;
        let step = match failed {
            None => {
                delivery::acknowledge(&txn, claimed, pending.last, now).await?;
                seen.delivered_through = pending.last;
                seen.oldest = None;
                if pending.last >= seen.committed {
                    // Caught up with what the batch's transaction saw: give
                    // the stream back now rather than in one more step (new
                    // events make it due again).
                    delivery::release(&txn, claimed).await?;
                    Step::Done
                } else {
                    Step::Sent
                }
            }
            Some((state, next_attempt_at, error)) => {
                delivery::fail(
                    &txn,
                    claimed,
                    state,
                    pending.attempt,
                    next_attempt_at,
                    &error,
                    now,
                )
                .await?;
                if state == StreamState::Disabled {
                    let payload = json!({ "reason": error });
                    published = Some(
                        record_worker_action(&txn, &row, "log_stream.disable", payload, now)
                            .await?,
                    );
                }
                delivery::release(&txn, claimed).await?;
                Step::Done
            }
        };
        txn.commit().await?;
        if let Some(sequence) = published {
            self.live.published(tenant_id, sequence).await;
        }
        Ok(step)
    }
}

enum Prepared {
    Batch(Claimed, Pending),
    Skipped(Claimed),
    /// Nothing to send; the lease is given back.
    Done,
    NotClaimed,
}

fn batch_limit(row: &log_streams::Model) -> u64 {
    u64::try_from(row.batch_size.clamp(1, 1000)).unwrap_or(1)
}

/// The stream's stored filter (`None`: every event).
fn stream_filter(row: &log_streams::Model) -> Result<Option<EventFilter>, StreamError> {
    let Some(text) = &row.filter else {
        return Ok(None);
    };
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|_| StreamError::Invalid(format!("stream {} has a damaged filter", row.id)))?;
    EventFilter::from_json(&value)
        .map(Some)
        .ok_or_else(|| StreamError::Invalid(format!("stream {} has a damaged filter", row.id)))
}

/// The first sequence of `(cursor, last]` that is gone (purged or
/// expired), if any. `events` are the matching rows read from that range:
/// when they are every sequence of it, nothing is gone and no query runs.
async fn first_hole(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    (cursor, last): (i64, i64),
    events: &[audit_events::Model],
    retained: &EventFilter,
) -> Result<Option<i64>, StreamError> {
    let span = last - cursor;
    let complete = events.len() as i64 == span
        && events
            .first()
            .is_some_and(|event| event.sequence == cursor + 1);
    if complete {
        return Ok(None);
    }
    let present = delivery::count_present(db, tenant_id, (cursor, last), retained).await?;
    if present as i64 == span {
        return Ok(None);
    }
    let limit = u64::try_from(span).unwrap_or(0);
    let sequences =
        delivery::present_sequences(db, tenant_id, (cursor, Some(last)), retained, limit).await?;
    let hole = sequences
        .iter()
        .zip(cursor + 1..)
        .find(|(present, expected)| **present != *expected)
        .map_or(cursor + 1 + sequences.len() as i64, |(_, expected)| {
            expected
        });
    Ok((hole <= last).then_some(hole))
}

/// A worker's own event in the tenant's log (`log_stream.gap`: what the
/// purge took before delivery; `log_stream.disable`: the worker gave up).
async fn record_worker_action(
    txn: &impl ConnectionTrait,
    row: &log_streams::Model,
    action: &'static str,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<i64, StreamError> {
    let action = AdminAction {
        action,
        target_type: "log_stream",
        target_id: row.id.to_string(),
        target_name: Some(row.name.clone()),
        payload,
    };
    let actor = AuditActor::stream_worker();
    Ok(admin_audit::record(txn, row.tenant_id, &actor, action, now).await?)
}

/// What an attempt's record and `lastError` say about a failure.
pub(super) fn failure_text(exchange: &Exchange) -> String {
    let text = match (exchange.status, &exchange.detail) {
        (Some(status), Some(detail)) => format!("HTTP {status}: {detail}"),
        (Some(status), None) => format!("HTTP {status}"),
        (None, Some(detail)) => detail.clone(),
        (None, None) => "no answer".to_owned(),
    };
    cut(&text)
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) -> Result<(), String> {
    let value =
        HeaderValue::from_str(value).map_err(|_| format!("{name} is not a header value"))?;
    headers.insert(HeaderName::from_static(name), value);
    Ok(())
}
