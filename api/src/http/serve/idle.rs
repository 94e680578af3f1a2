//! The keep-alive idle timeout (`AUDITLOG_KEEP_ALIVE_TIMEOUT_SECS`): hyper has
//! none of its own, so each connection's service counts its requests in
//! flight and notes when the last one was answered; [`expired`] resolves once
//! the connection has been idle that long, and the connection is then shut
//! down gracefully (an idle HTTP/1 connection closes at once).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// What one connection's requests are doing.
#[derive(Default)]
pub(super) struct Activity {
    in_flight: AtomicUsize,
    /// When the last response was produced; `None` before the first (then
    /// the header-read timeout is what bounds the wait).
    last_answered: Mutex<Option<Instant>>,
}

impl Activity {
    /// Marks a request in flight until the returned guard is dropped.
    pub(super) fn start(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }

    /// When the connection becomes closable for idleness, if it is idle now.
    fn idle_deadline(&self, timeout: Duration) -> Option<Instant> {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let last = *self
            .last_answered
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        last.map(|at| at + timeout)
    }
}

/// A request in flight on a connection.
pub(super) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        *self
            .0
            .last_answered
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Resolves when `activity`'s connection has had no request in flight for
/// `timeout` since its last response; never with no timeout.
pub(super) async fn expired(activity: Arc<Activity>, timeout: Option<Duration>) {
    let Some(timeout) = timeout else {
        return std::future::pending().await;
    };
    loop {
        match activity.idle_deadline(timeout) {
            Some(deadline) if deadline <= Instant::now() => return,
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            // Busy, or no response yet: look again later.
            None => tokio::time::sleep(timeout).await,
        }
    }
}
