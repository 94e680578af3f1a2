//! [`StreamRunner`]: the loop that finds due streams and delivers them,
//! each in its own task, at most `AUDITLOG_STREAM_CONCURRENCY` at once.
//!
//! One look (`delivery::due`, one query) lists up to [`LOOK_AHEAD`] due
//! streams into a queue; as tasks finish, the next ones start from the
//! queue without another query, and a new look happens when the queue is
//! empty and the poll interval has passed, or at once when a claim ended
//! with more to send. A stream in flight in this process is not claimed
//! twice; across processes the lease decides. Stopping lets every claim in
//! flight finish its batch.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use entity::domain::clock;
use entity::store::log_streams::delivery;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::deliver::{ClaimEnd, Deliverer};
use super::metrics;

/// Due streams listed per look.
const LOOK_AHEAD: u64 = 1024;

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
    let mut queue: VecDeque<(Uuid, Uuid)> = VecDeque::new();
    let mut tasks = JoinSet::new();
    // A task ended (room for the next one); `busy`: it had more to send.
    let finished = Arc::new(Notify::new());
    let busy = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut next_look = Instant::now();
    loop {
        let look_now = queue.is_empty()
            && (Instant::now() >= next_look
                || busy.swap(false, std::sync::atomic::Ordering::Relaxed));
        if look_now {
            next_look = Instant::now() + poll;
            match delivery::due(&deliverer.db, clock::now(), LOOK_AHEAD).await {
                Ok(due) => {
                    let running = lock(&in_flight);
                    queue.extend(due.into_iter().filter(|(_, id)| !running.contains(id)));
                }
                Err(error) => tracing::warn!(error = %error, "cannot list due log streams"),
            }
        }
        while let Some(&(tenant_id, stream_id)) = queue.front() {
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                break;
            };
            queue.pop_front();
            if !lock(&in_flight).insert(stream_id) {
                continue;
            }
            let (deliverer, in_flight, finished, busy) = (
                deliverer.clone(),
                in_flight.clone(),
                finished.clone(),
                busy.clone(),
            );
            tasks.spawn(async move {
                match deliverer.deliver(tenant_id, stream_id).await {
                    Ok(report) => {
                        if report.end == ClaimEnd::Busy {
                            busy.store(true, std::sync::atomic::Ordering::Relaxed);
                        }
                        if report.end != ClaimEnd::NotClaimed {
                            metrics::lag(stream_id, report.lag_events, report.lag_seconds);
                        }
                    }
                    Err(error) => tracing::error!(
                        tenant_id = %tenant_id, stream_id = %stream_id, error = %error,
                        "log stream delivery failed"
                    ),
                }
                lock(&in_flight).remove(&stream_id);
                drop(permit);
                finished.notify_one();
            });
        }
        while tasks.try_join_next().is_some() {}
        let wait = next_look.saturating_duration_since(Instant::now());
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(wait), if queue.is_empty() => {}
            () = finished.notified() => {}
        }
    }
    while tasks.join_next().await.is_some() {}
}

fn lock(set: &Mutex<HashSet<Uuid>>) -> std::sync::MutexGuard<'_, HashSet<Uuid>> {
    set.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
