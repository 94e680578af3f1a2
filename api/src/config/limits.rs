//! Settings of the rate limits, ingest quotas, timeouts and WebSocket caps
//! (docs/security.md: "Limits"). Every limit has an off value
//! (`0`); defaults are meant for production behind one reverse proxy.

use clap::Args;
use ipnet::IpNet;

use crate::limits::Rate;

#[derive(Clone, Debug, Args)]
pub struct LimitsConfig {
    /// Requests per credential (API key, person, operator token), counted after
    /// authentication: `50` (per second), `50/s`, `600/min` or `1000/h`; `0` is off.
    #[arg(long, env = "AUDITLOG_RATE_LIMIT_PER_CREDENTIAL", default_value = "50")]
    pub rate_limit_per_credential: Rate,

    /// Requests one credential may send at once above its rate (`0`: the rate's count).
    #[arg(
        long,
        env = "AUDITLOG_RATE_LIMIT_PER_CREDENTIAL_BURST",
        default_value_t = 100
    )]
    pub rate_limit_per_credential_burst: u32,

    /// Requests per PUBLISHER credential (a PUBLISHER API key, or a platform
    /// PUBLISHER key per tenant), instead of the per-credential rate: an
    /// application server recording one event per request. The default is the
    /// ENTERPRISE ingest quota per second, so a publisher meets its plan's
    /// quota (`QUOTA_EXCEEDED`), never this limit, at one event per request.
    #[arg(
        long,
        env = "AUDITLOG_RATE_LIMIT_PER_PUBLISHER",
        default_value = "1000"
    )]
    pub rate_limit_per_publisher: Rate,

    /// Requests one PUBLISHER credential may send at once above its rate (`0`: the rate's count).
    #[arg(
        long,
        env = "AUDITLOG_RATE_LIMIT_PER_PUBLISHER_BURST",
        default_value_t = 2000
    )]
    pub rate_limit_per_publisher_burst: u32,

    /// Requests per client IP address (IPv6: per /64), counted before
    /// authentication, on `/graphql` and `/auth/*`; same syntax; `0` is off.
    #[arg(long, env = "AUDITLOG_RATE_LIMIT_PER_IP", default_value = "100")]
    pub rate_limit_per_ip: Rate,

    /// Requests one IP address may send at once above its rate (`0`: the rate's count).
    #[arg(long, env = "AUDITLOG_RATE_LIMIT_PER_IP_BURST", default_value_t = 200)]
    pub rate_limit_per_ip_burst: u32,

    /// Reverse proxies (IP addresses or CIDR ranges, comma-separated) whose
    /// `X-Forwarded-For` names the client; from any other peer the header is
    /// ignored. Unset: the socket's peer address is the client.
    #[arg(long, env = "AUDITLOG_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,

    /// Events per minute a TEAM tenant may record (`0`: unlimited).
    #[arg(long, env = "AUDITLOG_TEAM_INGEST_PER_MINUTE", default_value_t = 6_000)]
    pub team_ingest_per_minute: u32,

    /// Events per minute an ENTERPRISE tenant may record (`0`: unlimited).
    #[arg(
        long,
        env = "AUDITLOG_ENTERPRISE_INGEST_PER_MINUTE",
        default_value_t = 60_000
    )]
    pub enterprise_ingest_per_minute: u32,

    /// Seconds one HTTP request may take (`TIMEOUT` after; WebSocket streams
    /// are not bounded); `0` is off.
    #[arg(long, env = "AUDITLOG_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// PostgreSQL `statement_timeout` of the service's connections, in
    /// milliseconds (`TIMEOUT` after); `0` is off. Not used by migrations.
    #[arg(
        long,
        env = "AUDITLOG_DB_STATEMENT_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    pub db_statement_timeout_ms: u64,

    /// Operations one WebSocket connection may run at once (`0`: unlimited).
    #[arg(long, env = "AUDITLOG_WS_MAX_SUBSCRIPTIONS", default_value_t = 100)]
    pub ws_max_subscriptions: usize,

    /// WebSocket connections one credential may hold open (`0`: unlimited).
    #[arg(
        long,
        env = "AUDITLOG_WS_MAX_CONNECTIONS_PER_CREDENTIAL",
        default_value_t = 50
    )]
    pub ws_max_connections_per_credential: usize,

    /// Largest WebSocket message (and frame) accepted once a connection is
    /// initialised, in bytes; a larger one closes the connection with 1009
    /// before it is read whole. Also the ceiling the socket reads before
    /// `connection_init`. Must be at least 1 KiB (no off value).
    #[arg(long, env = "AUDITLOG_WS_MAX_MESSAGE_BYTES", default_value_t = 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1024..=64 * 1024 * 1024))]
    pub ws_max_message_bytes: u64,

    /// Largest message accepted before `connection_init` (unauthenticated), in
    /// bytes; a larger one closes with 1009 without being parsed. At most
    /// `AUDITLOG_WS_MAX_MESSAGE_BYTES`.
    #[arg(long, env = "AUDITLOG_WS_MAX_INIT_MESSAGE_BYTES", default_value_t = 64 * 1024,
          value_parser = clap::value_parser!(u64).range(256..=64 * 1024 * 1024))]
    pub ws_max_init_message_bytes: u64,

    /// Bytes of outgoing messages one WebSocket connection may hold queued for
    /// a client that reads slowly; its operations wait beyond that. Must be
    /// at least 64 KiB (no off value).
    #[arg(long, env = "AUDITLOG_WS_MAX_BUFFERED_BYTES", default_value_t = 4 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(64 * 1024..=1024 * 1024 * 1024))]
    pub ws_max_buffered_bytes: u64,

    /// Bytes all WebSocket connections of the process may hold at once in
    /// queued messages and replay batches (half each). Must be at least 1 MiB.
    #[arg(long, env = "AUDITLOG_WS_MAX_BUFFERED_BYTES_TOTAL", default_value_t = 256 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1024 * 1024..=64 * 1024 * 1024 * 1024))]
    pub ws_max_buffered_bytes_total: u64,

    /// Seconds a WebSocket may take to accept one message (a subscription's
    /// next message waiting for buffer space, or the socket write itself);
    /// after that the subscription ends with `SUBSCRIBER_LAGGED`, and a socket
    /// write that stalls closes the connection. `0` is off.
    #[arg(long, env = "AUDITLOG_WS_STALL_SECS", default_value_t = 30)]
    pub ws_stall_secs: u64,

    /// Exports (`/export.ndjson`, `/export.csv`) one tenant may run at once;
    /// one more gets 429 `EXPORT_IN_PROGRESS`. `0`: unlimited.
    #[arg(
        long,
        env = "AUDITLOG_EXPORT_MAX_CONCURRENT_PER_TENANT",
        default_value_t = 2
    )]
    pub export_max_concurrent_per_tenant: usize,
}

impl Default for LimitsConfig {
    /// The flags' declared defaults (each written once, in its attribute).
    fn default() -> Self {
        auditlog_worker::config::defaults()
    }
}

impl LimitsConfig {
    /// Every limit off: for tests that drive the service hard from one address.
    pub fn unlimited() -> Self {
        Self {
            rate_limit_per_credential: Rate::per_second(0),
            rate_limit_per_publisher: Rate::per_second(0),
            rate_limit_per_ip: Rate::per_second(0),
            team_ingest_per_minute: 0,
            enterprise_ingest_per_minute: 0,
            ws_max_subscriptions: 0,
            ws_max_connections_per_credential: 0,
            export_max_concurrent_per_tenant: 0,
            ..Self::default()
        }
    }

    /// `AUDITLOG_TRUSTED_PROXIES` parsed; an error names the bad entry.
    pub fn trusted_proxies(&self) -> anyhow::Result<Vec<IpNet>> {
        self.trusted_proxies
            .iter()
            .map(|entry| entry.trim())
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        anyhow::anyhow!(
                            "AUDITLOG_TRUSTED_PROXIES: {entry:?} is not an IP address or CIDR range"
                        )
                    })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::LimitsConfig;

    #[test]
    fn parses_trusted_proxies() {
        let config = LimitsConfig {
            trusted_proxies: vec!["10.0.0.0/8".into(), " 127.0.0.1".into(), String::new()],
            ..LimitsConfig::default()
        };
        let proxies = config.trusted_proxies().unwrap();
        assert_eq!(proxies.len(), 2);
        assert!(proxies[1].contains(&"127.0.0.1".parse::<std::net::IpAddr>().unwrap()));
        let bad = LimitsConfig {
            trusted_proxies: vec!["proxy.local".into()],
            ..LimitsConfig::default()
        };
        assert!(bad.trusted_proxies().is_err());
    }
}
