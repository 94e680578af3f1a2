//! Issue 12, finding 10: a key naming a tenant slug that does not exist costs
//! the same work as a known tenant's wrong key (a transaction, two lookups, a
//! hash check against a decoy), so response times do not reveal which slugs
//! exist. Timing itself is not asserted; the decoy path is, through its
//! counter `auditlog_auth_decoy_lookups_total`.

use auditlog_tests::{Backend, backend_tests, prometheus};
use serde_json::Value;

use crate::helpers::app_with_tenant;

async fn decoys(app: &auditlog_tests::TestApp) -> f64 {
    prometheus::sample(&app.metrics().await, "auditlog_auth_decoy_lookups_total").unwrap_or(0.0)
}

async fn an_unknown_slug_does_the_work_of_a_key_lookup(backend: Backend) {
    let (app, _tenant) = app_with_tenant(backend).await;
    let before = decoys(&app).await;
    let unknown = format!("alk_no-such-tenant_AAAAAAAA_{}", "A".repeat(32));
    for _ in 0..3 {
        app.graphql("{ tenant { id } }", Value::Null, Some(&unknown))
            .await
            .assert_error("UNAUTHENTICATED");
    }
    // Other tests of this process may add to the counter, never take from it.
    let after = decoys(&app).await;
    assert!(after >= before + 3.0, "decoy lookups {before} -> {after}");
}

backend_tests!(an_unknown_slug_does_the_work_of_a_key_lookup);
