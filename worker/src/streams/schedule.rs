//! The retry schedule: the delay before each attempt of one batch, the
//! Standard Webhooks schedule by default (immediately, 5 s, 5 min, 30 min,
//! 2 h, 5 h, 10 h, 14 h, 20 h, 24 h), with ±10 % jitter so that streams
//! failing together do not retry together. A receiver's `Retry-After` only
//! ever lengthens a delay (capped at a day).

use std::time::Duration;

use rand::Rng;

/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySchedule {
    /// `delays[k]`: the wait before attempt `k + 1` (the first is 0).
    delays: Vec<Duration>,
}

impl RetrySchedule {
    /// Parses `0s,5s,5m,…` (`ms`, `s`, `m`, `h`); an error names the entry.
    pub fn parse(text: &str) -> Result<Self, String> {
        let delays = text
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(parse_duration)
            .collect::<Result<Vec<_>, _>>()?;
        if delays.is_empty() {
            return Err("the retry schedule needs at least one attempt".into());
        }
        Ok(Self { delays })
    }

    /// Attempts a batch gets before its stream is DISABLED.
    pub fn attempts(&self) -> usize {
        self.delays.len()
    }

    /// The wait after `failures` failed attempts (`None`: none left), with
    /// jitter, at least `retry_after`.
    pub fn next_delay(&self, failures: usize, retry_after: Option<Duration>) -> Option<Duration> {
        let base = *self.delays.get(failures)?;
        let jitter = if base.is_zero() {
            1.0
        } else {
            rand::rng().random_range(0.9..=1.1)
        };
        let delay = base.mul_f64(jitter);
        Some(retry_after.map_or(delay, |asked| delay.max(asked.min(MAX_RETRY_AFTER))))
    }
}

fn parse_duration(entry: &str) -> Result<Duration, String> {
    let split = entry
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("retry delay {entry:?} needs a unit (ms, s, m, h)"))?;
    let (number, unit) = entry.split_at(split);
    let value: u64 = number
        .parse()
        .map_err(|_| format!("retry delay {entry:?} is not a number with a unit"))?;
    let millis = match unit {
        "ms" => Some(value),
        "s" => value.checked_mul(1_000),
        "m" => value.checked_mul(60_000),
        "h" => value.checked_mul(3_600_000),
        _ => return Err(format!("retry delay {entry:?}: unknown unit {unit:?}")),
    };
    millis
        .map(Duration::from_millis)
        .ok_or_else(|| format!("retry delay {entry:?} is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_is_standard_webhooks() {
        let schedule = RetrySchedule::parse("0s,5s,5m,30m,2h,5h,10h,14h,20h,24h").unwrap();
        assert_eq!(schedule.attempts(), 10);
        assert_eq!(schedule.next_delay(0, None), Some(Duration::ZERO));
        let second = schedule.next_delay(1, None).unwrap();
        assert!(second >= Duration::from_millis(4_500) && second <= Duration::from_millis(5_500));
        assert!(schedule.next_delay(10, None).is_none());
    }

    #[test]
    fn retry_after_lengthens_and_is_capped() {
        let schedule = RetrySchedule::parse("0s,100ms").unwrap();
        let asked = Duration::from_secs(3);
        assert_eq!(schedule.next_delay(1, Some(asked)), Some(asked));
        let huge = Duration::from_secs(10 * 24 * 3600);
        assert_eq!(schedule.next_delay(0, Some(huge)), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn bad_schedules_are_refused() {
        assert!(RetrySchedule::parse("").is_err());
        assert!(RetrySchedule::parse("5").is_err());
        assert!(RetrySchedule::parse("5d").is_err());
        assert!(RetrySchedule::parse("x5s").is_err());
    }
}
