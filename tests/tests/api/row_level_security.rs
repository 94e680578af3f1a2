//! Tenant isolation in depth on PostgreSQL: row-level security under the
//! application's own filters, and the roles that make it binding.
//!
//! These tests talk to the database directly as the service's own role
//! (`auditlog_app_login`), through the data layer's `tenant_scope::begin`, with
//! raw SQL that has *no* `tenant_id` filter: whatever they see, only the
//! policies decided. SQLite has no such layer; its isolation is the
//! application-level filters, which the cross-tenant suite (`isolation`) runs
//! on both backends. The last tests start the real service and check that it
//! refuses, in production mode, to run as a role that could bypass the policies.

use std::net::SocketAddr;
use std::time::Duration;

use auditlog_api::config::Settings;
use auditlog_api::startup::Application;
use auditlog_tests::{Backend, TenantHandle, TestApp, spawn_app};
use entity::store::{read_scope, tenant_scope};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, RuntimeErr,
    Statement, TransactionTrait,
};
use uuid::Uuid;

use crate::helpers::events;

/// The tables that carry tenant data, and the column naming the tenant.
const TENANT_TABLES: [(&str, &str); 8] = [
    ("tenants", "id"),
    ("api_keys", "tenant_id"),
    ("audit_events", "tenant_id"),
    ("retention_leases", "tenant_id"),
    ("user_sessions", "tenant_id"),
    ("audit_event_facet_totals", "tenant_id"),
    ("audit_event_facet_days", "tenant_id"),
    ("audit_view_marks", "tenant_id"),
];

/// A migrated PostgreSQL database with tenants A (3 events) and B (5 events),
/// each also holding its own `tenant.create` event and first key.
async fn two_tenants() -> (TestApp, TenantHandle, TenantHandle) {
    let app = spawn_app(Backend::Postgres).await;
    let a = app.create_tenant("alpha", "TEAM").await;
    let b = app.create_tenant("bravo", "TEAM").await;
    app.record_ok(&a.admin_key, events("alpha.work", 3)).await;
    app.record_ok(&b.admin_key, events("bravo.work", 5)).await;
    (app, a, b)
}

/// A pool of exactly one connection, so every transaction reuses the same
/// session and anything a transaction left behind would show in the next.
async fn single_connection(url: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(1)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    Database::connect(options)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"))
}

fn uuid(id: &str) -> Uuid {
    Uuid::parse_str(id).unwrap_or_else(|e| panic!("{id} is not a UUID: {e}"))
}

fn sql(text: impl Into<String>) -> Statement {
    Statement::from_string(DbBackend::Postgres, text.into())
}

/// The tenant of every row of `table` that `db` can see (no filter of ours).
async fn visible_tenants(db: &impl ConnectionTrait, table: &str, column: &str) -> Vec<Uuid> {
    db.query_all_raw(sql(format!("SELECT {column} FROM {table}")))
        .await
        .unwrap_or_else(|e| panic!("reading {table}: {e}"))
        .iter()
        .map(|row| row.try_get_by_index::<Uuid>(0).unwrap())
        .collect()
}

/// The session's `app.tenant_id` outside any transaction (`None`: never set).
async fn setting_between_transactions(db: &DatabaseConnection) -> Option<String> {
    db.query_one_raw(sql("SELECT current_setting('app.tenant_id', true)"))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<Option<String>>(0)
        .unwrap()
}

/// The SQLSTATE of a database error.
fn sqlstate(error: &DbErr) -> Option<String> {
    let runtime = match error {
        DbErr::Exec(runtime) | DbErr::Query(runtime) | DbErr::Conn(runtime) => runtime,
        _ => return None,
    };
    match runtime {
        RuntimeErr::SqlxError(sqlx) => sqlx
            .as_database_error()
            .and_then(|db| db.code())
            .map(|code| code.into_owned()),
        _ => None,
    }
}

/// Counts the rows of tenant `expected` in every tenant table, as seen by a
/// transaction scoped to it, and checks that no other tenant's row shows.
async fn sees_only(db: &DatabaseConnection, expected: Uuid, events: usize) {
    let txn = tenant_scope::begin(db, expected).await.unwrap();
    for (table, column) in TENANT_TABLES {
        let seen = visible_tenants(&txn, table, column).await;
        assert!(
            seen.iter().all(|tenant| *tenant == expected),
            "{table}: a transaction of {expected} saw rows of {seen:?}"
        );
        if table == "audit_events" {
            assert_eq!(seen.len(), events, "audit_events of {expected}");
        }
        if table == "tenants" || table == "api_keys" {
            assert_eq!(seen.len(), 1, "{table} of {expected}");
        }
    }
    txn.commit().await.unwrap();
}

/// With one connection, transactions of A and B and failed ones interleave;
/// each sees exactly its own rows, and between transactions the setting is empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_interleaving_tenants_and_failures_leaks_nothing() {
    let (app, a, b) = two_tenants().await;
    let (a, b) = (uuid(&a.id), uuid(&b.id));
    let db = single_connection(app.database_url()).await;
    // Each tenant: its recorded events plus `tenant.create`.
    let (a_events, b_events) = (4, 6);

    assert_eq!(setting_between_transactions(&db).await, None);
    for _ in 0..3 {
        sees_only(&db, a, a_events).await;
        assert_eq!(setting_between_transactions(&db).await.as_deref(), Some(""));
        sees_only(&db, b, b_events).await;
        assert_eq!(setting_between_transactions(&db).await.as_deref(), Some(""));

        // A transaction of A fails halfway (and is rolled back)...
        let txn = tenant_scope::begin(&db, a).await.unwrap();
        assert_eq!(
            visible_tenants(&txn, "audit_events", "tenant_id")
                .await
                .len(),
            a_events
        );
        let failed = txn.execute_raw(sql("SELECT 1 / 0")).await;
        assert!(failed.is_err(), "division by zero must fail");
        txn.rollback().await.unwrap();
        assert_eq!(setting_between_transactions(&db).await.as_deref(), Some(""));
        sees_only(&db, b, b_events).await;

        // ... and one of B fails and is merely dropped (rolled back on drop).
        {
            let txn = tenant_scope::begin(&db, b).await.unwrap();
            let failed = txn.execute_raw(sql("SELECT * FROM no_such_table")).await;
            assert!(failed.is_err());
        }
        sees_only(&db, a, a_events).await;
        assert_eq!(setting_between_transactions(&db).await.as_deref(), Some(""));
    }

    // Outside a scoped transaction the same connection sees nothing: it errors.
    for (table, column) in TENANT_TABLES {
        let unscoped = db
            .query_all_raw(sql(format!("SELECT {column} FROM {table}")))
            .await;
        let seen = unscoped.as_ref().map(Vec::len);
        assert!(
            matches!(seen, Err(_) | Ok(0)),
            "{table} without a tenant returned {seen:?}"
        );
    }
}

/// A query with no tenant set errors — on a session that never set it, and on
/// one where an earlier transaction's local value has reset to the empty
/// string — instead of returning no rows or all of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_without_a_tenant_errors() {
    let (app, a, _b) = two_tenants().await;
    let db = single_connection(app.database_url()).await;

    let never_set = db
        .query_all_raw(sql("SELECT count(*) FROM audit_events"))
        .await
        .expect_err("a query of a session that never set app.tenant_id must fail");
    assert_eq!(
        sqlstate(&never_set).as_deref(),
        Some("42704"),
        "{never_set}"
    );

    let txn = tenant_scope::begin(&db, uuid(&a.id)).await.unwrap();
    txn.commit().await.unwrap();
    for (table, _) in TENANT_TABLES {
        if matches!(
            table,
            "retention_leases" | "user_sessions" | "audit_view_marks"
        ) {
            continue; // empty here: no row to check
        }
        let reset = db
            .query_all_raw(sql(format!("SELECT count(*) FROM {table}")))
            .await
            .expect_err("a query after the tenant's transaction ended must fail");
        assert_eq!(
            sqlstate(&reset).as_deref(),
            Some("22P02"),
            "{table}: {reset}"
        );
    }

    // Inside a transaction that did not set the tenant, too.
    let txn = db.begin().await.unwrap();
    let unscoped = txn
        .query_all_raw(sql("SELECT count(*) FROM audit_events"))
        .await;
    assert!(unscoped.is_err(), "an unscoped transaction must fail");
    txn.rollback().await.unwrap();
}

/// Writing a row of tenant B in a transaction of tenant A fails the policy
/// check (SQLSTATE 42501), whatever the application passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_tenant_insert_fails_the_policy_check() {
    let (app, a, b) = two_tenants().await;
    let (a, b) = (uuid(&a.id), uuid(&b.id));
    let db = single_connection(app.database_url()).await;

    let inserts = [
        "INSERT INTO audit_events (tenant_id, id, sequence, action, actor_type, actor_id, \
         outcome, occurred_at, received_at) \
         VALUES ($1, gen_random_uuid(), 1000, 'forged.event', 'user', 'mallory', 'success', now(), now())",
        "INSERT INTO api_keys (tenant_id, id, name, role, prefix, secret_hash, created_at) \
         VALUES ($1, gen_random_uuid(), 'forged', 'admin', 'forgedprefix', 'x', now())",
        "INSERT INTO retention_leases (tenant_id, holder, expires_at) VALUES ($1, 'mallory', now())",
        "UPDATE tenants SET id = $1 WHERE id = current_setting('app.tenant_id')::uuid",
    ];
    for insert in inserts {
        let txn = tenant_scope::begin(&db, a).await.unwrap();
        let error = txn
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                insert,
                [b.into()],
            ))
            .await
            .expect_err("a row of another tenant must be refused");
        assert_eq!(
            sqlstate(&error).as_deref(),
            Some("42501"),
            "{insert}: {error}"
        );
        txn.rollback().await.unwrap();
    }

    // Updates and deletes of B's rows from A's transaction touch nothing.
    let txn = tenant_scope::begin(&db, a).await.unwrap();
    for statement in [
        // (The service's role may not UPDATE events at all: `append_only`.)
        "UPDATE api_keys SET name = 'tampered' WHERE tenant_id = $1",
        "DELETE FROM api_keys WHERE tenant_id = $1",
        "UPDATE tenants SET name = 'tampered' WHERE id = $1",
    ] {
        let result = txn
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                statement,
                [b.into()],
            ))
            .await
            .unwrap();
        assert_eq!(result.rows_affected(), 0, "{statement}");
    }
    txn.commit().await.unwrap();
    sees_only(&db, b, 6).await;
}

/// Every tenant table has row-level security enabled *and* forced, and the
/// service's role neither owns them nor bypasses the policies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tenant_table_forces_row_level_security_on_an_unprivileged_role() {
    let app = spawn_app(Backend::Postgres).await;
    let db = single_connection(app.database_url()).await;
    for (table, _) in TENANT_TABLES {
        let row = db
            .query_one_raw(sql(format!(
                "SELECT c.relrowsecurity, c.relforcerowsecurity, \
                        pg_get_userbyid(c.relowner) <> current_user \
                 FROM pg_class c WHERE c.oid = '{table}'::regclass"
            )))
            .await
            .unwrap()
            .unwrap();
        for (index, what) in ["enabled", "forced", "owned by another role"]
            .into_iter()
            .enumerate()
        {
            assert!(
                row.try_get_by_index::<bool>(index).unwrap(),
                "{table}: row-level security not {what}"
            );
        }
    }
    let (role, reasons) = entity::store::role_check::bypass_reasons(&db)
        .await
        .unwrap();
    assert_eq!(role, "auditlog_app_login");
    assert!(reasons.is_empty(), "{reasons:?}");
}

/// Settings of a service on `url`, migrated by the schema owner.
fn settings_for(url: &str, owner_url: &str) -> Settings {
    let mut settings = Settings::for_database(url.to_owned());
    settings.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    settings.metrics.metrics_listen = auditlog_api::config::MetricsListen::Off;
    settings.in_process_purge = false;
    // The throwaway cluster runs with fsync off; the role check is the subject.
    settings.allow_unsafe_durability = true;
    settings.database_roles.migration_database_url = Some(owner_url.to_owned().into());
    settings
}

/// In production mode the service refuses to start as a superuser or as the
/// tables' owner, and says why; the override and development mode start it
/// anyway; the service's own role starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_refuses_a_role_that_could_bypass_row_level_security() {
    let app = spawn_app(Backend::Postgres).await;
    let owner = app.owner_database_url().to_owned();
    for (url, reason) in [
        (app.superuser_database_url(), "it is a superuser"),
        (owner.as_str(), "it owns the tables"),
    ] {
        let refused = Application::build(settings_for(url, &owner))
            .await
            .err()
            .unwrap_or_else(|| panic!("the service started as {url}"));
        let message = format!("{refused:#}");
        for needle in [
            "refusing to start",
            "could bypass row-level security",
            reason,
            "AUDITLOG_ALLOW_RLS_BYPASS",
            "Tenant isolation in PostgreSQL",
        ] {
            assert!(
                message.contains(needle),
                "{needle:?} missing from: {message}"
            );
        }

        let mut overridden = settings_for(url, &owner);
        overridden.database_roles.allow_rls_bypass = true;
        Application::build(overridden)
            .await
            .unwrap_or_else(|e| panic!("the override must start the service: {e:#}"));

        let mut development = settings_for(url, &owner);
        development.dev = true;
        Application::build(development)
            .await
            .unwrap_or_else(|e| panic!("development mode must start the service: {e:#}"));
    }
    Application::build(settings_for(app.database_url(), &owner))
        .await
        .unwrap_or_else(|e| panic!("the service's own role must start: {e:#}"));
}

/// Without an owner connection, a service whose role may not migrate still
/// starts on a current schema, and says what to set when it is not current.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_role_starts_on_a_current_schema_and_explains_a_pending_one() {
    let app = spawn_app(Backend::Postgres).await;
    let mut settings = settings_for(app.database_url(), "");
    settings.database_roles.migration_database_url = None;
    Application::build(settings)
        .await
        .unwrap_or_else(|e| panic!("a current schema needs no owner: {e:#}"));

    let empty = Backend::Postgres.create_database().await;
    let mut settings = settings_for(&empty.url, "");
    settings.database_roles.migration_database_url = None;
    let refused = Application::build(settings)
        .await
        .err()
        .expect("the service's role cannot create the schema");
    let message = format!("{refused:#}");
    assert!(
        message.contains("AUDITLOG_MIGRATION_DATABASE_URL"),
        "{message}"
    );
}

/// The migration reverts cleanly (policies dropped, row-level security off)
/// and applies again, as the owner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_migration_reverts_and_reapplies() {
    use migration::{Migrator, MigratorTrait};

    let app = spawn_app(Backend::Postgres).await;
    let owner = single_connection(app.owner_database_url()).await;
    let forced = || async {
        owner
            .query_one_raw(sql("SELECT bool_and(relforcerowsecurity) FROM pg_class \
                 WHERE oid = ANY (ARRAY['tenants', 'api_keys', 'audit_events', \
                 'retention_leases', 'user_sessions']::regclass[])"))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<bool>(0)
            .unwrap()
    };
    assert!(forced().await);
    // Back to before row-level security (migration 7): every later migration too.
    let since_row_level_security = u32::try_from(Migrator::migrations().len() - 6).unwrap();
    Migrator::down(&owner, Some(since_row_level_security))
        .await
        .unwrap();
    assert!(!forced().await);
    Migrator::up(&owner, None).await.unwrap();
    assert!(forced().await);
}

/// The read scope (`read_scope::begin_read`, one round trip) binds exactly as
/// the write scope does: on one connection, interleaved read scopes of A and B
/// each see only their own rows, leave no tenant behind, and cannot write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_scopes_see_only_their_tenant_and_cannot_write() {
    let (app, a, b) = two_tenants().await;
    let (a, b) = (uuid(&a.id), uuid(&b.id));
    let db = single_connection(app.database_url()).await;
    for (tenant, events) in [(a, 4), (b, 6), (a, 4)] {
        let scope = read_scope::begin_read(&db, tenant).await.unwrap();
        for (table, column) in TENANT_TABLES {
            let seen = visible_tenants(&scope, table, column).await;
            assert!(
                seen.iter().all(|seen| *seen == tenant),
                "{table}: a read scope of {tenant} saw rows of {seen:?}"
            );
            if table == "audit_events" {
                assert_eq!(seen.len(), events, "audit_events of {tenant}");
            }
        }
        scope.commit().await.unwrap();
        assert_eq!(setting_between_transactions(&db).await.as_deref(), Some(""));
    }
    let scope = read_scope::begin_read(&db, a).await.unwrap();
    let write = scope
        .execute_raw(sql(format!(
            "UPDATE tenants SET name = 'changed' WHERE id = '{a}'"
        )))
        .await
        .expect_err("a read scope is read-only");
    assert_eq!(sqlstate(&write).as_deref(), Some("25006"), "{write}");
    drop(scope);
    sees_only(&db, a, 4).await;
}
