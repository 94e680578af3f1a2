//! `IpAddress`: a client IP in canonical text form (RFC 5952 for IPv6), so the
//! same address always compares equal whatever spelling the client sent.

use std::net::IpAddr;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpAddress(IpAddr);

impl IpAddress {
    pub fn parse(raw: &str) -> Result<Self, String> {
        raw.trim()
            .parse::<IpAddr>()
            .map(Self)
            .map_err(|_| format!("{raw:?} is not an IPv4 or IPv6 address"))
    }

    /// Reads back what the database stored. PostgreSQL's `inet::text` appends the
    /// netmask (`/32`, `/128`); a stored host address has no other one.
    pub fn from_stored(stored: &str) -> Option<Self> {
        let address = stored
            .split_once('/')
            .map_or(stored, |(address, _)| address);
        address.parse().ok().map(Self)
    }

    pub fn canonical(&self) -> String {
        self.0.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::IpAddress;

    #[test]
    fn canonicalises_and_reads_back_postgres_text() {
        assert_eq!(
            IpAddress::parse("2001:DB8:0:0::1").map(|ip| ip.canonical()),
            Ok("2001:db8::1".into())
        );
        assert_eq!(
            IpAddress::from_stored("10.0.0.1/32").map(|ip| ip.canonical()),
            Some("10.0.0.1".into())
        );
        assert_eq!(
            IpAddress::from_stored("::1/128").map(|ip| ip.canonical()),
            Some("::1".into())
        );
        assert!(IpAddress::parse("999.1.1.1").is_err());
        assert!(IpAddress::parse("localhost").is_err());
    }
}
