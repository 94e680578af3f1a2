//! Where Prometheus metrics are served (docs/operations.md: "Metrics"). By default on a
//! listener of their own on loopback, never on the public port: the series
//! describe every tenant's traffic. The public port serves `/metrics` only when
//! a bearer token is configured, and only to requests that present it.

use std::net::SocketAddr;

use clap::Args;

use super::Secret;

#[derive(Clone, Debug, Args)]
pub struct MetricsConfig {
    /// Address of the metrics listener (`GET /metrics` only), or `off`.
    /// Loopback by default; in a cluster use the pod address and keep the port
    /// out of the Service/Ingress.
    #[arg(
        long,
        env = "AUDITLOG_METRICS_LISTEN",
        default_value = "127.0.0.1:9464",
        value_parser = parse_listen
    )]
    pub metrics_listen: MetricsListen,

    /// Bearer token that unlocks `GET /metrics` on the main port (compared in
    /// constant time; at least 32 characters in production). Unset: the main
    /// port has no `/metrics`.
    #[arg(long, env = "AUDITLOG_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<Secret>,
}

/// `AUDITLOG_METRICS_LISTEN`: a socket address, or `off` for no listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricsListen {
    Off,
    At(SocketAddr),
}

fn parse_listen(value: &str) -> Result<MetricsListen, String> {
    if value.trim().eq_ignore_ascii_case("off") {
        return Ok(MetricsListen::Off);
    }
    value
        .trim()
        .parse()
        .map(MetricsListen::At)
        .map_err(|_| format!("{value:?} is neither `off` nor an address such as 127.0.0.1:9464"))
}

impl Default for MetricsConfig {
    /// The flags' declared defaults (each written once, in its attribute).
    fn default() -> Self {
        auditlog_worker::config::defaults()
    }
}

impl MetricsConfig {
    /// The token, if one is set and not empty.
    pub fn token(&self) -> Option<&str> {
        self.metrics_token
            .as_deref()
            .filter(|token| !token.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::{MetricsListen, parse_listen};

    #[test]
    fn parses_an_address_or_off() {
        assert_eq!(parse_listen("off"), Ok(MetricsListen::Off));
        assert_eq!(
            parse_listen("0.0.0.0:9464"),
            Ok(MetricsListen::At(([0, 0, 0, 0], 9464).into()))
        );
        assert!(parse_listen("localhost").is_err());
    }
}
