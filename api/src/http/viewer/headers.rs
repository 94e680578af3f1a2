//! The headers of every viewer response: a strict Content-Security-Policy (no
//! inline script or style, nothing loaded or called but this service, framed
//! only by `AUDITLOG_FRAME_ANCESTORS`), `X-Content-Type-Options: nosniff`,
//! `Referrer-Policy: no-referrer`, and `X-Frame-Options: DENY` for browsers
//! without `frame-ancestors` when no page may frame it.
//!
//! Event data is attacker-controlled (any publisher writes actors' names); the
//! app renders it as text only, and this policy is the second wall: even an
//! injected `<script>` or `onerror=` would not run.

use axum::http::{HeaderMap, HeaderValue, header};

use super::ViewerSettings;
use crate::config::FrameAncestors;

pub(super) const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
pub(super) const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");
/// Hashed file names never change content: a year, never revalidated.
pub(super) const IMMUTABLE: HeaderValue =
    HeaderValue::from_static("public, max-age=31536000, immutable");

/// Adds the viewer's security headers to `headers`.
pub(super) fn apply(headers: &mut HeaderMap, settings: &ViewerSettings, request: &HeaderMap) {
    let policy = content_security_policy(settings, request);
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if settings.frame_ancestors == FrameAncestors::None {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
}

/// The policy: `'self'` for everything, `data:` images (none today; cheap
/// icons may be), and the WebSocket origin of the service for the live feed.
pub(super) fn content_security_policy(settings: &ViewerSettings, request: &HeaderMap) -> String {
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self' {}; frame-ancestors {}; base-uri 'none'; form-action 'self'",
        websocket_sources(settings, request),
        settings.frame_ancestors.directive()
    )
}

/// `ws(s)://` of the public URL; without one, of the `Host` the browser asked
/// for (both schemes: behind a TLS-terminating proxy this process cannot tell).
/// A `Host` with anything but host-name characters is left out.
fn websocket_sources(settings: &ViewerSettings, request: &HeaderMap) -> String {
    if let Some(origin) = &settings.public_origin {
        if let Some(rest) = origin.strip_prefix("https://") {
            return format!("wss://{rest}");
        }
        if let Some(rest) = origin.strip_prefix("http://") {
            return format!("ws://{rest}");
        }
    }
    let host = request
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .filter(|host| {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        });
    match host {
        Some(host) => format!("ws://{host} wss://{host}"),
        None => String::new(),
    }
}

/// `Cache-Control` for a response.
pub(super) fn cache(headers: &mut HeaderMap, value: HeaderValue) {
    headers.insert(header::CACHE_CONTROL, value);
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use super::{ViewerSettings, content_security_policy};
    use crate::config::FrameAncestors;

    fn settings(public_origin: Option<&str>, frame_ancestors: FrameAncestors) -> ViewerSettings {
        ViewerSettings {
            development: false,
            browser_login: false,
            public_origin: public_origin.map(str::to_owned),
            frame_ancestors,
        }
    }

    fn host(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn the_public_url_gives_the_websocket_origin() {
        let policy = content_security_policy(
            &settings(Some("https://audit.example.com"), FrameAncestors::None),
            &host("evil.example"),
        );
        assert!(
            policy.contains("connect-src 'self' wss://audit.example.com;"),
            "{policy}"
        );
        assert!(policy.contains("frame-ancestors 'none';"), "{policy}");
        assert!(!policy.contains("evil"), "{policy}");
    }

    #[test]
    fn without_one_the_host_and_only_a_clean_one() {
        let policy = content_security_policy(
            &settings(
                None,
                FrameAncestors::Origins(vec!["https://app.example".into()]),
            ),
            &host("127.0.0.1:8080"),
        );
        assert!(
            policy.contains("connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080;"),
            "{policy}"
        );
        assert!(
            policy.contains("frame-ancestors https://app.example;"),
            "{policy}"
        );
        let policy = content_security_policy(
            &settings(None, FrameAncestors::None),
            &host("a; script-src *"),
        );
        assert!(policy.contains("connect-src 'self' ;"), "{policy}");
    }
}
