//! The `Origin` check of WebSocket upgrades (cross-site WebSocket hijacking):
//! an upgrade whose `Origin` is neither the public URL's origin nor one of
//! `AUDITLOG_CORS_ORIGINS` (`config::origins`) gets 403 before the upgrade. Without an `Origin`
//! header (non-browser clients, which cannot be driven by a foreign page) the
//! upgrade proceeds; with no origin configured at all nothing is checked.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::problem::problem;
use crate::error::code;

/// The 403 for an upgrade from an origin not in `allowed`, if it is one.
pub(super) fn refusal(headers: &HeaderMap, allowed: &[String]) -> Option<Response> {
    let origin = headers.get(header::ORIGIN)?;
    if allowed.is_empty() {
        return None;
    }
    let permitted = origin
        .to_str()
        .is_ok_and(|origin| allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)));
    if permitted {
        return None;
    }
    tracing::info!(origin = ?origin, "WebSocket upgrade from a foreign origin refused");
    Some(problem(
        StatusCode::FORBIDDEN,
        code::FORBIDDEN,
        "WebSocket connections from this origin are not allowed",
    ))
}

#[cfg(test)]
mod tests {
    use super::refusal;
    use axum::http::{HeaderMap, HeaderValue};

    #[test]
    fn refuses_foreign_origins_only() {
        let allowed = vec!["https://audit.example.com".to_owned()];
        let mut headers = HeaderMap::new();
        assert!(refusal(&headers, &allowed).is_none());
        headers.insert(
            "origin",
            HeaderValue::from_static("https://audit.example.com"),
        );
        assert!(refusal(&headers, &allowed).is_none());
        headers.insert("origin", HeaderValue::from_static("https://evil.example"));
        assert!(refusal(&headers, &allowed).is_some());
        assert!(refusal(&headers, &[]).is_none());
    }
}
