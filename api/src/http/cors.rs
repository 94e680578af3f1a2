//! Cross-origin requests (CORS) from the pages of `AUDITLOG_CORS_ORIGINS`
//! (`config::origins`), e.g. a frontend on `https://app.example.com` calling
//! this API on `https://audit.example.com`.
//!
//! tower-http's layer answers every `OPTIONS` request itself (a preflight), so
//! preflights never reach the rate limits, the timeout, authentication or the
//! media-type check, which would refuse them; it adds the `Access-Control-*`
//! headers to every other response. Only a listed origin gets
//! `Access-Control-Allow-Origin` (its own, never `*`) and
//! `Access-Control-Allow-Credentials`, so only its pages may send the session
//! cookie and read the answer; whether the cookie then counts is still the
//! CSRF check's decision (`browser`), which reads the same list. With an empty
//! list there is no layer at all and no `Access-Control-*` header: browsers
//! keep every other origin's pages out, the default.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowCredentials, AllowOrigin, CorsLayer};

use super::request_id::X_REQUEST_ID;
use crate::config::CrossOrigins;

/// Sent by frontends to pick a tenant (issue 16), so preflights must allow it.
const AUDITLOG_TENANT: HeaderName = HeaderName::from_static("auditlog-tenant");

/// How long a browser may reuse a preflight's answer: spares most requests a
/// second round trip; below every browser's own cap (Chromium: 2 hours).
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// The layer for `origins`, or `None` when there are none.
pub(crate) fn layer(origins: &CrossOrigins) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    // A validated origin is visible ASCII, so every entry converts.
    let listed: Arc<[HeaderValue]> = origins
        .as_slice()
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    let credentialed = listed.clone();
    let layer = CorsLayer::new()
        .allow_origin(AllowOrigin::list(listed.iter().cloned()))
        // Not `allow_credentials(true)`, which sends the header to every
        // origin: a refused origin gets neither `-Allow-Origin` nor this.
        .allow_credentials(AllowCredentials::predicate(move |origin, _| {
            credentialed.contains(origin)
        }))
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            AUDITLOG_TENANT,
            X_REQUEST_ID,
        ])
        // What a page may read: the id to quote in a support request, and when
        // to retry a 429 or 503.
        .expose_headers([X_REQUEST_ID, header::RETRY_AFTER])
        .max_age(PREFLIGHT_MAX_AGE);
    Some(layer)
}

#[cfg(test)]
mod tests {
    use super::layer;
    use crate::config::{CrossOrigins, OriginsConfig};

    #[test]
    fn no_origins_no_layer() {
        assert!(layer(&CrossOrigins::default()).is_none());
        let origins = OriginsConfig {
            cors_origins: vec!["https://app.example.com".into()],
            ..OriginsConfig::default()
        }
        .cross_origins()
        .unwrap();
        assert!(layer(&origins).is_some());
    }
}
