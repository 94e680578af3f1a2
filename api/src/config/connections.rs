//! Settings of the HTTP connection hygiene (docs/security.md: "Connections"): how long a
//! client may take to send a request head, how long an idle keep-alive
//! connection is kept, and how many connections are served at once, in total
//! and per client address. `http::serve` enforces them. `0` turns each off.

use std::time::Duration;

use clap::Args;

#[derive(Clone, Debug, Args)]
pub struct ConnectionsConfig {
    /// Seconds a client has to send a complete request head (request line and
    /// headers), counted from the accept or from the end of the previous
    /// response; the connection is closed after (slowloris). `0` is off.
    #[arg(long, env = "AUDITLOG_HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    pub header_read_timeout_secs: u64,

    /// Seconds a keep-alive connection may sit idle after its last response
    /// before it is closed. The header-read clock also runs while a connection
    /// is idle, so the shorter of the two applies. `0` is off.
    #[arg(long, env = "AUDITLOG_KEEP_ALIVE_TIMEOUT_SECS", default_value_t = 5)]
    pub keep_alive_timeout_secs: u64,

    /// Connections served at once (WebSockets included); a connection over the
    /// cap is closed at once, without a response. `0` is unlimited.
    #[arg(long, env = "AUDITLOG_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,

    /// Connections one client address may hold at once (IPv6: per /64); peers
    /// in `AUDITLOG_TRUSTED_PROXIES` are exempt (they carry many clients).
    /// `0` is unlimited.
    #[arg(long, env = "AUDITLOG_MAX_CONNECTIONS_PER_IP", default_value_t = 256)]
    pub max_connections_per_ip: usize,
}

impl Default for ConnectionsConfig {
    /// The flags' declared defaults (each written once, in its attribute).
    fn default() -> Self {
        auditlog_worker::config::defaults()
    }
}

impl ConnectionsConfig {
    pub fn header_read_timeout(&self) -> Option<Duration> {
        (self.header_read_timeout_secs > 0)
            .then(|| Duration::from_secs(self.header_read_timeout_secs))
    }

    pub fn keep_alive_timeout(&self) -> Option<Duration> {
        (self.keep_alive_timeout_secs > 0)
            .then(|| Duration::from_secs(self.keep_alive_timeout_secs))
    }
}
