//! [`TreeHeadScheduler`]: signer passes on a cron schedule
//! (`AUDITLOG_TREE_HEAD_SCHEDULE`, default every minute), with
//! tokio-cron-scheduler, like the purge's. A tick that fires while a pass
//! is running is skipped.

use tokio_cron_scheduler::{Job, JobScheduler};

use super::TreeHeadSigner;

pub struct TreeHeadScheduler {
    /// `None` once shut down.
    scheduler: Option<JobScheduler>,
}

impl TreeHeadScheduler {
    /// Starts passes of `signer` on `schedule` (6-field cron with seconds,
    /// UTC). Fails on an invalid expression.
    pub async fn start(signer: TreeHeadSigner, schedule: &str) -> anyhow::Result<Self> {
        let job = Job::new_async(schedule, move |_id, _scheduler| {
            let signer = signer.clone();
            Box::pin(async move {
                match signer.try_run_pass().await {
                    None => tracing::info!("previous tree-head pass still running; skipping this tick"),
                    Some(Ok(_)) => {}
                    Some(Err(error)) => {
                        tracing::error!(error = %error, "tree-head pass failed; the next tick retries");
                    }
                }
            })
        })
        .map_err(|error| {
            anyhow::anyhow!(
                "invalid tree-head schedule {schedule:?} ({error}); expected a cron expression \
                 with seconds, e.g. \"0 * * * * *\""
            )
        })?;
        let scheduler = JobScheduler::new()
            .await
            .map_err(|error| anyhow::anyhow!("cannot create the tree-head scheduler: {error}"))?;
        scheduler
            .add(job)
            .await
            .map_err(|error| anyhow::anyhow!("cannot schedule tree-head signing: {error}"))?;
        scheduler
            .start()
            .await
            .map_err(|error| anyhow::anyhow!("cannot start the tree-head scheduler: {error}"))?;
        tracing::info!(schedule, "tree-head signing scheduled");
        Ok(Self {
            scheduler: Some(scheduler),
        })
    }

    /// Stops scheduling (a pass in flight finishes its tenant's transaction).
    pub async fn stop(mut self) {
        if let Some(mut scheduler) = self.scheduler.take()
            && let Err(error) = scheduler.shutdown().await
        {
            tracing::warn!(error = %error, "the tree-head scheduler did not shut down cleanly");
        }
    }
}

impl Drop for TreeHeadScheduler {
    fn drop(&mut self) {
        if let Some(mut scheduler) = self.scheduler.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let _ = scheduler.shutdown().await;
            });
        }
    }
}
