//! Group commit: concurrent `recordAuditEvents` calls of one tenant share a
//! transaction.
//!
//! A tenant's batches are serialized anyway (the counter row lock that keeps
//! sequences gapless, see `store::events::append`), so 64 clients sending one
//! event each would otherwise queue for that lock, one transaction (and one
//! NOTIFY) per event. Here a request hands its validated batch to its tenant's
//! queue; one drainer task per busy tenant commits everything queued in one
//! transaction while new requests queue behind it, then answers each request
//! with its own rows. An idle tenant's request commits at once, alone: no
//! added latency, no timer.
//!
//! Invariants:
//! - a request is answered only after the transaction holding its events has
//!   committed (acknowledged means durable), and with exactly its own rows;
//! - a group that fails *before* its commit (an idempotency conflict, an expired
//!   replay, any statement error) is rolled back and its requests are committed
//!   one by one, so each gets the answer it would have had alone, in arrival order;
//! - the tenant's ingest quota is checked per request, in arrival order, inside
//!   the group's transaction (`store::events::append_metered`): a request over
//!   the quota gets `QUOTA_EXCEEDED` with nothing of it written, and the others
//!   of the group are committed as if it had not been sent (no rollback needed);
//! - a request that went away before its transaction's COMMIT (client gone,
//!   request timeout) is not written, as when a request's own transaction is
//!   dropped;
//! - a group whose COMMIT fails is not retried by the server (it may have been
//!   committed): every request in it gets the error, and clients retry with
//!   their idempotency keys as for any `UNAVAILABLE`;
//! - on SQLite, which has one writer, the drainers of all tenants take turns
//!   through an in-process lock instead of spinning on the busy timeout.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::audit_events;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbBackend};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::domain::{NewEvent, RetentionWindow, clock};
use crate::error::{ApiError, ApiResult};
use crate::limits::quota_exceeded;
use crate::live::Hub;
use crate::store;
use crate::store::events::{Appended, MeteredBatch};

/// Events committed in one group transaction at most (a single request's batch
/// of up to 1000 always fits), so no group holds the tenant's lock for long.
const MAX_GROUP_EVENTS: usize = 2000;

/// One request's validated batch and where its answer goes.
struct Job {
    events: Vec<NewEvent>,
    retention: RetentionWindow,
    /// The tenant plan's ingest quota (events per minute; `None`: unlimited).
    per_minute: Option<NonZeroU32>,
    reply: Answer,
}

/// Where a job's result goes; closed once its request has gone away.
type Answer = oneshot::Sender<ApiResult<Vec<audit_events::Model>>>;

/// The per-process group committer (cheap to clone).
#[derive(Clone)]
pub(crate) struct GroupCommit {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    live: Hub,
    /// Queued jobs per tenant; a tenant has an entry exactly while its drainer runs.
    queues: Mutex<HashMap<Uuid, Vec<Job>>>,
    /// SQLite's single writer, taken around each transaction (not on PostgreSQL).
    sqlite_writer: tokio::sync::Mutex<()>,
    /// Woken when the last tenant's drainer ends (no events being committed).
    idle: tokio::sync::Notify,
    /// When a request last asked to record events (`None`: never).
    last_request: Mutex<Option<tokio::time::Instant>>,
}

impl GroupCommit {
    pub(crate) fn new(db: DatabaseConnection, live: Hub) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                live,
                queues: Mutex::new(HashMap::new()),
                sqlite_writer: tokio::sync::Mutex::new(()),
                idle: tokio::sync::Notify::new(),
                last_request: Mutex::new(None),
            }),
        }
    }

    /// Appends `events` to the tenant's log (in a group or alone) and returns
    /// the stored rows, one per event, once they are committed; or refuses
    /// them all with `QUOTA_EXCEEDED` when their new events do not fit the
    /// tenant's ingest quota of `per_minute` (`None`: unlimited).
    pub(crate) async fn append(
        &self,
        tenant_id: Uuid,
        retention: RetentionWindow,
        per_minute: Option<NonZeroU32>,
        events: Vec<NewEvent>,
    ) -> ApiResult<Vec<audit_events::Model>> {
        self.note_request();
        let (reply, answer) = oneshot::channel();
        let job = Job {
            events,
            retention,
            per_minute,
            reply,
        };
        let start_drainer = {
            let mut queues = self.lock_queues();
            match queues.get_mut(&tenant_id) {
                Some(queue) => {
                    queue.push(job);
                    false
                }
                None => {
                    queues.insert(tenant_id, vec![job]);
                    true
                }
            }
        };
        if start_drainer {
            // Its own task: a request that goes away (client gone, timeout)
            // must not take the other requests' transaction with it.
            tokio::spawn(self.clone().drain(tenant_id));
        }
        answer.await.unwrap_or_else(|_| {
            Err(ApiError::Internal(anyhow::anyhow!(
                "the group commit of this batch ended without an answer"
            )))
        })
    }

    /// Waits while this process is committing events, for at most `max`.
    /// Bulk readers (the export) call it between batches: recording, whose
    /// latency clients wait on, keeps the CPU and the database it needs, and
    /// an export only slows down while events are being recorded.
    pub(crate) async fn yield_to_writes(&self, max: Duration) {
        let deadline = tokio::time::Instant::now() + max;
        loop {
            // Registered before the check, so an end in between still wakes us.
            let idle = self.inner.idle.notified();
            let mut idle = std::pin::pin!(idle);
            idle.as_mut().enable();
            if self.lock_queues().is_empty() {
                return;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                return;
            }
        }
    }

    /// Notes that a request asked to record events now.
    pub(crate) fn note_request(&self) {
        *self
            .inner
            .last_request
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(tokio::time::Instant::now());
    }

    /// Whether a request asked to record events in this process within `window`.
    pub(crate) fn recording_within(&self, window: Duration) -> bool {
        let last = *self
            .inner
            .last_request
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        last.is_some_and(|at| at.elapsed() <= window)
    }

    /// Removes the entry of a tenant whose drainer ran out of work, and wakes
    /// [`Self::yield_to_writes`] when it was the last one.
    fn remove_idle(&self, queues: &mut HashMap<Uuid, Vec<Job>>, tenant_id: Uuid) {
        queues.remove(&tenant_id);
        if queues.is_empty() {
            self.inner.idle.notify_waiters();
        }
    }

    fn lock_queues(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Vec<Job>>> {
        self.inner
            .queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Commits the tenant's queued jobs, group after group, until none is left.
    async fn drain(self, tenant_id: Uuid) {
        // Whatever ends this task (even a panic), the tenant's entry goes, so
        // the next request starts a new drainer; jobs still queued then are
        // answered with an error by their dropped senders.
        let mut entry = QueueEntry {
            group_commit: &self,
            tenant_id,
            armed: true,
        };
        loop {
            let group = {
                let mut queues = self.lock_queues();
                let Some(queue) = queues.get_mut(&tenant_id) else {
                    entry.armed = false;
                    return;
                };
                if queue.is_empty() {
                    // Under the same lock as the check: a request either found
                    // this entry (and is in `queue`) or will start a new drainer.
                    self.remove_idle(&mut queues, tenant_id);
                    entry.armed = false;
                    return;
                }
                take_group(queue)
            };
            self.commit_group(tenant_id, group).await;
        }
    }

    async fn commit_group(&self, tenant_id: Uuid, mut group: Vec<Job>) {
        let received_at = clock::now();
        if group.len() == 1
            && let Some(job) = group.pop()
        {
            self.answer_alone(tenant_id, job, received_at).await;
            return;
        }
        match self.commit_together(tenant_id, &group, received_at).await {
            Together::Committed(outcomes) => {
                // Hand each request its own rows (or its refusal), in order.
                for (job, outcome) in group.into_iter().zip(outcomes) {
                    let _ = job.reply.send(answer_of(outcome));
                }
            }
            Together::CommitFailed(error) => {
                for job in group {
                    let _ = job.reply.send(Err(same_error(&error)));
                }
            }
            Together::RolledBack => {
                for job in group {
                    self.answer_alone(tenant_id, job, received_at).await;
                }
            }
        }
    }

    /// Commits one job in a transaction of its own and answers it (unless its
    /// request has gone away already).
    async fn answer_alone(&self, tenant_id: Uuid, job: Job, received_at: DateTime<Utc>) {
        if job.reply.is_closed() {
            return;
        }
        let batch = MeteredBatch {
            events: job.events,
            per_minute: job.per_minute,
        };
        let result = self
            .commit_alone(tenant_id, batch, job.retention, &job.reply, received_at)
            .await;
        let _ = job.reply.send(result);
    }

    async fn commit_alone(
        &self,
        tenant_id: Uuid,
        batch: MeteredBatch,
        retention: RetentionWindow,
        reply: &Answer,
        received_at: DateTime<Utc>,
    ) -> ApiResult<Vec<audit_events::Model>> {
        let _writer = self.sqlite_turn().await;
        let txn = store::tenant_scope::begin(&self.inner.db, tenant_id).await?;
        let outcome = store::events::append_metered(&txn, tenant_id, vec![batch], received_at)
            .await?
            .pop();
        let stored = match outcome {
            Some(Appended::Stored(stored)) => stored,
            Some(Appended::OverQuota(refusal)) => {
                txn.rollback().await?;
                return Err(quota_exceeded(&refusal));
            }
            None => {
                txn.rollback().await?;
                return Err(ApiError::Internal(anyhow::anyhow!(
                    "the event store answered nothing for the batch"
                )));
            }
        };
        if let Err(error) = refuse_expired_replay(&stored, retention, received_at) {
            txn.rollback().await?;
            return Err(error);
        }
        if reply.is_closed() {
            // Its request is gone (client or request timeout): write nothing.
            txn.rollback().await?;
            return Err(ApiError::Internal(anyhow::anyhow!("the request went away")));
        }
        txn.commit().await?;
        self.publish(tenant_id, &stored).await;
        Ok(stored)
    }

    async fn commit_together(
        &self,
        tenant_id: Uuid,
        group: &[Job],
        received_at: DateTime<Utc>,
    ) -> Together {
        let _writer = self.sqlite_turn().await;
        let txn = match store::tenant_scope::begin(&self.inner.db, tenant_id).await {
            Ok(txn) => txn,
            Err(_) => return Together::RolledBack,
        };
        let batches = group
            .iter()
            .map(|job| MeteredBatch {
                events: job.events.clone(),
                per_minute: job.per_minute,
            })
            .collect();
        let outcomes =
            match store::events::append_metered(&txn, tenant_id, batches, received_at).await {
                Ok(outcomes) if outcomes.len() == group.len() => outcomes,
                _ => return rolled_back(txn).await,
            };
        for (job, outcome) in group.iter().zip(&outcomes) {
            // A job over the quota wrote nothing: it needs no retry.
            let Appended::Stored(rows) = outcome else {
                continue;
            };
            // A job whose request went away (client gone, request timeout)
            // must not be written: retry the others without it.
            if refuse_expired_replay(rows, job.retention, received_at).is_err()
                || job.reply.is_closed()
            {
                return rolled_back(txn).await;
            }
        }
        if let Err(error) = txn.commit().await {
            return Together::CommitFailed(error.into());
        }
        let last = outcomes
            .iter()
            .filter_map(|outcome| match outcome {
                Appended::Stored(rows) => rows.iter().map(|row| row.sequence).max(),
                Appended::OverQuota(_) => None,
            })
            .max();
        if let Some(last) = last {
            self.inner.live.published(tenant_id, last).await;
        }
        Together::Committed(outcomes)
    }

    async fn publish(&self, tenant_id: Uuid, stored: &[audit_events::Model]) {
        if let Some(last) = stored.iter().map(|row| row.sequence).max() {
            self.inner.live.published(tenant_id, last).await;
        }
    }

    async fn sqlite_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.inner.db.get_database_backend() {
            DbBackend::Sqlite => Some(self.inner.sqlite_writer.lock().await),
            _ => None,
        }
    }
}

/// What a group transaction came to.
enum Together {
    /// One outcome per job, in order.
    Committed(Vec<Appended>),
    /// Nothing was written; each job is committed alone next.
    RolledBack,
    /// The outcome is unknown to the server; every job gets this error.
    CommitFailed(ApiError),
}

/// A committed group's answer to one of its jobs.
fn answer_of(outcome: Appended) -> ApiResult<Vec<audit_events::Model>> {
    match outcome {
        Appended::Stored(rows) => Ok(rows),
        Appended::OverQuota(refusal) => Err(quota_exceeded(&refusal)),
    }
}

async fn rolled_back(txn: DatabaseTransaction) -> Together {
    // A failed rollback leaves nothing either: the connection is discarded.
    let _ = txn.rollback().await;
    Together::RolledBack
}

/// The next group: queued jobs in arrival order up to [`MAX_GROUP_EVENTS`]
/// events, and always at least one job.
fn take_group(queue: &mut Vec<Job>) -> Vec<Job> {
    let mut events = 0;
    let mut count = 0;
    for job in queue.iter() {
        if count > 0 && events + job.events.len() > MAX_GROUP_EVENTS {
            break;
        }
        events += job.events.len();
        count += 1;
    }
    queue.drain(..count).collect()
}

/// A retried idempotency key returns the original event; if that one has
/// expired meanwhile (not yet purged), it must not be shown again.
fn refuse_expired_replay(
    rows: &[audit_events::Model],
    retention: RetentionWindow,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let Some(cutoff) = retention.cutoff(now) else {
        return Ok(());
    };
    match rows.iter().position(|row| row.occurred_at < cutoff) {
        None => Ok(()),
        Some(index) => Err(ApiError::Conflict {
            message: format!(
                "events[{index}]: its idempotency key belongs to an event that has expired \
                 under this tenant's retention policy"
            ),
            index: Some(index),
        }),
    }
}

/// The error of a failed group COMMIT, for each request of the group.
fn same_error(error: &ApiError) -> ApiError {
    match error {
        ApiError::Unavailable(cause) => ApiError::Unavailable(anyhow::anyhow!("{cause:#}")),
        ApiError::Timeout(message) => ApiError::Timeout(message.clone()),
        other => ApiError::Internal(anyhow::anyhow!("{other:#}")),
    }
}

/// Removes a tenant's queue entry if its drainer ends unexpectedly (a panic);
/// a drainer that runs out of work removes it itself and disarms this.
struct QueueEntry<'a> {
    group_commit: &'a GroupCommit,
    tenant_id: Uuid,
    armed: bool,
}

impl Drop for QueueEntry<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.group_commit.lock_queues().remove(&self.tenant_id);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use tokio::time::Instant;
    use uuid::Uuid;

    use super::GroupCommit;
    use crate::live::{Hub, HubSettings};

    const MAX: Duration = Duration::from_millis(10);
    const TICK: Duration = Duration::from_millis(1);

    pub(crate) async fn group_commit() -> GroupCommit {
        let db = sea_orm::Database::connect("sqlite::memory:")
            .await
            .expect("an in-memory SQLite database");
        GroupCommit::new(db.clone(), Hub::new(db, HubSettings::default()))
    }

    /// Paused time (once connected: the pool's own timeouts need real time):
    /// `elapsed` is exactly what the code waited, not the machine's speed.
    #[tokio::test]
    async fn an_export_waits_only_while_events_are_being_committed() {
        let commit = group_commit().await;
        tokio::time::pause();
        let started = Instant::now();
        commit.yield_to_writes(MAX).await;
        assert_eq!(started.elapsed(), Duration::ZERO, "idle: no wait");

        // A tenant's drainer runs for longer than the bound: the wait ends at it.
        commit.lock_queues().insert(Uuid::nil(), Vec::new());
        let started = Instant::now();
        commit.yield_to_writes(MAX).await;
        // (tokio's timer rounds a deadline up to its next millisecond)
        let waited = started.elapsed();
        assert!(
            waited >= MAX && waited <= MAX + TICK,
            "busy: waits up to the bound, {waited:?}"
        );

        // The drainer runs out of work after 3 ms: the wait ends then, not
        // at the bound.
        let ending = commit.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(3)).await;
            ending.remove_idle(&mut ending.lock_queues(), Uuid::nil());
        });
        let started = Instant::now();
        commit.yield_to_writes(MAX).await;
        let waited = started.elapsed();
        let ended = Duration::from_millis(3);
        assert!(
            waited >= ended && waited <= ended + TICK,
            "woken when idle, {waited:?}"
        );
    }
}
