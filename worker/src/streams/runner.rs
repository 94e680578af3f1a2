//! [`StreamRunner`]: the loop that finds due streams and delivers them,
//! each in its own task, at most `AUDITLOG_STREAM_CONCURRENCY` at once. A
//! stream in flight in this process is not claimed twice; across processes
//! the lease decides. Stopping lets every claim in flight finish its batch.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use entity::domain::clock;
use entity::store::events;
use entity::store::log_streams::delivery;
use entity::store::read_scope;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::deliver::{ClaimEnd, Deliverer};
use super::metrics;

/// Runs the delivery loop until stopped.
pub struct StreamRunner {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl StreamRunner {
    /// Starts looking every `poll` for due streams.
    pub fn start(deliverer: Deliverer, poll: Duration, concurrency: usize) -> Self {
        let stop = CancellationToken::new();
        let task = tokio::spawn(run(deliverer, poll, concurrency.max(1), stop.clone()));
        Self { stop, task }
    }

    /// Stops looking, and waits for the claims in flight.
    pub async fn stop(self) {
        self.stop.cancel();
        if let Err(error) = self.task.await {
            tracing::error!(error = %error, "the stream runner ended abnormally");
        }
    }
}

async fn run(deliverer: Deliverer, poll: Duration, concurrency: usize, stop: CancellationToken) {
    let permits = Arc::new(Semaphore::new(concurrency));
    let in_flight: Arc<Mutex<HashSet<Uuid>>> = Arc::new(Mutex::new(HashSet::new()));
    let mut tasks = JoinSet::new();
    // A claim that ended busy asks for the next look at once.
    let again = Arc::new(tokio::sync::Notify::new());
    loop {
        let limit = u64::try_from(concurrency * 2).unwrap_or(u64::MAX);
        match delivery::due(&deliverer.db, clock::now(), limit).await {
            Ok(due) => {
                for (tenant_id, stream_id) in due {
                    let newly = lock(&in_flight).insert(stream_id);
                    if !newly {
                        continue;
                    }
                    let Ok(permit) = permits.clone().try_acquire_owned() else {
                        lock(&in_flight).remove(&stream_id);
                        break;
                    };
                    let (deliverer, in_flight, again) =
                        (deliverer.clone(), in_flight.clone(), again.clone());
                    tasks.spawn(async move {
                        let end = deliverer.deliver(tenant_id, stream_id).await;
                        match end {
                            Ok(ClaimEnd::Busy) => again.notify_one(),
                            Ok(_) => {}
                            Err(error) => tracing::error!(
                                tenant_id = %tenant_id, stream_id = %stream_id, error = %error,
                                "log stream delivery failed"
                            ),
                        }
                        report_lag(&deliverer, tenant_id, stream_id).await;
                        lock(&in_flight).remove(&stream_id);
                        drop(permit);
                    });
                }
            }
            Err(error) => tracing::warn!(error = %error, "cannot list due log streams"),
        }
        while tasks.try_join_next().is_some() {}
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(poll) => {}
            () = again.notified() => {}
        }
    }
    while tasks.join_next().await.is_some() {}
}

/// Sets the stream's lag gauges (a failure only leaves them stale).
async fn report_lag(deliverer: &Deliverer, tenant_id: Uuid, stream_id: Uuid) {
    let lag = async {
        let scope = read_scope::begin_read(&deliverer.db, tenant_id).await?;
        let Some(row) =
            entity::store::log_streams::settings::find(&scope, tenant_id, stream_id).await?
        else {
            scope.commit().await?;
            return Ok::<_, super::StreamError>(None);
        };
        let committed = events::committed_sequence(&scope, tenant_id).await?;
        let oldest =
            events::after_sequence(&scope, tenant_id, row.delivered_through, None, None, 1).await?;
        scope.commit().await?;
        let seconds = oldest.first().map_or(0.0, |event| {
            (clock::now() - event.received_at).as_seconds_f64().max(0.0)
        });
        Ok(Some(((committed - row.delivered_through).max(0), seconds)))
    };
    if let Ok(Some((events, seconds))) = lag.await {
        metrics::lag(stream_id, events, seconds);
    }
}

fn lock(set: &Mutex<HashSet<Uuid>>) -> std::sync::MutexGuard<'_, HashSet<Uuid>> {
    set.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
