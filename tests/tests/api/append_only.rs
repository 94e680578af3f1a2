//! Issue 12, finding 11 (PostgreSQL): the audit log is append-only for the
//! service's role. It may INSERT and SELECT events but not UPDATE or DELETE
//! them; the retention purge deletes through the owner's `SECURITY DEFINER`
//! function, which re-derives "expired and not on hold" from the tenant row.
//! The purge passes of `retention::purge` run through that function too.

use auditlog_api::config::{MetricsListen, Settings};
use auditlog_api::startup::Application;
use auditlog_tests::database::{self, tenant_uuid};
use auditlog_tests::{Backend, spawn_app};
use chrono::{Duration, Utc};
use entity::store::tenant_scope;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, RuntimeErr, Statement};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::events;

fn sqlstate(error: &DbErr) -> Option<String> {
    let (DbErr::Exec(RuntimeErr::SqlxError(sqlx)) | DbErr::Query(RuntimeErr::SqlxError(sqlx))) =
        error
    else {
        return None;
    };
    sqlx.as_database_error()
        .and_then(|db| db.code())
        .map(|code| code.into_owned())
}

/// `auditlog_purge_expired_events(tenant, cutoff, limit)` as the service's
/// role, in a transaction scoped to `scope`.
async fn purge_function(
    db: &sea_orm::DatabaseConnection,
    scope: Uuid,
    tenant: Uuid,
    cutoff: chrono::DateTime<Utc>,
) -> Result<i64, DbErr> {
    let txn = tenant_scope::begin(db, scope).await.unwrap();
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT auditlog_purge_expired_events($1, $2, $3)",
            [tenant.into(), cutoff.into(), 10_000_i64.into()],
        ))
        .await?;
    let deleted = row.unwrap().try_get_by_index::<i64>(0).unwrap();
    txn.commit().await.unwrap();
    Ok(deleted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_role_cannot_update_or_delete_events() {
    let app = spawn_app(Backend::Postgres).await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    app.record_ok(&tenant.admin_key, events("entry.create", 3))
        .await;
    let id = tenant_uuid(&tenant.id);
    let db = database::connect(app.database_url()).await;
    let stored = database::stored_count(&db, id).await;
    for statement in [
        "UPDATE audit_events SET action = 'tampered' WHERE tenant_id = $1",
        "DELETE FROM audit_events WHERE tenant_id = $1",
    ] {
        let txn = tenant_scope::begin(&db, id).await.unwrap();
        let error = txn
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                statement,
                [id.into()],
            ))
            .await
            .expect_err("the service's role must not rewrite the log");
        assert_eq!(
            sqlstate(&error).as_deref(),
            Some("42501"),
            "{statement}: {error}"
        );
        txn.rollback().await.unwrap();
    }
    // The purge function refuses a tenant other than the transaction's own.
    let other = app.create_tenant("other", "TEAM").await;
    let error = purge_function(&db, tenant_uuid(&other.id), id, Utc::now())
        .await
        .expect_err("another tenant's purge");
    assert_eq!(sqlstate(&error).as_deref(), Some("42501"), "{error}");
    assert_eq!(
        database::stored_count(&db, id).await,
        stored,
        "nothing changed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_purge_function_deletes_only_expired_rows_not_on_hold() {
    let app = spawn_app(Backend::Postgres).await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    let id = tenant_uuid(&tenant.id);
    let db = database::connect(app.database_url()).await;
    let now = Utc::now();
    database::plant(&db, id, "entry.old", now - Duration::days(30), 5).await;
    database::plant(&db, id, "entry.recent", now - Duration::days(2), 4).await;
    let before = database::stored_count(&db, id).await;

    // A cutoff of "now" asks for more than TEAM's 7 days allow: only the
    // 30-day-old events go, none of the recent ones.
    let deleted = purge_function(&db, id, id, now).await.unwrap();
    assert_eq!(deleted, 5);
    assert_eq!(database::stored_count(&db, id).await, before - 5);
    assert_eq!(
        database::stored_count_with_action(&db, id, "entry.recent").await,
        4
    );

    // On legal hold nothing goes, whatever the cutoff.
    database::plant(&db, id, "entry.old", now - Duration::days(30), 2).await;
    let query = "mutation($id: ID!) { setLegalHold(tenantId: $id, enabled: true) { legalHold } }";
    app.graphql(query, json!({ "id": tenant.id }), Some(&app.operator_token))
        .await
        .field("setLegalHold");
    assert_eq!(purge_function(&db, id, id, now).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_refuses_a_service_role_that_may_update_events() {
    let app = spawn_app(Backend::Postgres).await;
    let superuser = database::connect(app.superuser_database_url()).await;
    superuser
        .execute_unprepared("GRANT UPDATE ON audit_events TO auditlog_app")
        .await
        .unwrap();
    let mut settings = Settings::for_database(app.database_url().to_owned());
    settings.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    settings.metrics.metrics_listen = MetricsListen::Off;
    settings.in_process_purge = false;
    settings.allow_unsafe_durability = true;
    settings.database_roles.migration_database_url =
        Some(app.owner_database_url().to_owned().into());
    let refused = Application::build(settings)
        .await
        .err()
        .expect("production started with a role that may UPDATE events");
    let message = format!("{refused:#}");
    assert!(message.contains("may UPDATE audit_events"), "{message}");
    assert!(message.contains("refusing to start"), "{message}");
}

/// Migration 8 reverts (the service's role gets UPDATE and DELETE back, the
/// function goes) and applies again, as the owner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_append_only_migration_reverts_and_reapplies() {
    use migration::{Migrator, MigratorTrait};

    let app = spawn_app(Backend::Postgres).await;
    let owner = database::connect(app.owner_database_url()).await;
    let state = || async {
        let row = owner
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT has_table_privilege('auditlog_app', 'audit_events', 'UPDATE'), \
                        has_table_privilege('auditlog_app', 'audit_events', 'DELETE'), \
                        to_regproc('auditlog_purge_expired_events') IS NOT NULL",
            ))
            .await
            .unwrap()
            .unwrap();
        (0..3)
            .map(|index| row.try_get_by_index::<bool>(index).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(state().await, [false, false, true]);
    // Back to before migration 8: every later migration too.
    let since_append_only = u32::try_from(Migrator::migrations().len() - 7).unwrap();
    Migrator::down(&owner, Some(since_append_only))
        .await
        .unwrap();
    assert_eq!(state().await, [true, true, false]);
    Migrator::up(&owner, None).await.unwrap();
    assert_eq!(state().await, [false, false, true]);
}
