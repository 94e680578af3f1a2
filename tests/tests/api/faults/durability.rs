//! Start-up durability checks: production mode refuses database settings that
//! can lose acknowledged events, unless overridden; development mode warns.

use std::time::Duration;

use auditlog_api::durability::unsafe_settings;
use auditlog_tests::Backend;
use auditlog_tests::process::ServerProcess;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database};

use super::{SERVER, get};

/// Runs the binary to completion (it must refuse to start); exit code and stderr.
async fn run_to_exit(database_url: &str, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = tokio::process::Command::new(SERVER);
    command
        .env("DATABASE_URL", database_url)
        .env("AUDITLOG_LISTEN", "127.0.0.1:0")
        .env("AUDITLOG_METRICS_LISTEN", "127.0.0.1:0")
        .env("AUDITLOG_IN_PROCESS_PURGE", "false")
        .kill_on_drop(true);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("the server exits within 60 s")
        .expect("run the server");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_production_mode_refuses_fsync_off_unless_overridden() {
    let database = Backend::Postgres.create_database().await;
    let db = auditlog_tests::database::connect(&database.url).await;
    let found = unsafe_settings(&db).await.expect("read the settings");
    if std::env::var(auditlog_tests::postgres::DATABASE_URL_ENV).is_err() {
        // The harness's throwaway cluster runs with fsync and synchronous_commit off.
        let names: Vec<&str> = found.iter().map(|setting| setting.setting).collect();
        assert_eq!(
            names,
            ["PostgreSQL fsync", "PostgreSQL synchronous_commit"],
            "{found:?}"
        );
    }
    if found.is_empty() {
        return; // An external server with safe settings: nothing to refuse.
    }

    let (code, stderr) = run_to_exit(
        &database.url,
        &[("AUDITLOG_ALLOW_UNSAFE_DURABILITY", "false")],
    )
    .await;
    assert_eq!(code, Some(1), "{stderr}");
    for needle in [
        "refusing to start in production mode",
        "fsync",
        "AUDITLOG_ALLOW_UNSAFE_DURABILITY=true",
    ] {
        assert!(stderr.contains(needle), "`{needle}` missing from: {stderr}");
    }

    // With the override, and in development mode, it starts (with a warning).
    for env in [
        vec![("AUDITLOG_ALLOW_UNSAFE_DURABILITY", "true")],
        vec![
            ("AUDITLOG_ALLOW_UNSAFE_DURABILITY", "false"),
            ("AUDITLOG_ENV", "development"),
        ],
    ] {
        let server = ServerProcess::start(SERVER, &database.url, &env).await;
        let (ready, _) = get(&super::client(&server), "/readyz").await;
        assert_eq!(ready, 200, "{env:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_synchronous_below_full_in_wal_mode_is_refused() {
    let database = Backend::Sqlite.create_database().await;
    // The service's own pool: WAL with synchronous=FULL, which is safe.
    let safe = auditlog_tests::database::connect(&database.url).await;
    assert_eq!(unsafe_settings(&safe).await.expect("settings"), []);
    let _ = safe.close().await;
    // An operator override to NORMAL (not expressible in the URL, so set here
    // the way a pool option would).
    let mut options = ConnectOptions::new(database.url.clone());
    options.max_connections(1).map_sqlx_sqlite_opts(|options| {
        options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
    });
    let normal = Database::connect(options).await.expect("connect");
    let found = unsafe_settings(&normal).await.expect("settings");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].setting, "SQLite synchronous (WAL mode)");
    assert_eq!(found[0].value, "NORMAL");
    let _ = normal.close().await;

    // Production mode on SQLite starts: the service sets FULL itself.
    let server = ServerProcess::start(
        SERVER,
        &database.url,
        &[("AUDITLOG_ALLOW_UNSAFE_DURABILITY", "false")],
    )
    .await;
    let (ready, _) = get(&super::client(&server), "/readyz").await;
    assert_eq!(ready, 200);
}
