//! The storage backends under test, and one fresh, empty database per test.
//!
//! The database is only created here; the application's own auto-migration sets up
//! its schema (as the owner, through `AUDITLOG_MIGRATION_DATABASE_URL`), so the
//! tests also cover migrating an empty database.

use std::fmt;
use std::path::PathBuf;

use uuid::Uuid;

use crate::postgres;

/// Which database the server under test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file (the default deployment).
    Sqlite,
    /// A real PostgreSQL server (production).
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// A database that belongs to one test. A SQLite file is deleted on drop; PostgreSQL
/// databases live until the throwaway cluster is removed at process exit.
#[derive(Debug)]
pub struct TestDatabase {
    /// Connection URL for `DATABASE_URL`: on PostgreSQL, the service's own role.
    pub url: String,
    /// The schema owner's URL, for migrations (the same as `url` on SQLite).
    pub owner_url: String,
    /// A superuser's URL, for raw SQL that must see every tenant (the same as
    /// `url` on SQLite).
    pub superuser_url: String,
    /// The SQLite file to delete (with its `-wal`/`-shm`/`-journal` companions).
    sqlite_file: Option<PathBuf>,
}

impl Backend {
    /// Creates an empty database on this backend.
    pub async fn create_database(self) -> TestDatabase {
        let unique = Uuid::new_v4().simple().to_string();
        match self {
            Backend::Sqlite => {
                let file = std::env::temp_dir().join(format!("auditlog-test-{unique}.db"));
                let url = format!("sqlite://{}?mode=rwc", file.display());
                TestDatabase {
                    owner_url: url.clone(),
                    superuser_url: url.clone(),
                    url,
                    sqlite_file: Some(file),
                }
            }
            Backend::Postgres => {
                let server = tokio::task::spawn_blocking(postgres::server)
                    .await
                    .unwrap_or_else(|e| panic!("starting the PostgreSQL test server failed: {e}"));
                let urls = server.create_database(&format!("t_{unique}")).await;
                TestDatabase::on_postgres(urls)
            }
        }
    }
}

impl TestDatabase {
    /// A PostgreSQL database made elsewhere (e.g. on a
    /// [`postgres::ReplicatedCluster`]), which lives as long as its server.
    pub fn on_postgres(urls: postgres::DatabaseUrls) -> Self {
        TestDatabase {
            url: urls.app,
            owner_url: urls.owner,
            superuser_url: urls.superuser,
            sqlite_file: None,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(file) = &self.sqlite_file else {
            return;
        };
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut path = file.clone().into_os_string();
            path.push(suffix);
            // A companion file that was never created is not an error.
            let _ = std::fs::remove_file(path);
        }
    }
}
