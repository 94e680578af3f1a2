//! Retention (issue 4): per-tenant policies, legal hold, the read-path window,
//! and the purge (in-process passes and the real `auditlog-worker` binary).
//!
//! - [`policy`]: reading and changing the policy, plan changes, all audited;
//! - [`reads`]: expired events are hidden before any purge; ingest refuses them;
//! - [`purge`]: in-process passes: exactly the expired events go, per tenant;
//!   legal hold; batches; concurrent passes; interruption; the in-process schedule;
//! - [`workers`]: the `auditlog-worker` binary: `run-once`, two workers at once,
//!   SIGKILL mid-pass.
//!
//! Events from days ago are planted through the data layer
//! (`auditlog_tests::database`); no test waits for real days.

mod policy;
mod purge;
mod reads;
mod workers;

use auditlog_tests::TestApp;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

/// `now - days`. Tests keep planted events at least a day away from any
/// cutoff, so the few seconds a test takes never move an event across it.
pub(crate) fn days_ago(days: i64) -> DateTime<Utc> {
    Utc::now() - Duration::days(days)
}

/// The tenant's events with `action`, newest first, through the API.
pub(crate) async fn events_with_action(app: &TestApp, key: &str, action: &str) -> Vec<Value> {
    app.all_events(key, json!({ "actions": [action] })).await
}
