//! `/healthz` (the process serves HTTP: always 200) and `/readyz` (the database
//! answers and the schema is current: 200, else 503 naming the failing check).
//! The checks themselves live in `crate::readiness`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::state::AppState;

pub(super) async fn live() -> &'static str {
    "ok"
}

pub(super) async fn ready(State(state): State<AppState>) -> Response {
    let report = state.readiness.check().await;
    let status = if report.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if report.is_ready() { "ready" } else { "not ready" },
        "failing": report.failing(),
        "checks": {
            "database": report.database.as_str(),
            "migrations": report.migrations.as_str(),
        },
    });
    (status, Json(body)).into_response()
}
