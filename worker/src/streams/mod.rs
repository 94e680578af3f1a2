//! Log streams (issue 20): every tenant's events delivered, in sequence
//! order and provably complete, to its webhooks (Standard Webhooks) and
//! Splunk HTTP Event Collectors.
//!
//! - [`runner`]: [`StreamRunner`] looks for due streams every
//!   `AUDITLOG_STREAM_POLL_MS` and delivers up to `AUDITLOG_STREAM_CONCURRENCY`
//!   of them at once, each under its lease, so a failing or slow receiver
//!   delays no other stream or tenant;
//! - [`deliver`]: one stream's batches (pending batch, send, record, retry
//!   state), and the synthetic delivery of `testLogStream` ([`test`]);
//! - [`batch`]: the bodies; [`webhook`]: the signatures; [`secrets`]: the
//!   destination secrets at rest; [`http`] and [`targets`]: the outbound
//!   client and the addresses it may reach; [`schedule`]: the retries;
//!   [`metrics`]: the series.
//!
//! The contract a receiver relies on is docs/streams.md.

pub mod batch;
pub mod deliver;
pub mod http;
pub mod metrics;
pub mod runner;
pub mod schedule;
pub mod secrets;
pub mod targets;
pub mod test;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use entity::domain::RetentionRules;
use sea_orm::DatabaseConnection;

pub use deliver::{ClaimEnd, ClaimReport, Deliverer};
pub use runner::StreamRunner;
pub use schedule::RetrySchedule;
pub use secrets::{LazySecrets, SecretBox, SecretError, new_webhook_secret};

use crate::config::StreamConfig;
use crate::purge::Published;
use crate::tree_heads::TreeHeadSigner;

/// Why delivering failed (the attempt's own failures are not errors: they
/// are recorded on the stream).
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error(transparent)]
    Store(#[from] entity::store::StoreError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("{0}")]
    Invalid(String),
}

impl From<sea_orm::DbErr> for StreamError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Store(entity::store::StoreError::Database(error))
    }
}

impl StreamConfig {
    /// The outbound rules these settings give.
    pub fn target_rules(&self) -> http::TargetRules {
        http::TargetRules {
            allow_private: self.stream_allow_private_targets,
            allow_plain_http: self.allow_plain_http,
        }
    }

    /// The validated settings; an error names the setting.
    pub fn retry_schedule(&self) -> anyhow::Result<RetrySchedule> {
        RetrySchedule::parse(&self.stream_retry_schedule)
            .map_err(|reason| anyhow::anyhow!("AUDITLOG_STREAM_RETRY_SCHEDULE: {reason}"))
    }

    /// A deliverer on `db` for the process `holder`.
    pub async fn deliverer(
        &self,
        db: DatabaseConnection,
        heads: TreeHeadSigner,
        live: Arc<dyn Published>,
        holder: String,
        retention: RetentionRules,
    ) -> anyhow::Result<Deliverer> {
        let timeout = Duration::from_millis(self.stream_timeout_ms);
        let lease = Duration::from_secs(self.stream_lease_secs);
        if lease <= timeout {
            anyhow::bail!(
                "AUDITLOG_STREAM_LEASE_SECS ({}) must exceed AUDITLOG_STREAM_TIMEOUT_MS ({} ms)",
                self.stream_lease_secs,
                self.stream_timeout_ms
            );
        }
        let secrets = secrets::LazySecrets::new(db.clone(), self.stream_secrets_key.clone())
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        Ok(Deliverer {
            sender: http::Sender::new(self.target_rules(), timeout).map_err(anyhow::Error::msg)?,
            secrets,
            heads,
            schedule: self.retry_schedule()?,
            live,
            holder,
            lease,
            retention,
            head_cache: deliver::HeadCache::default(),
            host: batch::host_name(),
            db,
        })
    }
}
