//! [`ViewerSettings`] and `GET /viewer/config.json`: what the app learns from
//! the server before anyone signs in (no inline script carries it: the CSP
//! forbids inline scripts).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::headers;
use crate::config::FrameAncestors;
use crate::http::state::AppState;

/// The viewer's part of the configuration, fixed at start.
#[derive(Clone, Debug)]
pub(crate) struct ViewerSettings {
    /// Development mode: the app offers to paste an API key.
    pub development: bool,
    /// The browser login (`/auth/login`) is configured.
    pub browser_login: bool,
    /// `AUDITLOG_PUBLIC_URL`'s origin: the WebSocket origin of `connect-src`.
    pub public_origin: Option<String>,
    /// `AUDITLOG_FRAME_ANCESTORS`.
    pub frame_ancestors: FrameAncestors,
}

pub(super) async fn config(State(state): State<AppState>, request_headers: HeaderMap) -> Response {
    let settings = &state.viewer;
    let body = json!({
        "mode": if settings.development { "development" } else { "production" },
        "browserLogin": settings.browser_login,
        "publicOrigin": settings.public_origin,
        // The origins whose `postMessage` may hand the app a viewer token.
        "embedderOrigins": settings.frame_ancestors.origins(),
    });
    let mut response = Json(body).into_response();
    headers::apply(response.headers_mut(), settings, &request_headers);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, headers::NO_STORE);
    response
}
