//! Every credential against every operation. ADMIN may do everything in its tenant,
//! AUDITOR only the five queries, PUBLISHER only `recordAuditEvents`; a missing, bad
//! or revoked credential is `UNAUTHENTICATED`; a right credential with the wrong role
//! is `FORBIDDEN`; `createTenant` belongs to the operator alone. Every refused
//! mutation is checked to have changed nothing.

use auditlog_tests::{Backend, GqlResponse, TenantHandle, TestApp, backend_tests, spawn_app};
use serde_json::{Value, json};

use crate::helpers::{event, id, key_states};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    AuditEvents,
    AuditEvent,
    AuditEventFacets,
    Tenant,
    ApiKeys,
    RecordAuditEvents,
    CreateApiKey,
    RevokeApiKey,
    CreateTenant,
}

const OPS: [Op; 9] = [
    Op::AuditEvents,
    Op::AuditEvent,
    Op::AuditEventFacets,
    Op::Tenant,
    Op::ApiKeys,
    Op::RecordAuditEvents,
    Op::CreateApiKey,
    Op::RevokeApiKey,
    Op::CreateTenant,
];

const QUERIES: [Op; 5] = [
    Op::AuditEvents,
    Op::AuditEvent,
    Op::AuditEventFacets,
    Op::Tenant,
    Op::ApiKeys,
];

/// What an operation must do for a credential.
#[derive(Clone, Copy, Debug)]
enum Expect {
    Allowed,
    Refused(&'static [&'static str]),
}

const UNAUTHENTICATED: Expect = Expect::Refused(&["UNAUTHENTICATED"]);
const FORBIDDEN: Expect = Expect::Refused(&["FORBIDDEN"]);

/// A tenant with one key of each role, one event, and a revoked key.
struct Fixture {
    app: TestApp,
    tenant: TenantHandle,
    auditor: String,
    publisher: String,
    revoked: String,
    event_id: String,
}

async fn fixture(backend: Backend) -> Fixture {
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("acme", "ENTERPRISE").await;
    let admin = tenant.admin_key.as_str();
    let auditor = app.create_api_key(admin, "auditor", "AUDITOR").await.secret;
    let publisher = app
        .create_api_key(admin, "publisher", "PUBLISHER")
        .await
        .secret;
    let doomed = app.create_api_key(admin, "doomed admin", "ADMIN").await;
    app.revoke_api_key(Some(admin), &doomed.id).await.ok();
    let event_id = id(&app.record_ok(admin, json!([event("role.seed")])).await[0]);
    Fixture {
        app,
        tenant,
        auditor,
        publisher,
        revoked: doomed.secret,
        event_id,
    }
}

impl Fixture {
    fn admin(&self) -> &str {
        &self.tenant.admin_key
    }

    async fn recorded_checks(&self) -> usize {
        self.app
            .all_events(self.admin(), json!({ "actions": ["role.check"] }))
            .await
            .len()
    }

    /// Runs `op` with `bearer` and checks the outcome against `expect`, including
    /// that a refused mutation changed nothing.
    async fn check(&self, op: Op, bearer: Option<&str>, expect: Expect) {
        let app = &self.app;
        let context = format!("{op:?} with {bearer:?}");
        let (response, victim) = match op {
            Op::AuditEvents => (app.list_as(bearer, json!({ "first": 10 })).await, None),
            Op::AuditEvent => (
                app.graphql(
                    auditlog_tests::queries::EVENT_BY_ID,
                    json!({ "id": self.event_id }),
                    bearer,
                )
                .await,
                None,
            ),
            Op::AuditEventFacets => (
                app.graphql(auditlog_tests::queries::FACETS, Value::Null, bearer)
                    .await,
                None,
            ),
            Op::Tenant => (app.tenant(bearer).await, None),
            Op::ApiKeys => (app.api_keys(bearer).await, None),
            Op::RecordAuditEvents => {
                let before = self.recorded_checks().await;
                let response = app
                    .graphql(
                        auditlog_tests::queries::RECORD_EVENTS,
                        json!({ "events": [event("role.check")] }),
                        bearer,
                    )
                    .await;
                let written = self.recorded_checks().await - before;
                assert_eq!(
                    written,
                    usize::from(matches!(expect, Expect::Allowed)),
                    "{context}: events written"
                );
                (response, None)
            }
            Op::CreateApiKey => {
                let before = key_states(app, self.admin()).await.len();
                let response = app
                    .create_api_key_as(bearer, "made by role check", "AUDITOR")
                    .await;
                let created = key_states(app, self.admin()).await.len() - before;
                assert_eq!(
                    created,
                    usize::from(matches!(expect, Expect::Allowed)),
                    "{context}: keys created"
                );
                (response, None)
            }
            Op::RevokeApiKey => {
                let victim = app.create_api_key(self.admin(), "victim", "AUDITOR").await;
                (app.revoke_api_key(bearer, &victim.id).await, Some(victim))
            }
            Op::CreateTenant => {
                let slug = format!("t-{}", uuid::Uuid::new_v4().simple());
                let response = app
                    .create_tenant_as(bearer, &slug, "Made by role check", "TEAM")
                    .await;
                if !matches!(expect, Expect::Allowed) {
                    // The slug is still free: nothing was created.
                    app.create_tenant(&slug, "TEAM").await;
                }
                (response, None)
            }
        };
        match expect {
            Expect::Allowed => assert_allowed(op, &response, &self.event_id, &context),
            Expect::Refused(codes) => {
                assert!(
                    response
                        .error_code()
                        .is_some_and(|code| codes.contains(&code.as_str())),
                    "{context}: expected {codes:?}, got HTTP {}: {}",
                    response.status,
                    response.text
                );
                response.assert_no_data();
            }
        }
        if let Some(victim) = victim {
            let revoked = app
                .tenant(Some(&victim.secret))
                .await
                .error_code()
                .is_some();
            assert_eq!(
                revoked,
                matches!(expect, Expect::Allowed),
                "{context}: the victim key's state"
            );
        }
    }

    /// Checks every operation with `bearer`.
    async fn check_all(&self, bearer: Option<&str>, expect: impl Fn(Op) -> Expect) {
        for op in OPS {
            self.check(op, bearer, expect(op)).await;
        }
    }
}

#[track_caller]
fn assert_allowed(op: Op, response: &GqlResponse, event_id: &str, context: &str) {
    let data = response.ok();
    let value = data
        .as_object()
        .and_then(|fields| fields.values().next())
        .cloned()
        .unwrap_or(Value::Null);
    assert!(!value.is_null(), "{context}: no data: {}", response.text);
    if op == Op::AuditEvent {
        assert_eq!(value["id"], event_id, "{context}");
    }
}

async fn admin_may_do_everything_in_its_tenant(backend: Backend) {
    let f = fixture(backend).await;
    f.check_all(Some(f.admin()), |op| {
        if op == Op::CreateTenant {
            FORBIDDEN
        } else {
            Expect::Allowed
        }
    })
    .await;
}

async fn auditor_may_only_read(backend: Backend) {
    let f = fixture(backend).await;
    f.check_all(Some(&f.auditor), |op| {
        if QUERIES.contains(&op) {
            Expect::Allowed
        } else {
            FORBIDDEN
        }
    })
    .await;
}

async fn publisher_may_only_record(backend: Backend) {
    let f = fixture(backend).await;
    f.check_all(Some(&f.publisher), |op| {
        if op == Op::RecordAuditEvents {
            Expect::Allowed
        } else {
            FORBIDDEN
        }
    })
    .await;
}

async fn missing_credential_is_unauthenticated(backend: Backend) {
    let f = fixture(backend).await;
    f.check_all(None, |_| UNAUTHENTICATED).await;
}

async fn bad_credentials_are_unauthenticated(backend: Backend) {
    let f = fixture(backend).await;
    // A near miss of a real secret (last character changed), an empty and a random one.
    let admin = f.admin().to_owned();
    let mut near_miss = admin.clone();
    let last = near_miss.pop().expect("non-empty secret");
    near_miss.push(if last == 'a' { 'b' } else { 'a' });
    for bad in [
        near_miss.as_str(),
        "garbage",
        "",
        &format!("{admin}{admin}"),
    ] {
        f.check_all(Some(bad), |_| UNAUTHENTICATED).await;
    }
}

async fn revoked_key_is_unauthenticated(backend: Backend) {
    let f = fixture(backend).await;
    f.check_all(Some(&f.revoked), |_| UNAUTHENTICATED).await;
}

async fn operator_may_only_create_tenants(backend: Backend) {
    let f = fixture(backend).await;
    let token = f.app.operator_token.clone();
    // The operator token is no tenant credential: it reads and writes no tenant data.
    f.check_all(Some(&token), |op| {
        if op == Op::CreateTenant {
            Expect::Allowed
        } else {
            Expect::Refused(&["UNAUTHENTICATED", "FORBIDDEN"])
        }
    })
    .await;
}

backend_tests!(
    admin_may_do_everything_in_its_tenant,
    auditor_may_only_read,
    publisher_may_only_record,
    missing_credential_is_unauthenticated,
    bad_credentials_are_unauthenticated,
    revoked_key_is_unauthenticated,
    operator_may_only_create_tenants,
);
