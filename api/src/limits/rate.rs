//! [`Rate`]: a request rate as operators write it (`50`, `50/s`, `600/min`,
//! `1000/h`; `0` is off), and its conversion into a `governor` quota.

use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

use governor::Quota;

/// `count` cells per `period`; `count == 0` turns the limit off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub period: Duration,
}

impl Rate {
    pub const fn per_second(count: u32) -> Self {
        Self {
            count,
            period: Duration::from_secs(1),
        }
    }

    pub const fn per_minute(count: u32) -> Self {
        Self {
            count,
            period: Duration::from_secs(60),
        }
    }

    /// The `governor` quota: one cell back every `period / count`, at most
    /// `burst` at once (`0`: `count`). `None` when the rate is off.
    pub fn quota(self, burst: u32) -> Option<Quota> {
        let count = NonZeroU32::new(self.count)?;
        let burst = NonZeroU32::new(burst).unwrap_or(count);
        Quota::with_period(self.period / count.get()).map(|quota| quota.allow_burst(burst))
    }
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (count, unit) = text.split_once('/').unwrap_or((text, "s"));
        let count: u32 = count.trim().parse().map_err(|_| {
            format!("{text:?} is not a rate: expected `<count>[/s|/min|/h]`, e.g. `50/s`")
        })?;
        let period = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            other => return Err(format!("{other:?} is not a rate unit: use s, min or h")),
        };
        Ok(Self { count, period })
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.period.as_secs() {
            60 => "min",
            3600 => "h",
            _ => "s",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::Rate;
    use std::time::Duration;

    #[test]
    fn parses_counts_with_and_without_units() {
        assert_eq!("50".parse(), Ok(Rate::per_second(50)));
        assert_eq!("50/s".parse(), Ok(Rate::per_second(50)));
        assert_eq!(" 1/min ".parse(), Ok(Rate::per_minute(1)));
        assert_eq!(
            "1000/h".parse::<Rate>().map(|rate| rate.period),
            Ok(Duration::from_secs(3600))
        );
        assert!("fast".parse::<Rate>().is_err());
        assert!("5/day".parse::<Rate>().is_err());
        assert!("-1".parse::<Rate>().is_err());
    }

    #[test]
    fn zero_is_off_and_burst_defaults_to_the_count() {
        assert_eq!(Rate::per_second(0).quota(10), None);
        let quota = Rate::per_minute(6).quota(0).unwrap();
        assert_eq!(quota.burst_size().get(), 6);
        assert_eq!(quota.replenish_interval(), Duration::from_secs(10));
        assert_eq!(
            Rate::per_second(50).quota(100).unwrap().burst_size().get(),
            100
        );
    }
}
