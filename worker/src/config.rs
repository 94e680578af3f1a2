//! The settings of the background jobs, shared by `auditlog-worker` and the
//! `auditlog` service (which flattens them into its own command line and runs
//! the same jobs in-process): the operator's retention policy and how the
//! purge runs. Each default is written once, as a constant the flag reads.

use clap::Args;

use entity::domain::RetentionRules;

const TEAM_RETENTION_DAYS: i64 = 7;
const ENTERPRISE_RETENTION_DAYS: i64 = 90;
const RETENTION_MIN_DAYS: i64 = 1;
const RETENTION_MAX_DAYS: i64 = 3650;
const PURGE_SCHEDULE: &str = "0 */15 * * * *";
const PURGE_BATCH_SIZE: u64 = 1000;
const PURGE_LEASE_SECS: u64 = 60;

/// The operator's retention policy; the service and every `auditlog-worker`
/// must be started with the same values.
#[derive(Clone, Debug, Args)]
pub struct RetentionConfig {
    /// Days TEAM tenants keep their events (fixed for them).
    #[arg(long, env = "AUDITLOG_TEAM_RETENTION_DAYS", default_value_t = TEAM_RETENTION_DAYS)]
    pub team_retention_days: i64,
    /// Days ENTERPRISE tenants keep their events unless their admins choose otherwise.
    #[arg(long, env = "AUDITLOG_ENTERPRISE_RETENTION_DAYS", default_value_t = ENTERPRISE_RETENTION_DAYS)]
    pub enterprise_retention_days: i64,
    /// Shortest period ENTERPRISE admins may choose.
    #[arg(long, env = "AUDITLOG_RETENTION_MIN_DAYS", default_value_t = RETENTION_MIN_DAYS)]
    pub retention_min_days: i64,
    /// Longest period ENTERPRISE admins may choose.
    #[arg(long, env = "AUDITLOG_RETENTION_MAX_DAYS", default_value_t = RETENTION_MAX_DAYS)]
    pub retention_max_days: i64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            team_retention_days: TEAM_RETENTION_DAYS,
            enterprise_retention_days: ENTERPRISE_RETENTION_DAYS,
            retention_min_days: RETENTION_MIN_DAYS,
            retention_max_days: RETENTION_MAX_DAYS,
        }
    }
}

impl RetentionConfig {
    /// The validated policy; an error names the inconsistent setting.
    pub fn rules(&self) -> anyhow::Result<RetentionRules> {
        RetentionRules::new(
            self.team_retention_days,
            self.enterprise_retention_days,
            self.retention_min_days,
            self.retention_max_days,
        )
        .map_err(|reason| anyhow::anyhow!("invalid retention configuration: {reason}"))
    }
}

/// How the retention purge runs (in the service or in `auditlog-worker`).
#[derive(Clone, Debug, Args)]
pub struct PurgeConfig {
    /// When purge passes start: a cron expression with seconds
    /// (`sec min hour day-of-month month day-of-week`, UTC).
    #[arg(long, env = "AUDITLOG_PURGE_SCHEDULE", default_value = PURGE_SCHEDULE)]
    pub purge_schedule: String,
    /// Events deleted per batch; each batch is its own short transaction.
    #[arg(long, env = "AUDITLOG_PURGE_BATCH_SIZE", default_value_t = PURGE_BATCH_SIZE,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub purge_batch_size: u64,
    /// Seconds a worker's lease on a tenant lasts without renewal (renewed every
    /// batch); a crashed worker's tenants are taken over after this long.
    #[arg(long, env = "AUDITLOG_PURGE_LEASE_SECS", default_value_t = PURGE_LEASE_SECS,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub purge_lease_secs: u64,
}

impl Default for PurgeConfig {
    fn default() -> Self {
        Self {
            purge_schedule: PURGE_SCHEDULE.into(),
            purge_batch_size: PURGE_BATCH_SIZE,
            purge_lease_secs: PURGE_LEASE_SECS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_retention_config_is_the_default_policy() {
        assert_eq!(
            RetentionConfig::default().rules().ok(),
            Some(RetentionRules::default())
        );
        let inverted = RetentionConfig {
            retention_min_days: 10,
            retention_max_days: 5,
            ..RetentionConfig::default()
        };
        assert!(inverted.rules().is_err());
    }
}
