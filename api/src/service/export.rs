//! The export of a tenant's log (`/export.ndjson`, `/export.csv`): its
//! snapshot bound, its events in batches, and its own record,
//! `audit_log.export`.
//!
//! An export is a walk up the `(tenant_id, sequence)` index in short
//! read-only transactions of at most [`BATCH_ROWS`] rows, never one long one:
//! it holds no lock and no snapshot that could block ingestion or hold back
//! the purge, and a row the purge deletes meanwhile is either in a batch or
//! not, never half. Its upper bound is fixed when it starts, so what is
//! recorded later is not in it, and ascending sequences make it resumable.

use std::time::Duration;

use entity::audit_events;
use futures::Stream;
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};

use crate::auth::{ActorOfCaller, AuditActor, TenantCaller};
use crate::domain::{Outcome, clock};
use crate::error::ApiResult;
use crate::live::Hub;
use crate::replica::ReadPool;
use crate::service::group_commit::GroupCommit;
use crate::service::reads::TenantReads;
use crate::store;
use crate::store::admin_audit::{self, AdminAction};
use crate::store::events::EventFilter;

/// Most rows one batch reads (and holds in memory).
pub(crate) const BATCH_ROWS: u64 = 1000;

/// About the most bytes of rows one batch holds: 1000 events with 64 KiB
/// payloads would be 64 MiB, so large events make smaller batches.
const BATCH_BYTES: usize = 2 * 1024 * 1024;

/// Most sequence numbers one batch looks at. With a filter that selects few
/// events, a batch would otherwise walk the whole rest of the log in one
/// statement; so bounded, each transaction stays short whatever the filter.
const WINDOW: i64 = 10 * BATCH_ROWS as i64;

/// How long an export waits, before each batch, for the events being
/// recorded in this process to be committed (`GroupCommit::yield_to_writes`):
/// recording has priority, and under constant recording an export still reads
/// a batch every 10 ms at least.
const YIELD_TO_WRITES: Duration = Duration::from_millis(10);

/// The most events per second an export reads while events are being
/// recorded in this process (within [`RECORDING_RECENTLY`]): on a small
/// machine an export at full speed takes a core, and recording, which
/// clients wait on, comes first. Alone, an export runs as fast as it can.
pub(crate) const RATE_WHILE_RECORDING: f64 = 100_000.0;

/// How recent a request to record events must be for an export to pace itself.
const RECORDING_RECENTLY: Duration = Duration::from_secs(1);

/// Paces an export's batches to [`RATE_WHILE_RECORDING`] while events are
/// being recorded: the next batch may start once the previous ones' rows
/// took their share of time at that rate.
struct Pacer {
    next: Option<tokio::time::Instant>,
}

impl Pacer {
    /// Waits, if events are being recorded, until the next batch may start.
    async fn wait(&mut self, ingest: &GroupCommit) {
        match self.next {
            Some(next) if ingest.recording_within(RECORDING_RECENTLY) => {
                tokio::time::sleep_until(next).await;
            }
            _ => self.next = None,
        }
    }

    /// Counts a batch of `rows` just read.
    fn read(&mut self, rows: usize) {
        let share = Duration::from_secs_f64(rows as f64 / RATE_WHILE_RECORDING);
        let now = tokio::time::Instant::now();
        self.next = Some(self.next.map_or(now, |next| next.max(now)) + share);
    }
}

/// The events an export covers: `after < sequence <= until`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub after: i64,
    pub until: i64,
}

/// Fixes an export's bounds now: `until` is the requested bound, but never
/// beyond the tenant's last committed sequence at this moment (so events
/// recorded while the export runs are never in it).
pub(crate) async fn snapshot(
    reads: &ReadPool,
    caller: &TenantCaller,
    after: i64,
    until: Option<i64>,
) -> ApiResult<Snapshot> {
    let last = TenantReads::of(reads, caller).last_sequence().await?;
    let until = until.map_or(last, |until| until.min(last));
    Ok(Snapshot { after, until })
}

/// The events of `snapshot` matching `filter` (ANDed with the caller's scope,
/// within its retention as of now), in ascending sequence, one batch per item.
/// A batch is read only when the stream is polled: a consumer that waits
/// (a slow client) stops the reading, and dropping the stream stops it for good.
pub(crate) fn batches(
    reads: ReadPool,
    ingest: GroupCommit,
    caller: TenantCaller,
    filter: EventFilter,
    snapshot: Snapshot,
) -> impl Stream<Item = ApiResult<Vec<audit_events::Model>>> + Send + 'static {
    async_stream::try_stream! {
        let reads = TenantReads::of(&reads, &caller);
        let mut cursor = snapshot.after;
        let mut pacer = Pacer { next: None };
        while cursor < snapshot.until {
            pacer.wait(&ingest).await;
            ingest.yield_to_writes(YIELD_TO_WRITES).await;
            let up_to = snapshot.until.min(cursor.saturating_add(WINDOW));
            let batch = reads
                .export_batch(&filter, (cursor, up_to), BATCH_ROWS, BATCH_BYTES)
                .await?;
            pacer.read(batch.rows.len());
            // A batch cut at its row or byte limit may end before the window
            // does: go on after its last row. Otherwise the window is done.
            cursor = match batch.rows.last() {
                Some(last) if batch.cut => last.sequence,
                _ => up_to,
            };
            if !batch.rows.is_empty() {
                yield batch.rows;
            }
        }
    }
}

/// What an export did, for its `audit_log.export` event.
#[derive(Clone, Debug)]
pub(crate) struct ExportReport {
    /// `ndjson` or `csv`.
    pub format: &'static str,
    /// The `filter` parameter as the client sent it (JSON `null` if none).
    pub filter: Value,
    pub snapshot: Snapshot,
    /// Events written to the body.
    pub count: u64,
    /// Bytes written to the body, before any compression.
    pub bytes: u64,
    /// Why it did not finish (`None`: it did, its manifest was written).
    pub failure: Option<String>,
}

impl ExportReport {
    fn payload(&self) -> Value {
        let mut payload = json!({
            "format": self.format,
            "filter": self.filter,
            "afterSequence": self.snapshot.after,
            "untilSequence": self.snapshot.until,
            "count": self.count,
            "bytes": self.bytes,
            "complete": self.failure.is_none(),
        });
        if let Some(reason) = &self.failure {
            payload["reason"] = json!(reason);
        }
        payload
    }
}

/// Records `audit_log.export` in the caller's tenant: the caller as actor,
/// `SUCCESS` for a complete export, `FAILURE` (with the reason) otherwise.
pub(crate) async fn record(
    db: &DatabaseConnection,
    live: &Hub,
    caller: &TenantCaller,
    report: &ExportReport,
) -> ApiResult<()> {
    let now = clock::now();
    let outcome = match report.failure {
        None => Outcome::Success,
        Some(_) => Outcome::Failure,
    };
    let action = AdminAction {
        action: "audit_log.export",
        target_type: "audit_log",
        target_id: caller.tenant_id.to_string(),
        target_name: Some(caller.tenant_slug.clone()),
        payload: report.payload(),
    };
    let txn = store::tenant_scope::begin(db, caller.tenant_id).await?;
    let sequence = admin_audit::record_outcome(
        &txn,
        caller.tenant_id,
        &AuditActor::of_caller(caller),
        action,
        outcome,
        now,
    )
    .await?;
    txn.commit().await?;
    live.published(caller.tenant_id, sequence).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::time::Instant;

    use super::{Pacer, RATE_WHILE_RECORDING, RECORDING_RECENTLY};
    use crate::service::group_commit::tests::group_commit;

    /// Ten batches of 1,000 rows, as the export reads them; how long they took
    /// (paused time: exactly what the pacer waited).
    async fn ten_batches(
        pacer: &mut Pacer,
        ingest: &crate::service::group_commit::GroupCommit,
    ) -> Duration {
        let started = Instant::now();
        for _ in 0..10 {
            pacer.wait(ingest).await;
            pacer.read(1000);
        }
        started.elapsed()
    }

    #[tokio::test]
    async fn an_export_is_paced_only_while_events_are_being_recorded() {
        let ingest = group_commit().await;
        tokio::time::pause();
        let mut pacer = Pacer { next: None };
        assert_eq!(
            ten_batches(&mut pacer, &ingest).await,
            Duration::ZERO,
            "idle: full speed"
        );

        ingest.note_request();
        let took = ten_batches(&mut pacer, &ingest).await;
        // 1,000 rows at the rate are 10 ms each; each batch waits for its
        // predecessor's share (tokio's timer rounds each deadline up to its
        // next millisecond: about a tenth more).
        let share = Duration::from_secs_f64(1000.0 / RATE_WHILE_RECORDING);
        assert!(
            took >= share * 9 && took <= share * 12,
            "recording: paced, {took:?}"
        );

        // A second after the last request, the export is back to full speed.
        tokio::time::advance(RECORDING_RECENTLY + Duration::from_millis(1)).await;
        assert_eq!(
            ten_batches(&mut pacer, &ingest).await,
            Duration::ZERO,
            "idle again"
        );
    }
}
