//! [`LagClock`]: how stale a standby's reads may be, from WAL positions.
//!
//! Why not `now() - pg_last_xact_replay_timestamp()`: on an idle primary that
//! grows without bound although the standby has everything, and it says
//! nothing of a standby that stopped replaying (paused, or stuck) while the
//! primary moved on. Nor is `pg_last_wal_receive_lsn()` against
//! `pg_last_wal_replay_lsn()` enough: a standby cut off from the primary
//! receives nothing, so it looks caught up.
//!
//! So the clock compares with the primary itself. Each check first samples
//! the primary's WAL end `P` at instant `t` ([`LagClock::primary_at`]), then
//! reads the standby's replay position `R` ([`LagClock::lag`]). Once `R ≥ P`,
//! the standby holds every transaction the primary had committed at `t`, so
//! a read there misses at most what was committed after `t`: its staleness
//! is at most `now - t` for the newest such sample. That bound is what the
//! clock reports. It is exact to one check interval (a write between the two
//! reads of a check makes a healthy standby measure up to one interval), it is
//! zero on an idle primary, and it grows in real time while replay is paused
//! or the primary cannot be reached (no newer sample can be covered).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Samples kept while the standby is behind: over an hour at one a second.
/// Past it the oldest are dropped, which can only make the lag look larger.
const MAX_PENDING: usize = 4096;

#[derive(Debug, Default)]
pub(super) struct LagClock {
    /// When the primary was last seen at a position the standby has replayed
    /// since (`None`: not yet known, which counts as too far behind).
    caught_up_at: Option<Instant>,
    /// Primary samples the standby had not replayed yet, oldest first, their
    /// positions increasing.
    pending: VecDeque<(Instant, u64)>,
    /// The highest replay position seen: one lower means another standby
    /// behind the URL, whose lag the clock must learn anew.
    replayed: u64,
}

impl LagClock {
    /// The primary's WAL ended at `position` at `at`.
    pub(super) fn primary_at(&mut self, at: Instant, position: u64) {
        match self.pending.back_mut() {
            // An unchanged position: the newer instant bounds the lag tighter.
            Some(last) if last.1 >= position => last.0 = at,
            _ => self.pending.push_back((at, position)),
        }
        if self.pending.len() > MAX_PENDING {
            self.pending.pop_front();
        }
    }

    /// The standby has replayed up to `replayed`: the most its reads can miss,
    /// in time (`None`: unknown, so it must not serve reads).
    pub(super) fn lag(&mut self, replayed: u64, now: Instant) -> Option<Duration> {
        if replayed < self.replayed {
            self.caught_up_at = None;
        }
        self.replayed = replayed;
        while let Some(&(at, position)) = self.pending.front() {
            if position > replayed {
                break;
            }
            self.caught_up_at = Some(at);
            self.pending.pop_front();
        }
        self.caught_up_at
            .map(|at| now.saturating_duration_since(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(start: Instant, millis: u64) -> Instant {
        start + Duration::from_millis(millis)
    }

    #[test]
    fn an_idle_primary_means_no_lag() {
        let start = Instant::now();
        let mut clock = LagClock::default();
        for second in 0..10 {
            clock.primary_at(after(start, second * 1000), 500);
            let lag = clock.lag(500, after(start, second * 1000 + 3));
            assert_eq!(lag, Some(Duration::from_millis(3)));
        }
    }

    #[test]
    fn paused_replay_lags_in_real_time() {
        let start = Instant::now();
        let mut clock = LagClock::default();
        clock.primary_at(start, 100);
        assert_eq!(clock.lag(100, start), Some(Duration::ZERO));
        // The primary moves on; the standby stays at 100.
        for second in 1..=5 {
            clock.primary_at(after(start, second * 1000), 100 + second);
            let lag = clock.lag(100, after(start, second * 1000));
            assert_eq!(lag, Some(Duration::from_secs(second)));
        }
        // Replay resumes and reaches the third sample, then everything.
        assert_eq!(
            clock.lag(103, after(start, 5000)),
            Some(Duration::from_secs(2))
        );
        clock.primary_at(after(start, 6000), 105);
        assert_eq!(clock.lag(105, after(start, 6000)), Some(Duration::ZERO));
    }

    #[test]
    fn an_unreachable_primary_lets_the_lag_grow() {
        let start = Instant::now();
        let mut clock = LagClock::default();
        clock.primary_at(start, 7);
        assert_eq!(clock.lag(7, start), Some(Duration::ZERO));
        // No more primary samples: the bound keeps growing.
        assert_eq!(
            clock.lag(7, after(start, 4000)),
            Some(Duration::from_secs(4))
        );
    }

    #[test]
    fn unknown_until_a_sample_is_covered() {
        let start = Instant::now();
        let mut clock = LagClock::default();
        assert_eq!(clock.lag(0, start), None);
        clock.primary_at(start, 50);
        assert_eq!(clock.lag(40, start), None);
        assert_eq!(
            clock.lag(50, after(start, 10)),
            Some(Duration::from_millis(10))
        );
    }

    #[test]
    fn a_standby_further_behind_starts_over() {
        let start = Instant::now();
        let mut clock = LagClock::default();
        clock.primary_at(start, 900);
        assert_eq!(clock.lag(900, start), Some(Duration::ZERO));
        clock.primary_at(after(start, 1000), 950);
        // Another server behind the URL, far behind: not a small lag.
        assert_eq!(clock.lag(200, after(start, 1000)), None);
        assert_eq!(
            clock.lag(950, after(start, 2000)),
            Some(Duration::from_secs(1))
        );
    }

    #[test]
    fn samples_are_bounded() {
        let start = Instant::now();
        let mut clock = LagClock::default();
        for i in 0..(MAX_PENDING as u64 + 10) {
            clock.primary_at(after(start, i), i + 1);
        }
        assert_eq!(clock.pending.len(), MAX_PENDING);
    }
}
