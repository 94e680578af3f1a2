//! The whole-request timeout and PostgreSQL's statement timeout. Both are
//! provoked the same honest way: the test holds a write lock on the tenants
//! (an open transaction that updated them), so `recordAuditEvents` waits for
//! it until a timeout ends the wait; then the lock is released and nothing of
//! the batch may be stored.

use auditlog_tests::{Backend, TestApp, backend_tests, database, spawn_app_with};
use sea_orm::{ConnectionTrait, DatabaseTransaction, TransactionTrait};

use super::{record, stored};
use crate::helpers::events;

/// An open transaction holding a write lock on every tenant row (SQLite: the
/// database's write lock).
async fn lock_tenants(app: &TestApp) -> (sea_orm::DatabaseConnection, DatabaseTransaction) {
    // The superuser: the service's role sees (and locks) no rows without a tenant.
    let db = database::connect(app.superuser_database_url()).await;
    let lock = db.begin().await.unwrap();
    lock.execute_unprepared("UPDATE tenants SET name = name")
        .await
        .unwrap();
    (db, lock)
}

async fn a_request_over_the_timeout_gets_503_timeout_and_writes_nothing(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.limits.request_timeout_secs = 1;
    })
    .await;
    let acme = app.create_tenant("acme", "TEAM").await;
    app.record_ok(&acme.admin_key, events("timeout.before", 1))
        .await;

    let (_db, lock) = lock_tenants(&app).await;
    let answer = record(&app, &acme.admin_key, events("timeout.blocked", 3)).await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert_eq!(answer.code(), "TIMEOUT", "{}", answer.body);
    assert!(answer.body["data"].is_null(), "{}", answer.body);
    lock.rollback().await.unwrap();

    assert_eq!(stored(&app, &acme.admin_key, "timeout.blocked").await, 0);
    // The service is fine afterwards.
    app.record_ok(&acme.admin_key, events("timeout.after", 1))
        .await;
    assert_eq!(stored(&app, &acme.admin_key, "timeout.after").await, 1);
}

/// PostgreSQL cancels a statement after `AUDITLOG_DB_STATEMENT_TIMEOUT_MS`
/// (SQLSTATE 57014): a typed `TIMEOUT`, not `INTERNAL_SERVER_ERROR`. SQLite has
/// no statement timeout (its writers wait up to the busy timeout), so there the
/// setting must merely be harmless.
async fn a_cancelled_statement_is_a_typed_timeout(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.limits.db_statement_timeout_ms = 1000;
    })
    .await;
    let acme = app.create_tenant("acme", "TEAM").await;
    app.record_ok(&acme.admin_key, events("statement.before", 1))
        .await;
    if backend == Backend::Sqlite {
        return;
    }

    let (_db, lock) = lock_tenants(&app).await;
    let answer = record(&app, &acme.admin_key, events("statement.blocked", 3)).await;
    assert_eq!(answer.code(), "TIMEOUT", "{}", answer.body);
    assert!(answer.body["data"].is_null(), "{}", answer.body);
    lock.rollback().await.unwrap();

    assert_eq!(stored(&app, &acme.admin_key, "statement.blocked").await, 0);
    app.record_ok(&acme.admin_key, events("statement.after", 1))
        .await;
}

backend_tests!(
    a_request_over_the_timeout_gets_503_timeout_and_writes_nothing,
    a_cancelled_statement_is_a_typed_timeout,
);
