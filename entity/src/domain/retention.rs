//! Retention: how long a tenant's events are kept, and which ones are expired.
//!
//! - [`RetentionDays`] is a validated number of days (1 to [`ABSOLUTE_MAX_DAYS`]).
//! - [`RetentionRules`] is the operator's policy: the TEAM period (fixed for the
//!   tenant), the ENTERPRISE default, and the range ENTERPRISE admins may choose.
//! - [`RetentionWindow`] is one tenant's policy in force; it yields the *cutoff*:
//!   events whose `occurred_at` lies before it are expired, unless the tenant is
//!   on legal hold, in which case nothing expires.
//!
//! Pure values: no I/O, no clock (callers pass `now`).

use chrono::{DateTime, Duration, Utc};

use super::Plan;

/// The longest period anyone may configure (100 years): far beyond any legal
/// requirement, and far from overflowing date arithmetic.
pub const ABSOLUTE_MAX_DAYS: u32 = 36_500;

/// A retention period in whole days, at least 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RetentionDays(u32);

impl RetentionDays {
    /// Accepts 1 to [`ABSOLUTE_MAX_DAYS`].
    pub fn new(days: i64) -> Result<Self, String> {
        match u32::try_from(days) {
            Ok(days) if (1..=ABSOLUTE_MAX_DAYS).contains(&days) => Ok(Self(days)),
            _ => Err(format!(
                "a retention period must be 1 to {ABSOLUTE_MAX_DAYS} days, got {days}"
            )),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }

    /// For GraphQL `Int` and the `retention_days` column (always fits: ≤ 36,500).
    pub fn as_i32(self) -> i32 {
        i32::try_from(self.0).unwrap_or(i32::MAX)
    }

    pub fn duration(self) -> Duration {
        Duration::days(i64::from(self.0))
    }
}

/// Why a tenant's retention period cannot be set to the requested value.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RetentionChangeError {
    /// The plan does not let tenants choose (TEAM).
    #[error(
        "the {plan} plan fixes retention at {days} days; only ENTERPRISE tenants can change it"
    )]
    FixedByPlan { plan: &'static str, days: u32 },
    #[error("days must be between {min} and {max}, got {got}")]
    OutOfRange { min: u32, max: u32, got: i64 },
}

/// The operator's retention policy (see docs/configuration.md, "Retention and the purge").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionRules {
    /// The TEAM plan's period; TEAM tenants cannot change it.
    pub team: RetentionDays,
    /// What an ENTERPRISE tenant starts with (and returns to on a plan change).
    pub enterprise_default: RetentionDays,
    /// The range ENTERPRISE admins may choose from.
    pub min: RetentionDays,
    pub max: RetentionDays,
}

impl Default for RetentionRules {
    fn default() -> Self {
        Self {
            team: RetentionDays(7),
            enterprise_default: RetentionDays(90),
            min: RetentionDays(1),
            max: RetentionDays(3650),
        }
    }
}

impl RetentionRules {
    /// Validates the operator's numbers: each a valid period, `min <= max`, and
    /// the ENTERPRISE default inside `[min, max]`.
    pub fn new(team: i64, enterprise_default: i64, min: i64, max: i64) -> Result<Self, String> {
        let rules = Self {
            team: RetentionDays::new(team).map_err(|e| format!("TEAM retention: {e}"))?,
            enterprise_default: RetentionDays::new(enterprise_default)
                .map_err(|e| format!("ENTERPRISE retention: {e}"))?,
            min: RetentionDays::new(min).map_err(|e| format!("minimum retention: {e}"))?,
            max: RetentionDays::new(max).map_err(|e| format!("maximum retention: {e}"))?,
        };
        if rules.min > rules.max {
            return Err(format!(
                "the minimum retention ({} days) is above the maximum ({} days)",
                rules.min.0, rules.max.0
            ));
        }
        if !(rules.min..=rules.max).contains(&rules.enterprise_default) {
            return Err(format!(
                "the ENTERPRISE default retention ({} days) is outside {}..={} days",
                rules.enterprise_default.0, rules.min.0, rules.max.0
            ));
        }
        Ok(rules)
    }

    /// The period a tenant on `plan` starts with.
    pub fn plan_default(&self, plan: Plan) -> RetentionDays {
        match plan {
            Plan::Team => self.team,
            Plan::Enterprise => self.enterprise_default,
        }
    }

    /// The range a tenant on `plan` may choose from (a single value on TEAM).
    pub fn bounds(&self, plan: Plan) -> (RetentionDays, RetentionDays) {
        match plan {
            Plan::Team => (self.team, self.team),
            Plan::Enterprise => (self.min, self.max),
        }
    }

    /// The period in force for a tenant on `plan` whose stored period is
    /// `stored`: TEAM always has the configured TEAM period; ENTERPRISE has its
    /// own, brought inside the current bounds (the operator may narrow them).
    pub fn effective_days(&self, plan: Plan, stored: i32) -> RetentionDays {
        match plan {
            Plan::Team => self.team,
            Plan::Enterprise => {
                let stored = u32::try_from(stored).unwrap_or(0);
                RetentionDays(stored.clamp(self.min.0, self.max.0))
            }
        }
    }

    /// Whether a tenant on `plan` may change its own retention (and so put
    /// itself on legal hold, which suspends retention): not on TEAM.
    pub fn may_change(&self, plan: Plan) -> bool {
        plan != Plan::Team
    }

    /// Parses a period requested by a tenant on `plan`.
    pub fn parse_requested(
        &self,
        plan: Plan,
        requested: i64,
    ) -> Result<RetentionDays, RetentionChangeError> {
        if !self.may_change(plan) {
            return Err(RetentionChangeError::FixedByPlan {
                plan: "TEAM",
                days: self.team.0,
            });
        }
        let (min, max) = self.bounds(plan);
        match u32::try_from(requested) {
            Ok(days) if (min.0..=max.0).contains(&days) => Ok(RetentionDays(days)),
            _ => Err(RetentionChangeError::OutOfRange {
                min: min.0,
                max: max.0,
                got: requested,
            }),
        }
    }
}

/// One tenant's retention in force: its period, and whether it is on legal hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionWindow {
    pub days: RetentionDays,
    /// While set nothing expires: events stay stored and visible.
    pub legal_hold: bool,
}

impl RetentionWindow {
    /// Events that occurred strictly before the returned instant are expired;
    /// `None` while on legal hold (nothing is).
    pub fn cutoff(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (!self.legal_hold).then(|| now - self.days.duration())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_accept_1_to_the_absolute_maximum() {
        assert_eq!(RetentionDays::new(1).map(RetentionDays::get), Ok(1));
        assert_eq!(
            RetentionDays::new(36_500).map(RetentionDays::get),
            Ok(36_500)
        );
        for bad in [0, -1, 36_501, i64::MAX, i64::MIN] {
            assert!(RetentionDays::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rules_validate_their_bounds() {
        assert_eq!(
            RetentionRules::new(7, 90, 1, 3650),
            Ok(RetentionRules::default())
        );
        assert!(RetentionRules::new(7, 90, 100, 10).is_err());
        assert!(RetentionRules::new(7, 5000, 1, 3650).is_err());
        assert!(RetentionRules::new(0, 90, 1, 3650).is_err());
    }

    #[test]
    fn team_is_fixed_and_enterprise_is_bounded() {
        let rules = RetentionRules::default();
        assert_eq!(
            rules.parse_requested(Plan::Team, 30),
            Err(RetentionChangeError::FixedByPlan {
                plan: "TEAM",
                days: 7
            })
        );
        assert_eq!(
            rules
                .parse_requested(Plan::Enterprise, 2190)
                .map(RetentionDays::get),
            Ok(2190)
        );
        for bad in [0, -5, 3651] {
            let error = rules.parse_requested(Plan::Enterprise, bad).unwrap_err();
            assert!(error.to_string().contains("between 1 and 3650"), "{error}");
        }
    }

    #[test]
    fn effective_days_follow_the_plan_and_bounds() {
        let rules = RetentionRules::default();
        assert_eq!(rules.effective_days(Plan::Team, 400).get(), 7);
        assert_eq!(rules.effective_days(Plan::Enterprise, 400).get(), 400);
        assert_eq!(rules.effective_days(Plan::Enterprise, 9999).get(), 3650);
        assert_eq!(rules.effective_days(Plan::Enterprise, -3).get(), 1);
        assert_eq!(rules.plan_default(Plan::Enterprise).get(), 90);
    }

    #[test]
    fn legal_hold_has_no_cutoff() {
        let now = Utc::now();
        let days = RetentionDays::new(7).unwrap();
        let open = RetentionWindow {
            days,
            legal_hold: false,
        };
        assert_eq!(open.cutoff(now), Some(now - Duration::days(7)));
        let held = RetentionWindow {
            days,
            legal_hold: true,
        };
        assert_eq!(held.cutoff(now), None);
    }
}
