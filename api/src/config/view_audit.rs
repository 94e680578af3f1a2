//! Settings of audited reads (docs/configuration.md, "Audited reads"): how often
//! a reader's look at the log is recorded as `audit_log.view`, and whether
//! machine credentials' reads are (`service::view_audit` does the recording).

use std::time::Duration;

use clap::Args;

#[derive(Clone, Debug, Args)]
pub struct ViewAuditConfig {
    /// Seconds during which further reads by the same person (browser session,
    /// identity-provider token, viewer token) are not recorded again as
    /// `audit_log.view` after one was; 0 records every read. Holds across
    /// replicas sharing the database.
    #[arg(long, env = "AUDITLOG_VIEW_AUDIT_INTERVAL_SECS", default_value_t = 3600,
          value_parser = clap::value_parser!(u64).range(0..=2_678_400))]
    pub view_audit_interval_secs: u64,

    /// Record reads by API keys and platform keys too (per key and tenant,
    /// with the same window). Off by default: machine reads are usually
    /// integrations polling the log.
    #[arg(long, env = "AUDITLOG_AUDIT_API_KEY_READS", default_value_t = false, action = clap::ArgAction::Set)]
    pub audit_api_key_reads: bool,
}

impl Default for ViewAuditConfig {
    /// The flags' declared defaults (each written once, in its attribute).
    fn default() -> Self {
        auditlog_worker::config::defaults()
    }
}

impl ViewAuditConfig {
    /// The window one recorded view covers (zero: none, every read is recorded).
    pub fn interval(&self) -> Duration {
        Duration::from_secs(self.view_audit_interval_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::ViewAuditConfig;

    #[test]
    fn people_are_recorded_hourly_and_keys_not_at_all_by_default() {
        let config = ViewAuditConfig::default();
        assert_eq!(config.interval(), std::time::Duration::from_secs(3600));
        assert!(!config.audit_api_key_reads);
    }
}
