//! Sending one delivery: an HTTP client that follows no redirect, gives the
//! receiver `AUDITLOG_STREAM_TIMEOUT_MS` for the whole exchange, reads at
//! most [`MAX_RESPONSE_BYTES`] of an answer, and connects only to addresses
//! [`targets`](super::targets) allows (checked after DNS resolution, in the
//! resolver itself, and for literal IP hosts before sending). What came back
//! is judged by [`Verdict::of`].

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use url::Url;

use super::targets::is_public;

/// Bytes of a receiver's answer read (and kept in the record, cut to
/// [`MAX_RECORDED_ERROR`]).
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024;
/// Characters of an answer or error kept in `lastError` and the record.
pub const MAX_RECORDED_ERROR: usize = 500;

/// Who may be reached, and how.
#[derive(Clone, Copy, Debug)]
pub struct TargetRules {
    pub allow_private: bool,
    /// `http://` anywhere (development mode).
    pub allow_plain_http: bool,
}

impl TargetRules {
    /// Plain `http://` is for development, or for the private targets an
    /// operator allows (a receiver on the same host has no public certificate).
    pub fn plain_http_allowed(self) -> bool {
        self.allow_plain_http || self.allow_private
    }
}

/// What one request came to.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub status: Option<u16>,
    pub retry_after: Option<Duration>,
    /// The answer's start (2xx: ignored) or why there was none.
    pub detail: Option<String>,
    pub latency: Duration,
}

/// What to do after an exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// Network error, timeout, 408, 429, 5xx: try again later.
    Retry(Option<Duration>),
    /// 410 Gone or another 4xx: the receiver will not take it.
    Disable,
}

impl Verdict {
    pub fn of(exchange: &Exchange) -> Self {
        match exchange.status {
            Some(200..=299) => Self::Delivered,
            None | Some(408) | Some(425) | Some(429) | Some(500..=599) => {
                Self::Retry(exchange.retry_after)
            }
            // Redirects are not followed: a moved receiver is reconfigured.
            Some(_) => Self::Disable,
        }
    }
}

/// The outbound client; cheap to clone.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    rules: TargetRules,
}

impl Sender {
    pub fn new(rules: TargetRules, timeout: Duration) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("auditlog-streams/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(CheckedResolver { rules }))
            .no_proxy()
            .build()
            .map_err(|error| format!("cannot build the HTTP client: {error}"))?;
        Ok(Self { client, rules })
    }

    /// Whether `url` may be delivered to at all (scheme, literal address);
    /// names are checked when they resolve.
    pub fn check_url(&self, url: &Url) -> Result<(), String> {
        match url.scheme() {
            "https" => {}
            "http" if self.rules.plain_http_allowed() => {}
            _ => return Err("the destination must be https://".into()),
        }
        if let Some(url::Host::Ipv4(ip)) = url.host() {
            self.check_ip(IpAddr::V4(ip))?;
        }
        if let Some(url::Host::Ipv6(ip)) = url.host() {
            self.check_ip(IpAddr::V6(ip))?;
        }
        Ok(())
    }

    /// Whether the host of `url` resolves to at least one allowed address
    /// (a name that does not resolve passes; literal addresses are
    /// [`Self::check_url`]'s).
    pub async fn check_resolved(&self, url: &Url) -> Result<(), String> {
        let Some(url::Host::Domain(host)) = url.host() else {
            return Ok(());
        };
        let port = url.port_or_known_default().unwrap_or(443);
        let lookup = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::net::lookup_host((host, port)),
        )
        .await;
        let Ok(Ok(resolved)) = lookup else {
            return Ok(());
        };
        let resolved: Vec<SocketAddr> = resolved.collect();
        if resolved.is_empty()
            || self.rules.allow_private
            || resolved.iter().any(|addr| is_public(addr.ip()))
        {
            return Ok(());
        }
        Err(format!(
            "{host} resolves only to addresses that are not public (loopback, private, link-local or reserved)"
        ))
    }

    fn check_ip(&self, ip: IpAddr) -> Result<(), String> {
        if self.rules.allow_private || is_public(ip) {
            Ok(())
        } else {
            Err(format!(
                "the destination address {ip} is not public (loopback, private, link-local or reserved)"
            ))
        }
    }

    /// POSTs `body` to `url` with `headers`.
    pub async fn post(&self, url: &Url, headers: HeaderMap, body: Vec<u8>) -> Exchange {
        let started = Instant::now();
        if let Err(refused) = self.check_url(url) {
            return Exchange {
                status: None,
                retry_after: None,
                detail: Some(refused),
                latency: started.elapsed(),
            };
        }
        let sent = self
            .client
            .post(url.clone())
            .headers(headers)
            .body(body)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(error) => {
                return Exchange {
                    status: None,
                    retry_after: None,
                    detail: Some(describe(&error)),
                    latency: started.elapsed(),
                };
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(parse_retry_after);
        let detail = read_bounded(response).await;
        Exchange {
            status: Some(status),
            retry_after,
            detail,
            latency: started.elapsed(),
        }
    }
}

/// At most [`MAX_RESPONSE_BYTES`] of the answer, as text; a body that does
/// not arrive in time ends the read (the exchange's timeout covers it).
async fn read_bounded(response: reqwest::Response) -> Option<String> {
    let mut stream = response.bytes_stream();
    let mut bytes = Vec::new();
    while let Some(Ok(chunk)) = stream.next().await {
        let room = MAX_RESPONSE_BYTES - bytes.len();
        bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if bytes.len() >= MAX_RESPONSE_BYTES {
            break;
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim();
    (!text.is_empty()).then(|| cut(text))
}

/// `text` cut to [`MAX_RECORDED_ERROR`] characters.
pub fn cut(text: &str) -> String {
    text.chars().take(MAX_RECORDED_ERROR).collect()
}

/// An error without URLs' query strings or anything of the request body.
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_redirect() {
        "redirect refused"
    } else {
        "request failed"
    };
    let mut detail = kind.to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    cut(&detail)
}

/// `Retry-After` in seconds or as an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value.trim()).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    wait.to_std().ok()
}

/// Resolves with the system resolver, then keeps the allowed addresses only.
struct CheckedResolver {
    rules: TargetRules,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.rules.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|addr| allow_private || is_public(addr.ip()))
                .collect();
            if allowed.is_empty() {
                let refused: Box<dyn std::error::Error + Send + Sync> = if resolved.is_empty() {
                    format!("{host} does not resolve").into()
                } else {
                    format!(
                        "{host} resolves only to addresses that are not public (loopback, private, link-local or reserved)"
                    )
                    .into()
                };
                return Err(refused);
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(status: Option<u16>) -> Exchange {
        Exchange {
            status,
            retry_after: Some(Duration::from_secs(7)),
            detail: None,
            latency: Duration::ZERO,
        }
    }

    #[test]
    fn verdicts_follow_the_contract() {
        assert_eq!(Verdict::of(&exchange(Some(204))), Verdict::Delivered);
        assert_eq!(
            Verdict::of(&exchange(Some(429))),
            Verdict::Retry(Some(Duration::from_secs(7)))
        );
        assert!(matches!(
            Verdict::of(&exchange(Some(503))),
            Verdict::Retry(_)
        ));
        assert!(matches!(Verdict::of(&exchange(None)), Verdict::Retry(_)));
        assert_eq!(Verdict::of(&exchange(Some(410))), Verdict::Disable);
        assert_eq!(Verdict::of(&exchange(Some(400))), Verdict::Disable);
        assert_eq!(Verdict::of(&exchange(Some(301))), Verdict::Disable);
    }

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT").is_none());
        assert!(parse_retry_after("soon").is_none());
    }

    #[tokio::test]
    async fn literal_private_addresses_are_refused_unless_allowed() {
        let strict = TargetRules {
            allow_private: false,
            allow_plain_http: false,
        };
        let sender = Sender::new(strict, Duration::from_secs(1)).unwrap();
        let url = Url::parse("https://169.254.169.254/latest").unwrap();
        assert!(sender.check_url(&url).is_err());
        assert!(
            sender
                .check_url(&Url::parse("http://93.184.216.34/").unwrap())
                .is_err()
        );
        assert!(
            sender
                .check_url(&Url::parse("https://[::1]/").unwrap())
                .is_err()
        );
        let refused = sender
            .post(
                &Url::parse("https://localhost:1/").unwrap(),
                HeaderMap::new(),
                Vec::new(),
            )
            .await;
        assert_eq!(refused.status, None);
        assert!(refused.detail.unwrap().contains("not public"));
        let open = TargetRules {
            allow_private: true,
            allow_plain_http: false,
        };
        let sender = Sender::new(open, Duration::from_secs(1)).unwrap();
        assert!(
            sender
                .check_url(&Url::parse("http://127.0.0.1:9/").unwrap())
                .is_ok()
        );
    }
}
