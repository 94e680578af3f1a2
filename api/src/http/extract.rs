//! Typed extractor for the caller: `Principal` from the `Authorization` header,
//! or else from the browser-session cookie (after the CSRF check).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::Response;

use super::browser::{SESSION_COOKIE, cookie_value};
use super::problem;
use super::state::AppState;
use crate::auth::Principal;

/// Names the tenant a platform key acts for (by slug or id); any other
/// credential may only name its own.
pub(crate) const AUDITLOG_TENANT: &str = "auditlog-tenant";

impl FromRequestParts<AppState> for Principal {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let authorization = match parts.headers.get(header::AUTHORIZATION) {
            None => None,
            Some(value) => match value.to_str() {
                Ok(text) => Some(text),
                // Not visible ASCII: cannot be any credential of ours.
                Err(_) => return Ok(Principal::Invalid),
            },
        };
        let named_tenant = parts
            .headers
            .get(AUDITLOG_TENANT)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
        let named_tenant = named_tenant.as_deref();
        // A bearer credential wins; the (ambient) session cookie is used only
        // without one, and only for requests that pass the CSRF check.
        let result = match (authorization, &state.browser) {
            (None, Some(browser)) => match cookie_value(&parts.headers, SESSION_COOKIE) {
                Some(session) => {
                    if let Err(reason) = browser.check_csrf(&parts.headers) {
                        tracing::warn!(reason = %reason, "cookie-authenticated request refused");
                        return Ok(Principal::Refused(reason));
                    }
                    state
                        .authenticator
                        .authenticate_session(&session, named_tenant)
                        .await
                }
                None => Ok(Principal::Anonymous),
            },
            _ => {
                state
                    .authenticator
                    .authenticate(authorization, named_tenant)
                    .await
            }
        };
        result.map_err(|error| {
            if error.is_database_unavailable() {
                tracing::warn!(error = %error, "authentication failed: database unavailable");
                return problem::unavailable();
            }
            tracing::error!(error = ?error, "authentication failed on a database or identity-provider error");
            problem::internal()
        })
    }
}
