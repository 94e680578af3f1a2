//! The export's response body: a stream that reads a batch only when hyper
//! asks for more (so a slow client slows the reading and a gone one stops it),
//! and an [`ExportRun`] inside it that holds the tenant's export slot and
//! makes sure `audit_log.export` is recorded however the body ends.
//!
//! A complete export is recorded before its manifest is sent: a client that
//! has the manifest can already see the record. A database error ends the
//! body with an error (hyper then aborts the response: no final chunk, no
//! manifest), so a truncated export never looks complete.

use std::pin::pin;

use axum::body::Bytes;
use entity::audit_events;
use futures::{Stream, StreamExt};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::encode::{Encoder, Manifest, TreeHead};
use crate::auth::TenantCaller;
use crate::error::{ApiError, ApiResult};
use crate::limits::ExportSlot;
use crate::live::Hub;
use crate::service::export::{self, ExportReport};
use crate::service::integrity;
use crate::store::tree::InclusionProof;

/// Why a body ended early, for hyper (which aborts the response); the cause
/// is logged and recorded, never sent.
#[derive(Debug, thiserror::Error)]
#[error("the export was aborted")]
pub(super) struct ExportAborted;

/// One running export: its slot and what it has written so far.
pub(super) struct ExportRun {
    /// Freed when the run is dropped, i.e. when the body ends or is dropped.
    _slot: ExportSlot,
    db: DatabaseConnection,
    live: Hub,
    caller: TenantCaller,
    report: ExportReport,
    /// `audit_log.export` is committed; dropping records nothing more.
    recorded: bool,
}

impl ExportRun {
    pub(super) fn new(
        slot: ExportSlot,
        db: DatabaseConnection,
        live: Hub,
        caller: TenantCaller,
        report: ExportReport,
    ) -> Self {
        Self {
            _slot: slot,
            db,
            live,
            caller,
            report,
            recorded: false,
        }
    }

    fn wrote(&mut self, bytes: &Bytes, events: u64) {
        self.report.bytes += bytes.len() as u64;
        self.report.count += events;
    }

    fn failed(&mut self, error: &ApiError) {
        tracing::error!(error = ?error, tenant_id = %self.caller.tenant_id, "an export failed");
        self.report.failure = Some(format!("the export failed ({})", error.code()));
    }

    /// Records the complete export now.
    async fn finish(&mut self) -> ApiResult<()> {
        let result = export::record(&self.db, &self.live, &self.caller, &self.report).await;
        match &result {
            Ok(()) => self.recorded = true,
            Err(error) => {
                tracing::error!(error = ?error, "recording a complete export failed; aborting it");
                self.report.failure = Some("its audit record could not be written".into());
            }
        }
        result
    }
}

impl Drop for ExportRun {
    /// An export that did not record its end (a client that disconnected, a
    /// failure) is recorded as `FAILURE` by a task of its own: `Drop` cannot
    /// wait, and the record must not be lost.
    fn drop(&mut self) {
        if self.recorded {
            return;
        }
        let mut report = self.report.clone();
        report
            .failure
            .get_or_insert_with(|| "the client disconnected before the end".into());
        let (db, live, caller) = (self.db.clone(), self.live.clone(), self.caller.clone());
        let record = async move {
            if let Err(error) = export::record(&db, &live, &caller, &report).await {
                tracing::error!(
                    error = ?error,
                    tenant_id = %caller.tenant_id,
                    count = report.count,
                    "recording an unfinished export (audit_log.export) failed"
                );
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(record)),
            Err(_) => tracing::error!(
                tenant_id = %self.caller.tenant_id,
                "an unfinished export could not be recorded: no runtime"
            ),
        }
    }
}

/// Where `proofs=true` gets each event's inclusion proof: the tree of the
/// manifest's head, on the primary (where heads are signed).
pub(super) struct ProofSource {
    pub db: DatabaseConnection,
    pub tenant_id: Uuid,
    pub tree_size: u64,
}

impl ProofSource {
    /// One per row; `None` for an event that predates the tree.
    async fn proofs(&self, rows: &[audit_events::Model]) -> ApiResult<Vec<Option<InclusionProof>>> {
        let sequences: Vec<i64> = rows.iter().map(|row| row.sequence).collect();
        integrity::inclusion_proofs(&self.db, self.tenant_id, &sequences, self.tree_size).await
    }
}

/// The body of `run`: `encoder`'s start, each batch, then the manifest.
pub(super) fn stream(
    mut run: ExportRun,
    batches: impl Stream<Item = ApiResult<Vec<audit_events::Model>>> + Send + 'static,
    mut encoder: Encoder,
    tree_head: Option<TreeHead>,
    proofs: Option<ProofSource>,
) -> impl Stream<Item = Result<Bytes, ExportAborted>> + Send + 'static {
    async_stream::stream! {
        let mut batches = pin!(batches);
        let start = match encoder.start() {
            Ok(start) => start,
            Err(error) => {
                run.failed(&error);
                yield Err(ExportAborted);
                return;
            }
        };
        run.wrote(&start, 0);
        if !start.is_empty() {
            yield Ok(start);
        }
        let mut last_sequence = None;
        while let Some(batch) = batches.next().await {
            let batch = match (batch, &proofs) {
                (Ok(rows), Some(source)) => source.proofs(&rows).await.map(|proofs| (rows, Some(proofs))),
                (batch, _) => batch.map(|rows| (rows, None)),
            };
            match batch.and_then(|(rows, proofs)| encoder.batch(rows, proofs)) {
                Ok(chunk) => {
                    run.wrote(&chunk.bytes, chunk.events);
                    last_sequence = chunk.last_sequence.or(last_sequence);
                    yield Ok(chunk.bytes);
                }
                Err(error) => {
                    run.failed(&error);
                    yield Err(ExportAborted);
                    return;
                }
            }
        }
        let manifest = Manifest {
            complete: true,
            format: run.report.format,
            count: run.report.count,
            after_sequence: run.report.snapshot.after,
            until_sequence: run.report.snapshot.until,
            filter: &run.report.filter,
            last_sequence,
            tenant_id: run.caller.tenant_id.to_string(),
            tree_head: tree_head.as_ref(),
        };
        let manifest = match encoder.manifest(&manifest) {
            Ok(manifest) => manifest,
            Err(error) => {
                run.failed(&error);
                yield Err(ExportAborted);
                return;
            }
        };
        run.wrote(&manifest, 0);
        if run.finish().await.is_err() {
            yield Err(ExportAborted);
            return;
        }
        yield Ok(manifest);
    }
}
