//! The vocabulary of log streams: their kinds and states, the state of a
//! delivery, and the limits a stream's settings must keep (name, batch
//! size, destination URL). The delivery protocol is `store::log_streams`'
//! and the worker's `streams`.

use url::Url;

/// Where a stream delivers to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum StreamKind {
    /// Standard Webhooks: signed JSON batches.
    Webhook,
    /// A Splunk HTTP Event Collector.
    SplunkHec,
}

/// Where a stream is in its life.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum StreamState {
    /// Delivering.
    Active,
    /// Stopped by an admin; resumed by an admin.
    Paused,
    /// The last attempt failed; retrying on the backoff schedule.
    Failing,
    /// Gave up (retries exhausted, 410 Gone, or another 4xx); resume or
    /// replay re-enables it.
    Disabled,
}

/// How one delivery attempt ended.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// The receiver answered 2xx.
    Delivered,
    /// Anything else: no answer in time, a refused connection, a non-2xx.
    Failed,
}

/// Each enum's spelling in the database, which is also the API's.
macro_rules! spelling {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            pub fn as_db(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
            pub fn from_db(raw: &str) -> Option<Self> {
                match raw { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}
spelling!(StreamKind { Webhook => "WEBHOOK", SplunkHec => "SPLUNK_HEC" });
spelling!(StreamState { Active => "ACTIVE", Paused => "PAUSED", Failing => "FAILING", Disabled => "DISABLED" });
spelling!(DeliveryStatus { Delivered => "DELIVERED", Failed => "FAILED" });

impl StreamState {
    /// States a worker delivers in.
    pub const DELIVERING: [StreamState; 2] = [StreamState::Active, StreamState::Failing];
}

/// Events per delivery: 1 to this.
pub const MAX_BATCH_SIZE: i32 = 1000;
/// The default batch size.
pub const DEFAULT_BATCH_SIZE: i32 = 100;
/// Characters of a stream's name.
pub const MAX_NAME_CHARS: usize = 200;
/// Bytes of a destination URL.
pub const MAX_URL_BYTES: usize = 2048;
/// Characters of a Splunk token, index or sourcetype.
pub const MAX_SPLUNK_FIELD_CHARS: usize = 512;

/// A destination URL as a stream may store it: absolute `https://` (or
/// `http://` where `allow_plain_http`), a host, no user name or password (a
/// credential in a URL would be stored and shown in clear: Splunk's token has
/// its own, encrypted, field), no fragment. Which addresses the host may
/// resolve to is checked at each delivery, after DNS resolution.
pub fn parse_destination(raw: &str, allow_plain_http: bool) -> Result<Url, String> {
    if raw.len() > MAX_URL_BYTES {
        return Err(format!("url must be at most {MAX_URL_BYTES} bytes"));
    }
    let url = Url::parse(raw.trim()).map_err(|error| format!("url is not a URL: {error}"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_plain_http => {}
        "http" => {
            return Err(
                "url must be https:// (plain http:// only in development mode or to private targets the operator allows)"
                    .to_owned(),
            );
        }
        other => return Err(format!("url scheme {other:?} is not https")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("url has no host".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("url must not contain a user name or password".to_owned());
    }
    if url.fragment().is_some() {
        return Err("url must not have a fragment".to_owned());
    }
    Ok(url)
}

/// A stream's name, trimmed: 1 to [`MAX_NAME_CHARS`] characters without
/// control characters.
pub fn parse_name(raw: &str) -> Result<&str, String> {
    let name = raw.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters, without control characters"
        ));
    }
    Ok(name)
}

/// A batch size in `1..=MAX_BATCH_SIZE`.
pub fn parse_batch_size(raw: i32) -> Result<i32, String> {
    if (1..=MAX_BATCH_SIZE).contains(&raw) {
        Ok(raw)
    } else {
        Err(format!("batchSize must be 1 to {MAX_BATCH_SIZE}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_are_https_with_a_host_and_no_credentials() {
        assert!(parse_destination("https://siem.example.com/hook", false).is_ok());
        assert!(parse_destination("http://siem.example.com/hook", false).is_err());
        assert!(parse_destination("http://127.0.0.1:9/hook", true).is_ok());
        assert!(parse_destination("ftp://siem.example.com/", true).is_err());
        assert!(parse_destination("https://user:pw@siem.example.com/", false).is_err());
        assert!(parse_destination("https://siem.example.com/#x", false).is_err());
        assert!(parse_destination("not a url", false).is_err());
        assert!(parse_destination(&format!("https://a.b/{}", "x".repeat(3000)), false).is_err());
    }

    #[test]
    fn spellings_round_trip() {
        for kind in [StreamKind::Webhook, StreamKind::SplunkHec] {
            assert_eq!(StreamKind::from_db(kind.as_db()), Some(kind));
        }
        assert_eq!(StreamState::from_db("FAILING"), Some(StreamState::Failing));
        assert_eq!(StreamState::from_db("failing"), None);
        assert!(parse_batch_size(0).is_err());
        assert_eq!(parse_batch_size(1000), Ok(1000));
        assert!(parse_name("  ").is_err());
        assert_eq!(parse_name(" SIEM "), Ok("SIEM"));
    }
}
