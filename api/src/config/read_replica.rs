//! Settings of the optional read replica (docs/configuration.md, "Database"):
//! a PostgreSQL hot standby that serves the tenant reads that may be a little
//! stale (`crate::replica` decides which, and when the standby is bypassed).

use std::time::Duration;

use clap::Args;

use super::DatabaseUrl;

#[derive(Clone, Debug, Args)]
pub struct ReadReplicaConfig {
    /// A PostgreSQL hot standby of `DATABASE_URL` (streaming replication) for
    /// event lists, search and facets. Unset: every read goes to the primary.
    #[arg(long, env = "AUDITLOG_READ_DATABASE_URL", hide_env_values = true)]
    pub read_database_url: Option<DatabaseUrl>,

    /// Milliseconds the standby may be behind the primary; beyond that (and
    /// while it is down) reads go to the primary.
    #[arg(long, env = "AUDITLOG_READ_MAX_LAG_MS", default_value_t = 5000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub read_max_lag_ms: u64,
}

impl Default for ReadReplicaConfig {
    /// The flags' declared defaults (each written once, in its attribute).
    fn default() -> Self {
        auditlog_worker::config::defaults()
    }
}

impl ReadReplicaConfig {
    /// The standby's URL when one is set (an empty value counts as unset).
    pub fn url(&self) -> Option<&str> {
        self.read_database_url
            .as_deref()
            .filter(|url| !url.trim().is_empty())
    }

    pub fn max_lag(&self) -> Duration {
        Duration::from_millis(self.read_max_lag_ms)
    }
}
