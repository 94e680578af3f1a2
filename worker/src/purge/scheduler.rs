//! [`PurgeScheduler`]: purge passes on a cron schedule, with tokio-cron-scheduler.
//!
//! Used by `auditlog-worker run` and, when `AUDITLOG_IN_PROCESS_PURGE` is on, by
//! the `auditlog` service. A tick that fires while the previous pass is still
//! running is skipped. [`PurgeScheduler::stop`] lets the batch in flight finish,
//! reports it, and returns once no pass is running.

use tokio_cron_scheduler::{Job, JobScheduler};

use super::Purger;

pub struct PurgeScheduler {
    /// `None` once shut down.
    scheduler: Option<JobScheduler>,
    purger: Purger,
}

impl PurgeScheduler {
    /// Starts running passes of `purger` on `schedule` (6-field cron with
    /// seconds, UTC, e.g. `0 */15 * * * *`). Fails on an invalid expression.
    pub async fn start(purger: Purger, schedule: &str) -> anyhow::Result<Self> {
        let job_purger = purger.clone();
        let job = Job::new_async(schedule, move |_id, _scheduler| {
            let purger = job_purger.clone();
            Box::pin(async move { scheduled_pass(&purger).await })
        })
        .map_err(|error| {
            anyhow::anyhow!(
                "invalid purge schedule {schedule:?} ({error}); expected a cron expression \
                 with seconds, e.g. \"0 */15 * * * *\""
            )
        })?;
        let scheduler = JobScheduler::new()
            .await
            .map_err(|error| anyhow::anyhow!("cannot create the purge scheduler: {error}"))?;
        scheduler
            .add(job)
            .await
            .map_err(|error| anyhow::anyhow!("cannot schedule the purge: {error}"))?;
        scheduler
            .start()
            .await
            .map_err(|error| anyhow::anyhow!("cannot start the purge scheduler: {error}"))?;
        tracing::info!(schedule, holder = %purger.settings().holder, "retention purge scheduled");
        Ok(Self {
            scheduler: Some(scheduler),
            purger,
        })
    }

    /// Stops scheduling, lets a running pass finish its batch in flight and
    /// report, and waits for it.
    pub async fn stop(mut self) {
        self.purger.stop();
        if let Some(mut scheduler) = self.scheduler.take()
            && let Err(error) = scheduler.shutdown().await
        {
            tracing::warn!(error = %error, "the purge scheduler did not shut down cleanly");
        }
        self.purger.wait_idle().await;
    }
}

impl Drop for PurgeScheduler {
    /// Dropped without [`PurgeScheduler::stop`] (e.g. its task was aborted):
    /// still stop the purger and the scheduler's ticking task.
    fn drop(&mut self) {
        self.purger.stop();
        if let Some(mut scheduler) = self.scheduler.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let _ = scheduler.shutdown().await;
            });
        }
    }
}

async fn scheduled_pass(purger: &Purger) {
    if purger.is_stopped() {
        return;
    }
    match purger.try_run_pass().await {
        None => tracing::info!("previous purge pass still running; skipping this tick"),
        Some(Ok(_report)) => {}
        Some(Err(error)) => {
            tracing::error!(error = ?error, "retention purge pass failed; the next tick retries");
        }
    }
}
