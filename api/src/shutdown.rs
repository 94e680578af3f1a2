//! The shutdown grace period (`AUDITLOG_SHUTDOWN_GRACE_SECS`): after SIGTERM or
//! Ctrl-C the server stops accepting connections and in-flight requests (and
//! the batches they write) finish; if they have not finished when the grace
//! period ends, the process stops waiting and exits with an error (exit
//! code 1) naming the grace period, so an orchestrator's log shows the cut. A
//! request cut this way never returned success, so its client retries it (with
//! its idempotency keys) elsewhere.

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// Runs the server until it has drained after the shutdown signal, or until the
/// grace period after the signal has passed (an error). `deadline` receives the
/// end of the grace period when the signal arrives; returns that deadline.
pub(crate) async fn serve_within_grace<F>(
    serve: F,
    deadline: &mut oneshot::Receiver<Instant>,
    grace: Duration,
) -> anyhow::Result<Instant>
where
    F: Future<Output = std::io::Result<()>>,
{
    let mut serve = std::pin::pin!(serve);
    let grace_ends = tokio::select! {
        result = &mut serve => {
            result.context("HTTP server failed")?;
            // Drained before this task saw the deadline: it was sent, or the
            // server stopped for another reason; either way grace starts now.
            return Ok(deadline.try_recv().unwrap_or_else(|_| Instant::now() + grace));
        }
        Ok(at) = &mut *deadline => at,
    };
    match tokio::time::timeout_at(grace_ends, serve).await {
        Ok(result) => {
            result.context("HTTP server failed")?;
            Ok(grace_ends)
        }
        Err(_) => {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "shutdown grace period elapsed with requests in flight; exiting anyway"
            );
            anyhow::bail!(
                "shutdown grace period of {} s elapsed with requests in flight",
                grace.as_secs()
            )
        }
    }
}
