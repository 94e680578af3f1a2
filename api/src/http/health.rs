//! `/healthz` (the process serves HTTP: always 200) and `/readyz` (the database
//! answers and the schema is current: 200, else 503 naming the failing check;
//! the read replica's state is reported besides, without deciding anything).
//! The checks themselves live in `crate::readiness`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::state::AppState;
use crate::replica::StandbyStatus;

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
        "standby": standby_json(state.readiness.standby()),
    });
    (status, Json(body)).into_response()
}

/// `{"state": "ok", "lag_ms": 12}`; `"off"` without a read replica, and
/// `lag_ms` null while unknown.
fn standby_json(status: Option<StandbyStatus>) -> serde_json::Value {
    match status {
        None => json!({ "state": "off", "lag_ms": null }),
        Some(status) => json!({
            "state": status.state.as_str(),
            "lag_ms": status.lag.map(|lag| u64::try_from(lag.as_millis()).unwrap_or(u64::MAX)),
        }),
    }
}
