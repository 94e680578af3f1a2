//! Prometheus series of the retention purge (rendered on the service's
//! `/metrics`, and on `auditlog-worker`'s when `AUDITLOG_WORKER_METRICS_LISTEN`
//! is set):
//!
//! - `auditlog_purge_passes_total{outcome}`: passes by `completed`,
//!   `interrupted` (stopped at shutdown) or `failed` (could not list tenants);
//! - `auditlog_purge_pass_duration_seconds{outcome}`: how long passes took;
//! - `auditlog_purge_events_deleted_total{plan}`: events deleted, counted per
//!   committed batch so a long pass shows progress;
//! - `auditlog_purge_tenant_failures_total`: tenants whose purge failed (retried
//!   by the next pass);
//! - `auditlog_purge_last_completed_timestamp_seconds`: when the last complete
//!   pass ended, for "the purge has not run for a day" alerts.
//!
//! Labels are closed sets (outcomes, plans), never tenant ids.

use std::time::Duration;

use crate::domain::Plan;

use super::pass::PassReport;

/// One committed batch deleted `count` events of a tenant on `plan`.
pub(super) fn batch_deleted(plan: Plan, count: u64) {
    metrics::counter!("auditlog_purge_events_deleted_total", "plan" => plan.as_db())
        .increment(count);
}

/// A pass ended with `report` (`None`: it failed before looking at tenants).
pub(super) fn pass_finished(report: Option<&PassReport>, duration: Duration) {
    let outcome = match report {
        None => "failed",
        Some(report) if report.interrupted => "interrupted",
        Some(_) => "completed",
    };
    metrics::counter!("auditlog_purge_passes_total", "outcome" => outcome).increment(1);
    metrics::histogram!("auditlog_purge_pass_duration_seconds", "outcome" => outcome)
        .record(duration.as_secs_f64());
    if let Some(report) = report {
        metrics::counter!("auditlog_purge_tenant_failures_total").increment(report.tenants_failed);
        if !report.interrupted {
            let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
            metrics::gauge!("auditlog_purge_last_completed_timestamp_seconds").set(now);
        }
    }
}
