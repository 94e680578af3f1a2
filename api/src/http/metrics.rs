//! `GET /metrics` in Prometheus text format, and the HTTP request metrics.
//!
//! Where it is served (docs/operations.md: "Metrics"): on its own listener
//! (`AUDITLOG_METRICS_LISTEN`, loopback by default; [`router`]), and on the
//! main port only when `AUDITLOG_METRICS_TOKEN` is set, to requests bearing
//! that token ([`render_with_token`]). The series describe every tenant's
//! traffic, so they are never public.
//!
//! One recorder per process (the `metrics` facade is global): the first
//! `Application` installs it, later ones (tests start several) share it.
//! Labels are bounded by the schema and routes, never taken from client input
//! such as operation names, so a client cannot blow up the series count.
//!
//! Series: `auditlog_http_requests_total{route,method,status}`,
//! `auditlog_http_request_duration_seconds{route,method}`,
//! `auditlog_graphql_operations_total{operation,outcome}` and
//! `auditlog_graphql_operation_duration_seconds{operation,outcome}` (see
//! `graphql::metrics`), `auditlog_events_ingested_total{plan}`,
//! `auditlog_rate_limit_rejections_total{scope}`, the purge's series (see
//! `auditlog_worker::purge`),
//! `auditlog_live_subscribers`, `auditlog_db_pool_connections{state}`,
//! `auditlog_db_reads_total{server}` and `auditlog_db_standby_lag_seconds`
//! (see `replica`),
//! `auditlog_rate_limit_rejections_total{scope}` (see `limits::Scope`).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::PrometheusHandle;
use sea_orm::DbBackend;

use super::state::AppState;
use crate::domain::secret::tokens_match;

/// Connections a metrics listener serves at once: scrapers are few.
pub(crate) const MAX_CONNECTIONS: usize = 64;

/// The process's Prometheus handle (installed by the first caller; see
/// `auditlog_worker::metrics`).
pub(crate) fn handle() -> Option<&'static PrometheusHandle> {
    auditlog_worker::metrics::recorder()
}

pub(crate) async fn render(State(state): State<AppState>) -> Response {
    metrics::gauge!("auditlog_live_subscribers").set(state.live.subscriber_count() as f64);
    // The pool getters panic on the other backend, so branch on it first.
    let (open, idle) = match state.db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = state.db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DbBackend::Sqlite => {
            let pool = state.db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    };
    metrics::gauge!("auditlog_db_pool_connections", "state" => "open").set(f64::from(open));
    metrics::gauge!("auditlog_db_pool_connections", "state" => "idle").set(idle as f64);
    exposition()
}

/// `GET /metrics` on the main port: only with `Authorization: Bearer <token>`
/// matching `AUDITLOG_METRICS_TOKEN` (compared in constant time); else 401.
pub(crate) async fn render_with_token(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Response {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let authorized = match (&state.metrics_token, presented) {
        (Some(expected), Some(presented)) => tokens_match(presented, expected),
        _ => false,
    };
    if !authorized {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "a metrics token is required",
        )
            .into_response();
    }
    render(State(state)).await
}

/// The metrics listener's routes: `GET /metrics` and nothing else.
pub(crate) fn router(state: AppState) -> axum::Router {
    handle();
    axum::Router::new()
        .route("/metrics", axum::routing::get(render))
        .with_state(state)
}

/// Every series of this process in Prometheus text format.
fn exposition() -> Response {
    match handle() {
        Some(handle) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable",
        )
            .into_response(),
    }
}

/// Counts and times every HTTP request by matched route (not raw path).
pub(crate) async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("auditlog_http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("auditlog_http_request_duration_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    response
}
