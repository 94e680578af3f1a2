//! The ingest quota's window: events per minute per tenant, counted on the
//! tenant's counter row (`tenants.ingest_window_*`), so every replica of the
//! service enforces the same quota.
//!
//! A sliding-window approximation over two fixed windows aligned to the
//! minute: the events of the current minute count in full, those of the
//! previous minute by the share of it still inside the last 60 seconds (as if
//! they had been spread evenly over it). A batch is accepted when that
//! estimate plus the batch's new events stays within the plan's limit, so a
//! tenant may send its whole minute at once, but not twice across a minute
//! boundary (the fixed window's double burst).
//!
//! The clock is the service's (`received_at` of the transaction): the window
//! state is read under the row lock, so replicas never race, and a replica whose
//! clock lags behind the stored window counts into that window instead of
//! moving it back.
//!
//! Only new events count: idempotent replays are resolved before the check
//! and cost nothing; a refused batch writes nothing and takes nothing.

use std::num::NonZeroU32;
use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

const MINUTE: TimeDelta = TimeDelta::minutes(1);

/// The window as stored on the tenant's row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct IngestWindow {
    /// Start of the current minute; `None`: nothing counted yet.
    pub(super) start: Option<DateTime<Utc>>,
    /// Events counted in the current minute.
    pub(super) events: i64,
    /// Events counted in the minute before `start`.
    pub(super) previous_events: i64,
}

/// A batch the tenant's quota does not allow now; nothing of it was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotaRefusal {
    /// Events per minute of the tenant's plan.
    pub per_minute: u32,
    /// The batch holds more new events than a whole minute's quota (it never fits).
    pub batch_too_large: bool,
    /// When the window has room for the batch, if nothing else is recorded meanwhile.
    pub retry_after: Duration,
}

impl IngestWindow {
    /// The window as it stands at `now`: moved on to `now`'s minute (the
    /// current minute becoming the previous one), unless the stored window is
    /// already later (another replica's clock is ahead).
    pub(super) fn at(self, now: DateTime<Utc>) -> Self {
        let minute = now.duration_trunc(MINUTE).unwrap_or(now);
        match self.start {
            Some(start) if start >= minute => self,
            Some(start) if start + MINUTE == minute => Self {
                start: Some(minute),
                events: 0,
                previous_events: self.events,
            },
            _ => Self {
                start: Some(minute),
                events: 0,
                previous_events: 0,
            },
        }
    }

    /// Counts `fresh` new events at `now` (a window already moved there by
    /// [`IngestWindow::at`]), or refuses them all.
    pub(super) fn take(
        &mut self,
        fresh: usize,
        per_minute: Option<NonZeroU32>,
        now: DateTime<Utc>,
    ) -> Result<(), QuotaRefusal> {
        let fresh = i64::try_from(fresh).unwrap_or(i64::MAX);
        let Some(limit) = per_minute else {
            self.events = self.events.saturating_add(fresh);
            return Ok(());
        };
        if fresh == 0 {
            return Ok(());
        }
        let refusal = |batch_too_large, retry_after| QuotaRefusal {
            per_minute: limit.get(),
            batch_too_large,
            retry_after,
        };
        let limit = i64::from(limit.get());
        if fresh > limit {
            return Err(refusal(true, Duration::from_secs(60)));
        }
        let elapsed = self.elapsed(now);
        if self.estimate(elapsed) + fresh as f64 <= limit as f64 {
            self.events += fresh;
            return Ok(());
        }
        Err(refusal(false, self.wait_for(fresh, limit, elapsed)))
    }

    /// The share of the current minute gone by at `now`, in `0.0..1.0`.
    fn elapsed(&self, now: DateTime<Utc>) -> f64 {
        let Some(start) = self.start else {
            return 0.0;
        };
        let gone = (now - start).num_microseconds().unwrap_or(0).max(0) as f64;
        (gone / MINUTE.num_microseconds().unwrap_or(60_000_000) as f64).min(1.0)
    }

    /// Events counted in the last 60 seconds, estimated.
    fn estimate(&self, elapsed: f64) -> f64 {
        self.previous_events as f64 * (1.0 - elapsed) + self.events as f64
    }

    /// How long until `fresh` events (at most `limit`) fit, if nothing else
    /// is recorded meanwhile.
    fn wait_for(&self, fresh: i64, limit: i64, elapsed: f64) -> Duration {
        let minutes = if self.events + fresh <= limit {
            // In this minute, once enough of the previous one has slid out.
            let room = (limit - self.events - fresh) as f64;
            let needed = 1.0 - room / self.previous_events.max(1) as f64;
            needed - elapsed
        } else {
            // In the next minute, once enough of this one has slid out.
            let room = (limit - fresh) as f64;
            let needed = 1.0 - room / self.events.max(1) as f64;
            (1.0 - elapsed) + needed
        };
        Duration::from_secs_f64((minutes * 60.0).clamp(0.0, 120.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        // 1_800_000_000 is a whole minute.
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    const TEN: Option<NonZeroU32> = NonZeroU32::new(10);

    fn fresh_window(now: DateTime<Utc>) -> IngestWindow {
        IngestWindow {
            start: None,
            events: 0,
            previous_events: 0,
        }
        .at(now)
    }

    #[test]
    fn a_whole_minute_fits_at_once_and_then_nothing_more() {
        let mut window = fresh_window(at(5));
        assert_eq!(window.take(10, TEN, at(5)), Ok(()));
        let refused = window.take(5, TEN, at(5)).unwrap_err();
        assert!(!refused.batch_too_large);
        // Next minute (55 s away), once half of this one has slid out (30 s).
        assert_eq!(refused.retry_after.as_secs_f64().round(), 85.0);
        assert_eq!(window.events, 10);
    }

    #[test]
    fn a_batch_over_the_minute_never_fits() {
        let mut window = fresh_window(at(0));
        let refused = window.take(11, TEN, at(0)).unwrap_err();
        assert!(refused.batch_too_large);
        assert_eq!(window.events, 0);
    }

    #[test]
    fn the_previous_minute_slides_out() {
        let mut window = fresh_window(at(50));
        window.take(10, TEN, at(50)).unwrap();
        // 10 s into the next minute, 5/6 of the previous 10 still count.
        let mut next = window.at(at(70));
        assert_eq!(next.previous_events, 10);
        let refused = next.take(4, TEN, at(70)).unwrap_err();
        // Room for 4 once 4 of the 10 have slid out: 24 s into the minute.
        assert_eq!(refused.retry_after.as_secs_f64().round(), 14.0);
        assert_eq!(next.take(4, TEN, at(85)), Ok(()));
        // Two minutes on, nothing is left of it.
        let mut later = window.at(at(190));
        assert_eq!(later.previous_events, 0);
        assert_eq!(later.take(10, TEN, at(190)), Ok(()));
    }

    #[test]
    fn a_lagging_clock_counts_into_the_stored_window() {
        let mut window = fresh_window(at(65));
        window.take(6, TEN, at(65)).unwrap();
        let mut behind = window.at(at(58));
        assert_eq!(behind, window);
        assert!(behind.take(6, TEN, at(58)).is_err());
        assert_eq!(behind.take(4, TEN, at(58)), Ok(()));
    }

    #[test]
    fn unlimited_and_empty_batches_always_pass() {
        let mut window = fresh_window(at(0));
        window.take(10, TEN, at(0)).unwrap();
        assert_eq!(window.take(0, TEN, at(0)), Ok(()));
        assert_eq!(window.take(1000, None, at(0)), Ok(()));
        assert_eq!(window.events, 1010);
    }
}
