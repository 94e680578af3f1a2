//! HTTP surface: routes, the GraphQL transport, the browser login
//! (`/auth/login`, `/auth/callback`, `/auth/logout`), health checks.
//!
//! Owns status codes and content types; delegates everything else to
//! `graphql` (execution) and `auth` (who is calling).

pub mod browser;
mod extract;
mod graphql;
mod health;
mod login;
mod media_type;
pub mod metrics;
mod problem;
mod state;
mod websocket;
mod ws_credential;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use state::AppState;

/// Largest accepted request body; larger ones get HTTP 413.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

pub fn router(state: AppState) -> Router {
    metrics::handle();
    Router::new()
        .route(
            "/graphql",
            get(graphql::get_handler).post(graphql::post_handler),
        )
        .route("/auth/login", get(login::login))
        .route("/auth/callback", get(login::callback))
        .route("/auth/logout", post(login::logout))
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(metrics::render))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(TraceLayer::new_for_http())
        // A bug must cost one request a 500, not the process; no details leak.
        .layer(CatchPanicLayer::custom(problem::panic_response))
        .with_state(state)
}
