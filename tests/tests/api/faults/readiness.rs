//! `/readyz` is 200 only when the database answers and every migration of this
//! build is applied; otherwise 503 with a JSON body naming the failing check.
//! `/healthz` answers 200 whenever the process runs.

use auditlog_tests::Backend;
use auditlog_tests::process::ServerProcess;

use super::{SERVER, get};

async fn readiness_waits_for_migrations(backend: Backend) {
    let database = backend.create_database().await;
    // Operators who migrate separately (AUDITLOG_AUTO_MIGRATE=false) may start
    // the service first: it is alive, but not ready.
    let server = ServerProcess::start(
        SERVER,
        &database.url,
        &[
            ("AUDITLOG_AUTO_MIGRATE", "false"),
            (
                "AUDITLOG_CURSOR_KEY",
                "readiness-cursor-key-of-at-least-32-characters",
            ),
            ("AUDITLOG_IN_PROCESS_PURGE", "false"),
        ],
    )
    .await;
    let client = super::client(&server);
    assert_eq!(get(&client, "/healthz").await.0, 200);
    let (status, body) = get(&client, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["failing"], "migrations", "{body}");
    assert_eq!(body["checks"]["database"], "ok", "{body}");
    assert_eq!(body["checks"]["migrations"], "pending", "{body}");

    let db = auditlog_tests::database::connect(&database.owner_url).await;
    auditlog_api::db::migrate(&db).await.expect("migrate");
    let (status, body) = get(&client, "/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready", "{body}");
    // Without AUDITLOG_READ_DATABASE_URL there is no standby to report.
    assert_eq!(body["standby"]["state"], "off", "{body}");
}

auditlog_tests::backend_tests!(readiness_waits_for_migrations);
