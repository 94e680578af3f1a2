//! Events per minute per tenant, by plan: a batch takes one unit per event,
//! all or nothing, and a refused batch writes nothing.

use auditlog_tests::{Backend, backend_tests, spawn_app_with};
use serde_json::Value;

use super::{metrics, record, stored};
use crate::helpers::event;

fn batch(action: &str, count: usize) -> Value {
    Value::Array((0..count).map(|_| event(action)).collect())
}

/// TEAM quota of 10 events per minute (one back every 6 s): a batch of 11 can
/// never pass; an invalid batch costs nothing; 10 pass at once; then 5 more are
/// refused (they would need 30 s).
async fn a_batch_over_the_tenant_quota_is_refused_whole(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.limits.team_ingest_per_minute = 10;
        settings.limits.enterprise_ingest_per_minute = 20;
    })
    .await;
    let acme = app.create_tenant("acme", "TEAM").await;
    let globex = app.create_tenant("globex", "TEAM").await;
    let initech = app.create_tenant("initech", "ENTERPRISE").await;

    let too_big = record(&app, &acme.admin_key, batch("quota.big", 11)).await;
    too_big.assert_too_many("QUOTA_EXCEEDED");
    assert!(too_big.body["data"].is_null(), "{}", too_big.body);
    assert_eq!(stored(&app, &acme.admin_key, "quota.big").await, 0);

    // An invalid batch is refused before the quota is asked: it costs nothing.
    let invalid = record(&app, &acme.admin_key, batch("Not An Action", 10)).await;
    assert_eq!(invalid.code(), "BAD_USER_INPUT", "{}", invalid.body);

    let fits = record(&app, &acme.admin_key, batch("quota.fits", 10)).await;
    assert_eq!(fits.status, 200, "{}", fits.body);
    assert_eq!(
        fits.body["data"]["recordAuditEvents"]["events"]
            .as_array()
            .map(Vec::len),
        Some(10)
    );

    let over = record(&app, &acme.admin_key, batch("quota.over", 5)).await;
    let retry_after = over.assert_too_many("QUOTA_EXCEEDED");
    assert!(retry_after > 1, "the bucket refills one event per 6 s");
    assert_eq!(stored(&app, &acme.admin_key, "quota.over").await, 0);
    assert_eq!(stored(&app, &acme.admin_key, "quota.fits").await, 10);

    // Another TEAM tenant has a quota of its own; ENTERPRISE has its plan's.
    app.record_ok(&globex.admin_key, batch("quota.other", 10))
        .await;
    app.record_ok(&initech.admin_key, batch("quota.enterprise", 20))
        .await;
    record(&app, &initech.admin_key, batch("quota.enterprise", 20))
        .await
        .assert_too_many("QUOTA_EXCEEDED");

    assert!(
        metrics(&app)
            .await
            .contains("auditlog_rate_limit_rejections_total{scope=\"ingest_quota\"}"),
        "no quota rejections counted"
    );
}

/// `0` turns a plan's quota off.
async fn a_zero_quota_is_unlimited(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.limits.team_ingest_per_minute = 0;
    })
    .await;
    let acme = app.create_tenant("acme", "TEAM").await;
    for _ in 0..2 {
        app.record_ok(&acme.admin_key, batch("quota.free", 1000))
            .await;
    }
}

backend_tests!(
    a_batch_over_the_tenant_quota_is_refused_whole,
    a_zero_quota_is_unlimited,
);
