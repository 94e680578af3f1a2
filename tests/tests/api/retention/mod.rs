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

use auditlog_tests::{GqlResponse, TestApp};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

/// Every field of `RetentionPolicy`.
pub(crate) const POLICY_FIELDS: &str =
    "days planDefault minDays maxDays legalHold legalHoldReason updatedAt retainedSince";

/// `now - days`. Tests keep planted events at least a day away from any
/// cutoff, so the few seconds a test takes never move an event across it.
pub(crate) fn days_ago(days: i64) -> DateTime<Utc> {
    Utc::now() - Duration::days(days)
}

pub(crate) async fn tenant_policy(app: &TestApp, key: &str) -> Value {
    let query = format!("query {{ tenant {{ plan createdAt retention {{ {POLICY_FIELDS} }} }} }}");
    app.graphql(&query, Value::Null, Some(key))
        .await
        .field("tenant")
        .clone()
}

pub(crate) async fn set_retention(app: &TestApp, bearer: Option<&str>, days: i64) -> GqlResponse {
    let query = format!(
        "mutation($days: Int!) {{ setRetentionPolicy(days: $days) {{ {POLICY_FIELDS} }} }}"
    );
    app.graphql(&query, json!({ "days": days }), bearer).await
}

pub(crate) async fn set_legal_hold(
    app: &TestApp,
    bearer: Option<&str>,
    enabled: bool,
    reason: Option<&str>,
) -> GqlResponse {
    let query = format!(
        "mutation($enabled: Boolean!, $reason: String) {{ \
         setLegalHold(enabled: $enabled, reason: $reason) {{ {POLICY_FIELDS} }} }}"
    );
    app.graphql(
        &query,
        json!({ "enabled": enabled, "reason": reason }),
        bearer,
    )
    .await
}

/// `setLegalHold` by the operator for `tenant_id` (the only way on TEAM).
pub(crate) async fn operator_legal_hold(
    app: &TestApp,
    tenant_id: &str,
    enabled: bool,
    reason: Option<&str>,
) -> GqlResponse {
    let query = format!(
        "mutation($id: ID!, $enabled: Boolean!, $reason: String) {{ \
         setLegalHold(tenantId: $id, enabled: $enabled, reason: $reason) {{ {POLICY_FIELDS} }} }}"
    );
    app.graphql(
        &query,
        json!({ "id": tenant_id, "enabled": enabled, "reason": reason }),
        Some(&app.operator_token),
    )
    .await
}

pub(crate) async fn change_plan(
    app: &TestApp,
    bearer: Option<&str>,
    tenant_id: &str,
    plan: &str,
) -> GqlResponse {
    let query = format!(
        "mutation($id: ID!, $plan: Plan!) {{ changeTenantPlan(tenantId: $id, plan: $plan) {{ \
         id plan retention {{ {POLICY_FIELDS} }} }} }}"
    );
    app.graphql(&query, json!({ "id": tenant_id, "plan": plan }), bearer)
        .await
}

/// The tenant's events with `action`, newest first, through the API.
pub(crate) async fn events_with_action(app: &TestApp, key: &str, action: &str) -> Vec<Value> {
    app.all_events(key, json!({ "actions": [action] })).await
}
