//! [`RequestLimits`]: the request-rate limits (per client IP before
//! authentication, per credential after it), the request timeout and the
//! WebSocket caps, as the HTTP layer applies them.

use std::net::IpAddr;
use std::time::Duration;

use super::{
    CredentialKey, ExportSlots, KeyedLimiter, Rejection, Scope, WsBuffers, WsConnections,
    export_slots, ws_connections,
};
use crate::auth::Principal;
use crate::config::LimitsConfig;
use crate::domain::Role;

#[derive(Clone)]
pub struct RequestLimits {
    per_ip: KeyedLimiter<IpAddr>,
    per_credential: KeyedLimiter<CredentialKey>,
    /// PUBLISHER credentials' own, higher rate (`AUDITLOG_RATE_LIMIT_PER_PUBLISHER`).
    per_publisher: KeyedLimiter<CredentialKey>,
    /// Whole-request timeout of HTTP requests (`None`: none).
    pub request_timeout: Option<Duration>,
    /// Operations one WebSocket connection may run at once (`0`: unlimited).
    pub ws_max_subscriptions: usize,
    /// Open WebSocket connections per credential.
    pub ws_connections: WsConnections,
    /// Largest WebSocket message after `connection_init` (and the socket's ceiling).
    pub ws_max_message_bytes: usize,
    /// Largest WebSocket message before `connection_init`.
    pub ws_max_init_message_bytes: usize,
    /// Memory WebSocket connections may hold for slow readers.
    pub ws_buffers: WsBuffers,
    /// Exports running at once per tenant.
    pub exports: ExportSlots,
}

impl RequestLimits {
    /// Must run inside the Tokio runtime (the limiters sweep idle keys).
    pub fn new(config: &LimitsConfig) -> Self {
        Self {
            per_ip: KeyedLimiter::new(
                config
                    .rate_limit_per_ip
                    .quota(config.rate_limit_per_ip_burst),
            ),
            per_credential: KeyedLimiter::new(
                config
                    .rate_limit_per_credential
                    .quota(config.rate_limit_per_credential_burst),
            ),
            per_publisher: KeyedLimiter::new(
                config
                    .rate_limit_per_publisher
                    .quota(config.rate_limit_per_publisher_burst),
            ),
            request_timeout: (config.request_timeout_secs > 0)
                .then(|| Duration::from_secs(config.request_timeout_secs)),
            ws_max_subscriptions: config.ws_max_subscriptions,
            ws_connections: ws_connections(config.ws_max_connections_per_credential),
            ws_max_message_bytes: usize::try_from(config.ws_max_message_bytes)
                .unwrap_or(usize::MAX),
            ws_max_init_message_bytes: usize::try_from(
                config
                    .ws_max_init_message_bytes
                    .min(config.ws_max_message_bytes),
            )
            .unwrap_or(usize::MAX),
            ws_buffers: WsBuffers::new(
                config.ws_max_buffered_bytes,
                config.ws_max_buffered_bytes_total,
                (config.ws_stall_secs > 0).then(|| Duration::from_secs(config.ws_stall_secs)),
            ),
            exports: export_slots(config.export_max_concurrent_per_tenant),
        }
    }

    /// One request from `client`; IPv6 clients are counted per /64, the block
    /// one subscriber usually holds.
    pub fn check_ip(&self, client: IpAddr) -> Result<(), Rejection> {
        self.per_ip
            .check(&client_bucket(client))
            .map_err(|wait| Rejection::new(Scope::Ip, wait))
    }

    /// One request (or WebSocket operation) of `principal`; callers without a
    /// credential pass (the per-IP limit has counted them).
    pub fn check_credential(&self, principal: &Principal) -> Result<(), Rejection> {
        let Some(key) = CredentialKey::of(principal) else {
            return Ok(());
        };
        let publisher =
            matches!(principal, Principal::Tenant(caller) if caller.role == Role::Publisher);
        let limiter = if publisher {
            &self.per_publisher
        } else {
            &self.per_credential
        };
        limiter
            .check(&key)
            .map_err(|wait| Rejection::new(Scope::Credential, wait))
    }
}

/// The unit per-IP limits count: an IPv4 address (IPv4-mapped IPv6 included),
/// or an IPv6 /64, the block one subscriber usually holds.
pub fn client_bucket(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::from(segments)
            }
        },
        v4 @ IpAddr::V4(_) => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::RequestLimits;
    use crate::config::LimitsConfig;
    use crate::limits::Rate;

    #[tokio::test]
    async fn counts_an_ipv6_client_per_64_block() {
        let limits = RequestLimits::new(&LimitsConfig {
            rate_limit_per_ip: Rate::per_minute(1),
            rate_limit_per_ip_burst: 1,
            ..LimitsConfig::default()
        });
        assert!(limits.check_ip("2001:db8:1:2::1".parse().unwrap()).is_ok());
        assert!(
            limits
                .check_ip("2001:db8:1:2::ffff".parse().unwrap())
                .is_err()
        );
        assert!(limits.check_ip("2001:db8:1:3::1".parse().unwrap()).is_ok());
        assert!(limits.check_ip("192.0.2.1".parse().unwrap()).is_ok());
        assert!(
            limits
                .check_ip("::ffff:192.0.2.1".parse().unwrap())
                .is_err()
        );
    }
}
