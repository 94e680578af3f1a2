//! Rate limits, the per-tenant ingest quota, the WebSocket caps and buffer
//! budgets ([`WsBuffers`]): the
//! bookkeeping, independent of HTTP and GraphQL (which turn a [`Rejection`]
//! into a 429, a `RATE_LIMITED`/`QUOTA_EXCEEDED` error or a close frame).
//!
//! The rate limits and caps live in this process (`governor`'s GCRA, no
//! database): with N replicas each enforces its own limits, so the effective
//! limit is up to N times the configured one. The ingest quota, a plan limit,
//! is the exception: it is counted on the tenant's row in the database, by the
//! ingest transaction, and holds across replicas ([`IngestQuota`]). Every
//! rejection is counted in `auditlog_rate_limit_rejections_total{scope}`.

mod credential;
mod exports;
mod ingest_quota;
mod keyed;
mod open_slots;
mod rate;
mod requests;
mod ws_buffer;
mod ws_connections;

use std::time::Duration;

pub use credential::CredentialKey;
pub use exports::{ExportSlot, ExportSlots, export_slots};
pub use ingest_quota::IngestQuota;
pub(crate) use ingest_quota::exceeded as quota_exceeded;
pub use keyed::KeyedLimiter;
pub use open_slots::{OpenSlots, SlotGuard};
pub use rate::Rate;
pub use requests::{RequestLimits, client_bucket};
pub use ws_buffer::{Charge, ConnectionBuffer, REPLAY_BATCH_MAX_BYTES, ReplaySlot, WsBuffers};
pub use ws_connections::{WsConnectionGuard, WsConnections, ws_connections};

/// What was limited; the `scope` label of the rejection counter (a closed set,
/// so the series count is bounded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Requests per client IP address (before authentication).
    Ip,
    /// Requests per credential (API key, person, operator).
    Credential,
    /// Events per minute per tenant.
    IngestQuota,
    /// Open WebSocket connections per credential.
    WsConnections,
    /// Operations per WebSocket connection.
    WsSubscriptions,
    /// Exports running at once per tenant.
    Exports,
}

impl Scope {
    pub fn label(self) -> &'static str {
        match self {
            Self::Ip => "ip",
            Self::Credential => "credential",
            Self::IngestQuota => "ingest_quota",
            Self::WsConnections => "ws_connections",
            Self::WsSubscriptions => "ws_subscriptions",
            Self::Exports => "exports",
        }
    }

    /// Counts one rejection in `auditlog_rate_limit_rejections_total`.
    pub fn count_rejection(self) {
        metrics::counter!("auditlog_rate_limit_rejections_total", "scope" => self.label())
            .increment(1);
    }
}

/// A request refused by a rate limit: retry after `retry_after_secs` seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub scope: Scope,
    /// Whole seconds, at least 1 (the `Retry-After` header's unit).
    pub retry_after_secs: u64,
}

impl Rejection {
    /// Counts the rejection and rounds `wait` up to whole seconds (at least 1).
    pub fn new(scope: Scope, wait: Duration) -> Self {
        scope.count_rejection();
        Self {
            scope,
            retry_after_secs: whole_seconds(wait),
        }
    }
}

/// `wait` rounded up to whole seconds, at least 1.
pub fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::whole_seconds;
    use std::time::Duration;

    #[test]
    fn retry_after_rounds_up_to_at_least_one_second() {
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::from_millis(10)), 1);
        assert_eq!(whole_seconds(Duration::from_secs(2)), 2);
        assert_eq!(whole_seconds(Duration::from_millis(2001)), 3);
    }
}
