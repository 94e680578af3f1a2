//! The client's IP address, for the per-IP rate limit: the socket's peer, or,
//! when that peer is a trusted reverse proxy (`AUDITLOG_TRUSTED_PROXIES`), the
//! nearest address in `X-Forwarded-For` that is not itself a trusted proxy.
//! From an untrusted peer the header is ignored (anyone can write it).

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

const FORWARDED_FOR: &str = "x-forwarded-for";

/// The client of a request; `None` when the server was started without
/// connection info (then the per-IP limit does not apply).
pub(super) fn client_ip(parts: &Parts, trusted_proxies: &[IpNet]) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip())?;
    Some(resolve(peer, &parts.headers, trusted_proxies))
}

fn resolve(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpNet]) -> IpAddr {
    let trusted = |ip: &IpAddr| trusted_proxies.iter().any(|net| net.contains(ip));
    if !trusted(&peer) {
        return peer;
    }
    // Proxies append the address they received from; read from the right and
    // stop at the first hop no trusted proxy vouches for.
    let mut client = peer;
    for value in headers.get_all(FORWARDED_FOR).iter().rev() {
        let Ok(value) = value.to_str() else {
            return client;
        };
        for hop in value.rsplit(',') {
            let Ok(hop) = hop.trim().parse::<IpAddr>() else {
                return client;
            };
            client = hop;
            if !trusted(&hop) {
                return client;
            }
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::resolve;
    use axum::http::{HeaderMap, HeaderValue};
    use ipnet::IpNet;
    use std::net::IpAddr;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn honours_forwarded_for_only_from_trusted_proxies() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let headers = forwarded("198.51.100.7, 203.0.113.9, 10.1.1.1");
        assert_eq!(
            resolve(ip("10.0.0.2"), &headers, &proxies),
            ip("203.0.113.9")
        );
        assert_eq!(
            resolve(ip("192.0.2.1"), &headers, &proxies),
            ip("192.0.2.1")
        );
        assert_eq!(
            resolve(ip("10.0.0.2"), &HeaderMap::new(), &proxies),
            ip("10.0.0.2")
        );
        assert_eq!(
            resolve(ip("10.0.0.2"), &forwarded("garbage, 203.0.113.9"), &proxies),
            ip("203.0.113.9")
        );
        assert_eq!(resolve(ip("10.0.0.2"), &headers, &[]), ip("10.0.0.2"));
    }
}
