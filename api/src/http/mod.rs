//! HTTP surface: routes, the GraphQL transport, the browser login
//! (`/auth/login`, `/auth/callback`, `/auth/logout`), the export
//! (`/export.ndjson`, `/export.csv`), health checks, the viewer-token keys
//! (`/.well-known/jwks.json`), the tree-head keys
//! (`/.well-known/auditlog-keys.json`), and the built-in viewer (`/`,
//! `/assets/*`).
//!
//! Owns status codes and content types; delegates everything else to
//! `graphql` (execution) and `auth` (who is calling).

pub(crate) mod browser;
mod client_ip;
mod cors;
mod error;
mod export;
mod extract;
mod graphql;
mod health;
mod jwks;
mod login;
mod media_type;
pub(crate) mod metrics;
mod problem;
mod rate_limit;
pub(crate) mod request_id;
mod response_cap;
pub(crate) mod serve;
mod state;
mod timeout;
mod viewer;
mod websocket;
mod ws_credential;
mod ws_origin;
mod ws_outgoing;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};

use crate::config::CrossOrigins;

pub(crate) use state::AppState;
pub(crate) use viewer::ViewerSettings;

/// Largest accepted request body; larger ones get HTTP 413.
pub(crate) const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The main port's routes; `cross_origins` may call them from their pages (CORS).
pub(crate) fn router(state: AppState, cross_origins: &CrossOrigins) -> Router {
    metrics::handle();
    // `/metrics` lives on its own listener; here only behind a token.
    let metrics_route: Router<AppState> = match state.metrics_token {
        Some(_) => Router::new().route("/metrics", get(metrics::render_with_token)),
        None => Router::new(),
    };
    let router = Router::new()
        .route(
            "/graphql",
            get(graphql::get_handler).post(graphql::post_handler),
        )
        .route("/auth/login", get(login::login))
        .route("/auth/callback", get(login::callback))
        .route("/auth/logout", post(login::logout))
        // Read from the database: under the per-IP limit.
        .route("/.well-known/auditlog-keys.json", get(jwks::tree_head_keys))
        // The routes above (not health checks and metrics): per-IP limit
        // first, then the whole-request timeout (not for the exports below).
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            timeout::request_timeout,
        ))
        // Exports stream for as long as the log takes to send (minutes for a
        // large one, longer to a slow client): under the per-IP limit, but not
        // the whole-request timeout, which would cut them off. Compressed on
        // request (gzip, zstd); the encoder flushes whenever the body waits
        // for its next batch, so compression streams too.
        .route(
            "/export.ndjson",
            get(export::ndjson).layer(CompressionLayer::new()),
        )
        .route(
            "/export.csv",
            get(export::csv).layer(CompressionLayer::new()),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rate_limit::per_ip,
        ))
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        // Public keys from memory, polled by verifiers: like the health checks,
        // outside the per-IP limit.
        .route("/.well-known/jwks.json", get(jwks::viewer_token_keys))
        .merge(metrics_route)
        // The built-in viewer: static files and their client-side routes,
        // after every endpoint above (it never shadows one), outside the
        // per-IP limit like the health checks (they cost a memory copy).
        .merge(viewer::routes())
        .fallback(viewer::fallback)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(metrics::track))
        // Spans carry the method, the path (never the query string: GET
        // requests put GraphQL documents and variables there) and the request id.
        .layer(
            TraceLayer::new_for_http()
                // 5xx answers are expected while the database is down (503
                // UNAVAILABLE) and are counted on /metrics: a warning, not an error.
                .on_failure(DefaultOnFailure::new().level(tracing::Level::WARN))
                .make_span_with(|request: &axum::extract::Request| {
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id = %request_id::of(request),
                    )
                }),
        )
        // A bug must cost one request a 500, not the process; no details leak.
        .layer(CatchPanicLayer::custom(problem::panic_response));
    // Outside everything that could refuse a preflight (rate limits, timeout,
    // authentication, media types) and outside the panic handler, so a
    // listed origin can read a panic's 500 and its request id too.
    let router = match cors::layer(cross_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    };
    router
        // Outermost: every response, panics included, carries `x-request-id`.
        .layer(request_id::propagate_layer())
        .layer(request_id::set_layer())
        .layer(axum::middleware::from_fn(request_id::accept_caller_id))
        .with_state(state)
}
