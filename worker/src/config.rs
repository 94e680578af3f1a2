//! The settings of the background jobs, shared by `auditlog-worker` and the
//! `auditlog` service (which flattens them into its own command line and runs
//! the same jobs in-process): the operator's retention policy and how the
//! purge runs. Each default is written once, in its flag's attribute:
//! [`defaults`] reads them back for `Default`.

use clap::{Args, FromArgMatches};

use entity::domain::RetentionRules;

/// A group of settings with every flag at its declared default (environment
/// variables ignored): the one source of `Default` for settings, so a default
/// is written once, in the flag's attribute.
pub fn defaults<T: Args + FromArgMatches>() -> T {
    let command =
        T::augment_args(clap::Command::new("defaults")).mut_args(|arg| arg.env(None::<&str>));
    command
        .try_get_matches_from(["defaults"])
        .and_then(|matches| T::from_arg_matches(&matches))
        // Defaults are constants of this code, not input: a bad one is a bug,
        // caught by the unit tests of every settings group.
        .unwrap_or_else(|error| panic!("a declared default does not parse: {error}"))
}

/// The operator's retention policy; the service and every `auditlog-worker`
/// must be started with the same values.
#[derive(Clone, Debug, Args)]
pub struct RetentionConfig {
    /// Days TEAM tenants keep their events (fixed for them).
    #[arg(long, env = "AUDITLOG_TEAM_RETENTION_DAYS", default_value_t = 7)]
    pub team_retention_days: i64,
    /// Days ENTERPRISE tenants keep their events unless their admins choose otherwise.
    #[arg(long, env = "AUDITLOG_ENTERPRISE_RETENTION_DAYS", default_value_t = 90)]
    pub enterprise_retention_days: i64,
    /// Shortest period ENTERPRISE admins may choose.
    #[arg(long, env = "AUDITLOG_RETENTION_MIN_DAYS", default_value_t = 1)]
    pub retention_min_days: i64,
    /// Longest period ENTERPRISE admins may choose.
    #[arg(long, env = "AUDITLOG_RETENTION_MAX_DAYS", default_value_t = 3650)]
    pub retention_max_days: i64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        defaults()
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
    #[arg(
        long,
        env = "AUDITLOG_PURGE_SCHEDULE",
        default_value = "0 */15 * * * *"
    )]
    pub purge_schedule: String,
    /// Events deleted per batch; each batch is its own short transaction.
    #[arg(long, env = "AUDITLOG_PURGE_BATCH_SIZE", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub purge_batch_size: u64,
    /// Seconds a worker's lease on a tenant lasts without renewal (renewed every
    /// batch); a crashed worker's tenants are taken over after this long.
    #[arg(long, env = "AUDITLOG_PURGE_LEASE_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub purge_lease_secs: u64,
}

impl Default for PurgeConfig {
    fn default() -> Self {
        defaults()
    }
}

/// How tree heads are signed (in the service or in `auditlog-worker`).
#[derive(Clone, Debug, Args)]
pub struct TreeHeadConfig {
    /// When signer passes start: a cron expression with seconds, UTC. Each
    /// pass signs a head for every tenant whose tree grew.
    #[arg(
        long,
        env = "AUDITLOG_TREE_HEAD_SCHEDULE",
        default_value = "0 * * * * *"
    )]
    pub tree_head_schedule: String,
    /// The Ed25519 key that signs tree heads, PKCS#8 PEM (`openssl genpkey
    /// -algorithm ed25519`). Unset: a key generated once and kept in the
    /// database. Changing it retires the old key, which stays published.
    #[arg(long, env = "AUDITLOG_SIGNING_KEY", hide_env_values = true)]
    pub signing_key: Option<crate::secret::Secret>,
}

impl Default for TreeHeadConfig {
    fn default() -> Self {
        defaults()
    }
}

impl TreeHeadConfig {
    /// The configured key, parsed; an error says what is wrong, never the value.
    pub fn configured_key(&self) -> anyhow::Result<Option<crate::ed25519::SigningKey>> {
        self.signing_key
            .as_ref()
            .map(|pem| {
                crate::ed25519::SigningKey::from_pkcs8_pem(pem)
                    .map_err(|error| anyhow::anyhow!("AUDITLOG_SIGNING_KEY: {error}"))
            })
            .transpose()
    }
}

/// How log streams are delivered (in the service or in `auditlog-worker`).
#[derive(Clone, Debug, Args)]
pub struct StreamConfig {
    /// The key that encrypts streams' destination secrets (webhook signing
    /// secrets, Splunk tokens) at rest: at least 32 characters (`openssl rand
    /// -hex 32`), the same in the service and every worker. Unset: a key
    /// generated once and kept in the database (the secrets are then only as
    /// safe as the database; production logs a warning).
    #[arg(long, env = "AUDITLOG_STREAM_SECRETS_KEY", hide_env_values = true)]
    pub stream_secrets_key: Option<crate::secret::Secret>,
    /// Deliver to loopback, private, link-local and other non-public
    /// addresses (and over plain `http://` to them). Off: such a target is
    /// refused after DNS resolution.
    #[arg(long, env = "AUDITLOG_STREAM_ALLOW_PRIVATE_TARGETS", default_value_t = false,
          action = clap::ArgAction::Set)]
    pub stream_allow_private_targets: bool,
    /// Milliseconds between looks for streams with something to deliver.
    #[arg(long, env = "AUDITLOG_STREAM_POLL_MS", default_value_t = 200,
          value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub stream_poll_ms: u64,
    /// Milliseconds a receiver has to answer a delivery.
    #[arg(long, env = "AUDITLOG_STREAM_TIMEOUT_MS", default_value_t = 15_000,
          value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub stream_timeout_ms: u64,
    /// Delays before each attempt of a batch, comma-separated (`ms`, `s`,
    /// `m`, `h` suffixes), the Standard Webhooks schedule by default: after
    /// the last one fails the stream is DISABLED. Each delay gets ±10 %
    /// jitter; a receiver's `Retry-After` can only lengthen it.
    #[arg(
        long,
        env = "AUDITLOG_STREAM_RETRY_SCHEDULE",
        default_value = "0s,5s,5m,30m,2h,5h,10h,14h,20h,24h"
    )]
    pub stream_retry_schedule: String,
    /// Seconds a worker's lease on a stream lasts without renewal; another
    /// worker takes a dead one's streams over after this long. Must exceed
    /// the timeout.
    #[arg(long, env = "AUDITLOG_STREAM_LEASE_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub stream_lease_secs: u64,
    /// Streams a process delivers to at once.
    #[arg(long, env = "AUDITLOG_STREAM_CONCURRENCY", default_value_t = 32,
          value_parser = clap::value_parser!(u64).range(1..=1_024))]
    pub stream_concurrency: u64,
    /// Plain `http://` to any target (the service sets this in development
    /// mode; never a flag).
    #[arg(skip)]
    pub allow_plain_http: bool,
}

impl Default for StreamConfig {
    fn default() -> Self {
        defaults()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_flags_defaults() {
        let purge = PurgeConfig::default();
        assert_eq!(purge.purge_schedule, "0 */15 * * * *");
        assert_eq!(purge.purge_batch_size, 1000);
        assert_eq!(RetentionConfig::default().team_retention_days, 7);
        let streams = StreamConfig::default();
        assert_eq!(streams.stream_timeout_ms, 15_000);
        assert!(!streams.stream_allow_private_targets);
    }

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
