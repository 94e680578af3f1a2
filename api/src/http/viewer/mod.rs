//! The built-in viewer (issue 18): a web app served from the binary itself.
//!
//! - `GET /` and the app's own routes (`/events/{id}`, `/settings`, and any
//!   other `GET` that asks for HTML and names none of the service's
//!   endpoints): `index.html`, `Cache-Control: no-cache`.
//! - `GET /assets/{file}`: the compiled scripts and styles, whose names carry
//!   a hash of their content, cached for a year.
//! - `GET /viewer/config.json`: what the app cannot know by itself (the
//!   mode, whether the browser login is on, who may frame it).
//!
//! Every response of the viewer carries the strict headers of [`headers`]. The
//! files come from `api/viewer/dist`, built from `api/viewer/src` and committed
//! (`assets`), so the binary needs no Node.js and no network.

mod assets;
mod config;
mod headers;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub(crate) use config::ViewerSettings;

use super::state::AppState;

/// The viewer's routes; the service's own endpoints are routed before them.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/events/{id}", get(index))
        .route("/settings", get(index))
        .route("/assets/{*file}", get(assets::asset))
        .route("/viewer/config.json", get(config::config))
}

/// `index.html` with the viewer's headers.
async fn index(State(state): State<AppState>, request: Request) -> Response {
    assets::index(&state.viewer, request.headers())
}

/// Paths the viewer never answers for: the service's endpoints, so a typo in
/// an API path gets a 404, never the app.
const RESERVED: &[&str] = &[
    "/graphql",
    "/auth/",
    "/export",
    "/healthz",
    "/readyz",
    "/.well-known/",
    "/metrics",
    "/assets/",
    "/viewer/",
];

/// The router's fallback: the app for a browser navigating to one of its
/// client-side routes, 404 for everything else.
pub(super) async fn fallback(State(state): State<AppState>, request: Request) -> Response {
    let path = request.uri().path();
    let navigates = matches!(*request.method(), Method::GET | Method::HEAD)
        && !RESERVED.iter().any(|reserved| path.starts_with(reserved))
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
    if navigates {
        return assets::index(&state.viewer, request.headers());
    }
    StatusCode::NOT_FOUND.into_response()
}
