//! Reading and changing the retention policy: TEAM is fixed, ENTERPRISE is
//! configurable within the operator's bounds, plans change only by the operator,
//! and every change is recorded in the tenant's own log with old and new values.

use auditlog_tests::{Backend, backend_tests, spawn_app, spawn_app_with};
use serde_json::json;

use super::events_with_action;
use crate::helpers::instant;

async fn each_plan_shows_its_policy(backend: Backend) {
    let app = spawn_app(backend).await;
    let team = app.create_tenant("team-co", "TEAM").await;
    let enterprise = app.create_tenant("big-co", "ENTERPRISE").await;

    let tenant = app.tenant_policy(&team.admin_key).await;
    let policy = &tenant["retention"];
    assert_eq!(
        (policy["days"].clone(), policy["planDefault"].clone()),
        (json!(7), json!(7))
    );
    assert_eq!(
        (policy["minDays"].clone(), policy["maxDays"].clone()),
        (json!(7), json!(7)),
        "TEAM may choose nothing but 7: {policy}"
    );
    assert_eq!(policy["legalHold"], false);
    assert!(policy["legalHoldReason"].is_null());
    assert_eq!(
        instant(&policy["updatedAt"]),
        instant(&tenant["createdAt"]),
        "never changed: updatedAt is the creation time"
    );
    assert!(policy["retainedSince"].is_string());

    let policy = app.tenant_policy(&enterprise.admin_key).await["retention"].clone();
    assert_eq!(
        [
            &policy["days"],
            &policy["planDefault"],
            &policy["minDays"],
            &policy["maxDays"]
        ],
        [&json!(90), &json!(90), &json!(1), &json!(3650)]
    );
}

async fn team_cannot_change_retention(backend: Backend) {
    let app = spawn_app(backend).await;
    let team = app.create_tenant("team-co", "TEAM").await;
    let before = app.event_count(&team.admin_key).await;
    for days in [7, 30, 0] {
        let response = app.set_retention(Some(&team.admin_key), days).await;
        response.assert_error("FORBIDDEN");
        assert!(
            response
                .error_message()
                .contains("fixes retention at 7 days"),
            "{}",
            response.text
        );
    }
    assert_eq!(app.event_count(&team.admin_key).await, before);
    assert_eq!(
        app.tenant_policy(&team.admin_key).await["retention"]["days"],
        7
    );
}

async fn enterprise_sets_retention_within_bounds_and_it_is_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("big-co", "ENTERPRISE").await;
    let created_at = instant(&app.tenant_policy(&tenant.admin_key).await["createdAt"]);

    // HIPAA-style six years, then the bounds themselves.
    for (old, new) in [(90, 2190), (2190, 1), (1, 3650)] {
        let response = app.set_retention(Some(&tenant.admin_key), new).await;
        let policy = response.field("setRetentionPolicy");
        assert_eq!(policy["days"], new, "{policy}");
        assert_eq!(policy["planDefault"], 90);
        assert!(instant(&policy["updatedAt"]) > created_at);
        let recorded = events_with_action(&app, &tenant.admin_key, "retention.update").await;
        let latest = &recorded[0];
        assert_eq!(
            latest["payload"],
            json!({ "plan": "enterprise", "retentionDays": { "old": old, "new": new } })
        );
        assert_eq!(latest["actor"]["type"], "API_KEY");
        assert_eq!(latest["actor"]["id"], tenant.admin_key_id.as_str());
        assert_eq!(latest["target"]["type"], "tenant");
        assert_eq!(latest["target"]["id"], tenant.id.as_str());
    }
    assert_eq!(
        app.tenant_policy(&tenant.admin_key).await["retention"]["days"],
        3650
    );
    // Asking for what is in force changes and records nothing.
    let before = app.event_count(&tenant.admin_key).await;
    app.set_retention(Some(&tenant.admin_key), 3650)
        .await
        .field("setRetentionPolicy");
    assert_eq!(app.event_count(&tenant.admin_key).await, before);
}

async fn out_of_range_retention_is_rejected(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("big-co", "ENTERPRISE").await;
    let before = app.event_count(&tenant.admin_key).await;
    for days in [0, -1, 3651, i64::from(i32::MAX)] {
        let response = app.set_retention(Some(&tenant.admin_key), days).await;
        response.assert_error("BAD_USER_INPUT");
        assert!(
            response.error_message().contains("between 1 and 3650"),
            "the message names the bounds: {}",
            response.text
        );
    }
    assert_eq!(app.event_count(&tenant.admin_key).await, before);
    assert_eq!(
        app.tenant_policy(&tenant.admin_key).await["retention"]["days"],
        90
    );
}

async fn only_admins_change_the_policy(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("big-co", "ENTERPRISE").await;
    let auditor = app
        .create_api_key(&tenant.admin_key, "auditor", "AUDITOR")
        .await;
    let publisher = app
        .create_api_key(&tenant.admin_key, "publisher", "PUBLISHER")
        .await;
    for (bearer, code) in [
        (Some(auditor.secret.as_str()), "FORBIDDEN"),
        (Some(publisher.secret.as_str()), "FORBIDDEN"),
        (Some(app.operator_token.as_str()), "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
        (
            Some("alk_big-co_AAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            "UNAUTHENTICATED",
        ),
    ] {
        app.set_retention(bearer, 30).await.assert_error(code);
        app.set_legal_hold(bearer, true, Some("x"))
            .await
            .assert_error(code);
    }
    // AUDITORs may read the policy.
    let policy = app.tenant_policy(&auditor.secret).await;
    assert_eq!(policy["retention"]["days"], 90);
}

async fn legal_hold_changes_are_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("big-co", "ENTERPRISE").await;
    let key = Some(tenant.admin_key.as_str());

    let on = app
        .set_legal_hold(key, true, Some("  litigation 2026-17 "))
        .await;
    let policy = on.field("setLegalHold");
    assert_eq!(policy["legalHold"], true);
    assert_eq!(policy["legalHoldReason"], "litigation 2026-17");
    assert!(
        policy["retainedSince"].is_null(),
        "nothing expires: {policy}"
    );
    let reason = app
        .set_legal_hold(key, true, Some("litigation 2026-18"))
        .await;
    assert_eq!(
        reason.field("setLegalHold")["legalHoldReason"],
        "litigation 2026-18"
    );
    let off = app.set_legal_hold(key, false, Some("case closed")).await;
    let policy = off.field("setLegalHold");
    assert_eq!(policy["legalHold"], false);
    assert!(policy["legalHoldReason"].is_null());
    assert!(policy["retainedSince"].is_string());
    // Lifting again is no change and records nothing.
    let before = app.event_count(&tenant.admin_key).await;
    app.set_legal_hold(key, false, None)
        .await
        .field("setLegalHold");
    assert_eq!(app.event_count(&tenant.admin_key).await, before);

    let payloads: Vec<_> = app
        .all_events(&tenant.admin_key, json!({ "actionPrefix": "legal_hold." }))
        .await
        .into_iter()
        .rev()
        .map(|event| {
            assert_eq!(event["actor"]["id"], tenant.admin_key_id.as_str());
            (event["action"].clone(), event["payload"].clone())
        })
        .collect();
    assert_eq!(
        payloads,
        vec![
            (
                json!("legal_hold.enable"),
                json!({ "legalHold": { "old": false, "new": true },
                        "reason": { "old": null, "new": "litigation 2026-17" }, "retentionDays": 90 })
            ),
            (
                json!("legal_hold.update"),
                json!({ "legalHold": { "old": true, "new": true },
                        "reason": { "old": "litigation 2026-17", "new": "litigation 2026-18" }, "retentionDays": 90 })
            ),
            (
                json!("legal_hold.disable"),
                json!({ "legalHold": { "old": true, "new": false },
                        "reason": { "old": "litigation 2026-18", "new": "case closed" }, "retentionDays": 90 })
            ),
        ]
    );
    let too_long = "x".repeat(501);
    app.set_legal_hold(key, true, Some(&too_long))
        .await
        .assert_error("BAD_USER_INPUT");
}

/// Issue 12, finding 10: legal hold suspends retention, so a TEAM tenant
/// (fixed 7 days) may not hold itself; ENTERPRISE admins and the operator may.
async fn team_admins_cannot_set_legal_hold_but_the_operator_can(backend: Backend) {
    let app = spawn_app(backend).await;
    let team = app.create_tenant("team-co", "TEAM").await;
    let enterprise = app.create_tenant("big-co", "ENTERPRISE").await;

    let refused = app
        .set_legal_hold(Some(&team.admin_key), true, Some("escape"))
        .await;
    refused.assert_error("FORBIDDEN");
    assert!(refused.error_message().contains("TEAM"), "{}", refused.text);
    let policy = app.tenant_policy(&team.admin_key).await;
    assert_eq!(policy["retention"]["legalHold"], false);
    assert!(
        events_with_action(&app, &team.admin_key, "legal_hold.enable")
            .await
            .is_empty()
    );

    let held = app
        .set_legal_hold(Some(&enterprise.admin_key), true, Some("audit"))
        .await;
    assert_eq!(held.field("setLegalHold")["legalHold"], true);

    let held = app
        .operator_legal_hold(&team.id, true, Some("court order"))
        .await;
    assert_eq!(held.field("setLegalHold")["legalHold"], true);
    let audited = events_with_action(&app, &team.admin_key, "legal_hold.enable").await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0]["actor"]["id"], "operator");
    // Lifting it is the operator's too.
    app.set_legal_hold(Some(&team.admin_key), false, None)
        .await
        .assert_error("FORBIDDEN");
    // Only the operator may name a tenant.
    let query = "mutation($id: ID!) { setLegalHold(tenantId: $id, enabled: true) { legalHold } }";
    app.graphql(query, json!({ "id": team.id }), Some(&enterprise.admin_key))
        .await
        .assert_error("FORBIDDEN");
}

async fn change_tenant_plan_is_operator_only_and_resets_retention(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("big-co", "ENTERPRISE").await;
    let operator = Some(app.operator_token.as_str());
    app.set_retention(Some(&tenant.admin_key), 365)
        .await
        .field("setRetentionPolicy");
    app.set_legal_hold(Some(&tenant.admin_key), true, Some("audit"))
        .await
        .field("setLegalHold");

    for bearer in [Some(tenant.admin_key.as_str()), None] {
        app.change_plan(bearer, &tenant.id, "TEAM")
            .await
            .assert_error_in(&["FORBIDDEN", "UNAUTHENTICATED"]);
    }
    let down = app.change_plan(operator, &tenant.id, "TEAM").await;
    let changed = down.field("changeTenantPlan");
    assert_eq!(changed["plan"], "TEAM");
    assert_eq!(changed["retention"]["days"], 7);
    assert_eq!(
        changed["retention"]["legalHold"], true,
        "legal hold is kept"
    );
    app.set_retention(Some(&tenant.admin_key), 30)
        .await
        .assert_error("FORBIDDEN");

    let up = app.change_plan(operator, &tenant.id, "ENTERPRISE").await;
    assert_eq!(up.field("changeTenantPlan")["retention"]["days"], 90);

    let recorded = events_with_action(&app, &tenant.admin_key, "tenant.plan_change").await;
    let payloads: Vec<_> = recorded
        .iter()
        .rev()
        .map(|e| e["payload"].clone())
        .collect();
    assert_eq!(
        payloads,
        vec![
            json!({ "plan": { "old": "enterprise", "new": "team" }, "retentionDays": { "old": 365, "new": 7 } }),
            json!({ "plan": { "old": "team", "new": "enterprise" }, "retentionDays": { "old": 7, "new": 90 } }),
        ]
    );
    for event in &recorded {
        assert_eq!(event["actor"]["type"], "SYSTEM");
        assert_eq!(event["actor"]["id"], "operator");
    }

    app.change_plan(operator, "0193a0b0-0000-7000-8000-000000000000", "TEAM")
        .await
        .assert_error("NOT_FOUND");
    app.change_plan(operator, "not-a-uuid", "TEAM")
        .await
        .assert_error("BAD_USER_INPUT");
}

async fn operator_configuration_sets_the_policy(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.retention.team_retention_days = 3;
        settings.retention.enterprise_retention_days = 30;
        settings.retention.retention_min_days = 2;
        settings.retention.retention_max_days = 40;
    })
    .await;
    let team = app.create_tenant("team-co", "TEAM").await;
    let enterprise = app.create_tenant("big-co", "ENTERPRISE").await;
    assert_eq!(
        app.tenant_policy(&team.admin_key).await["retention"]["days"],
        3
    );
    let response = app.set_retention(Some(&team.admin_key), 5).await;
    response.assert_error("FORBIDDEN");
    assert!(
        response.error_message().contains("3 days"),
        "{}",
        response.text
    );

    let policy = app.tenant_policy(&enterprise.admin_key).await["retention"].clone();
    assert_eq!(
        [&policy["days"], &policy["minDays"], &policy["maxDays"]],
        [&json!(30), &json!(2), &json!(40)]
    );
    let response = app.set_retention(Some(&enterprise.admin_key), 41).await;
    response.assert_error("BAD_USER_INPUT");
    assert!(
        response.error_message().contains("between 2 and 40"),
        "{}",
        response.text
    );
    app.set_retention(Some(&enterprise.admin_key), 2)
        .await
        .field("setRetentionPolicy");
}

backend_tests!(
    each_plan_shows_its_policy,
    team_cannot_change_retention,
    enterprise_sets_retention_within_bounds_and_it_is_audited,
    out_of_range_retention_is_rejected,
    only_admins_change_the_policy,
    legal_hold_changes_are_audited,
    team_admins_cannot_set_legal_hold_but_the_operator_can,
    change_tenant_plan_is_operator_only_and_resets_retention,
    operator_configuration_sets_the_policy,
);
