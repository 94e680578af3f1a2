//! Events per minute per tenant, by plan: a batch takes one unit per new
//! event, all or nothing, and a refused batch writes nothing. The quota is
//! counted on the tenant's row, so it holds across replicas of the service and
//! for each request of a group commit on its own.

use auditlog_tests::{Backend, backend_tests, spawn_app_with};
use futures::future::join_all;
use serde_json::{Value, json};

use super::{metrics, record, stored};
use crate::helpers::{event, sequence};

fn batch(action: &str, count: usize) -> Value {
    Value::Array((0..count).map(|_| event(action)).collect())
}

/// `count` events with idempotency keys `{prefix}-0`, `{prefix}-1`, ...
fn keyed_batch(action: &str, prefix: &str, count: usize) -> Value {
    Value::Array(
        (0..count)
            .map(|i| {
                let mut input = event(action);
                input["idempotencyKey"] = json!(format!("{prefix}-{i}"));
                input
            })
            .collect(),
    )
}

/// TEAM quota of 10 events per minute: a batch of 11 can never pass; an
/// invalid batch costs nothing; 10 pass at once; then 5 more are refused (they
/// fit once half of this minute has slid out of the window, in the next one).
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
    assert!(
        (30..=90).contains(&retry_after),
        "5 of the 10 must slide out: {retry_after} s"
    );
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

/// Two replicas of the service on one database share each tenant's quota:
/// 6 events through one and 6 through the other do not fit 10 per minute, the
/// remaining 4 do, whichever replica takes them. Idempotent replays are not new
/// events and pass with the quota spent.
async fn the_quota_holds_across_replicas(backend: Backend) {
    let quota = |settings: &mut auditlog_api::config::Settings| {
        settings.limits.team_ingest_per_minute = 10;
    };
    let one = spawn_app_with(backend, quota).await;
    let two = one.spawn_replica(quota).await;
    let acme = one.create_tenant("acme", "TEAM").await;

    let first = record(&one, &acme.admin_key, keyed_batch("quota.one", "one", 6)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let refused = record(&two, &acme.admin_key, batch("quota.two", 6)).await;
    refused.assert_too_many("QUOTA_EXCEEDED");
    assert_eq!(stored(&one, &acme.admin_key, "quota.two").await, 0);
    let rest = record(&two, &acme.admin_key, batch("quota.two", 4)).await;
    assert_eq!(rest.status, 200, "{}", rest.body);
    record(&one, &acme.admin_key, batch("quota.one", 1))
        .await
        .assert_too_many("QUOTA_EXCEEDED");

    // A retry of the first batch (through the other replica) stores nothing
    // new and takes nothing: it is answered with the original events.
    let replay = record(&two, &acme.admin_key, keyed_batch("quota.one", "one", 6)).await;
    assert_eq!(replay.status, 200, "{}", replay.body);
    assert_eq!(
        replay.body["data"]["recordAuditEvents"]["events"],
        first.body["data"]["recordAuditEvents"]["events"]
    );
    assert_eq!(stored(&two, &acme.admin_key, "quota.one").await, 6);
    assert_eq!(stored(&two, &acme.admin_key, "quota.two").await, 4);
}

/// Concurrent requests of one tenant (committed in groups where they meet):
/// each is accepted or refused on its own, as many as fit, and the refused
/// ones leave no gap in the sequences.
async fn concurrent_requests_over_the_quota_are_refused_one_by_one(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.limits.team_ingest_per_minute = 10;
    })
    .await;
    let acme = app.create_tenant("acme", "TEAM").await;
    let answers =
        join_all((0..8).map(|_| record(&app, &acme.admin_key, batch("quota.group", 3)))).await;
    let accepted: Vec<_> = answers
        .iter()
        .filter(|answer| answer.status == 200)
        .collect();
    assert_eq!(accepted.len(), 3, "3 batches of 3 fit 10 per minute");
    for answer in answers.iter().filter(|answer| answer.status != 200) {
        answer.assert_too_many("QUOTA_EXCEEDED");
        assert!(answer.body["data"].is_null(), "{}", answer.body);
    }
    let mut sequences: Vec<i64> = accepted
        .iter()
        .flat_map(|answer| {
            answer.body["data"]["recordAuditEvents"]["events"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|event| sequence(&event))
        .collect();
    sequences.sort_unstable();
    // After the tenant's own first events (its creation is audited), no gap.
    let first = sequences[0];
    assert_eq!(sequences, (first..first + 9).collect::<Vec<_>>());
    assert_eq!(stored(&app, &acme.admin_key, "quota.group").await, 9);
    // One more event still fits.
    app.record_ok(&acme.admin_key, batch("quota.group", 1))
        .await;
}

backend_tests!(
    a_batch_over_the_tenant_quota_is_refused_whole,
    a_zero_quota_is_unlimited,
    the_quota_holds_across_replicas,
    concurrent_requests_over_the_quota_are_refused_one_by_one,
);
