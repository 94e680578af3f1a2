//! [`spawn_app`] and [`TestApp`]: the real server on a fresh database, and a
//! [`Client`] for it (which a `TestApp` derefs to, so `app.record(…)` and
//! `app.address` work on it directly).

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

use auditlog_api::config::{LimitsConfig, MetricsListen, Settings};
use auditlog_api::startup::Application;
use tokio::task::JoinHandle;

use crate::backend::{Backend, TestDatabase};
use crate::client::Client;
use crate::postgres::ReplicatedCluster;

/// A running server and a [`Client`] for it. Dropping it stops the server and
/// deletes a SQLite database.
pub struct TestApp {
    /// The client of this server (its address, operator token and HTTP pool).
    pub api: Client,
    /// Base URL of the metrics listener (`AUDITLOG_METRICS_LISTEN`, a free
    /// port in tests), e.g. `http://127.0.0.1:41235`; `None` when turned off.
    pub metrics_address: Option<String>,
    pub backend: Backend,
    server: JoinHandle<()>,
    /// The primary and hot standby of [`spawn_app_with_standby`].
    replication: Option<Arc<ReplicatedCluster>>,
    /// Declared last so it is dropped after the server task is aborted.
    _database: TestDatabase,
}

/// Starts the application on a fresh database of `backend`, on a free port.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// [`spawn_app`] with settings adjusted by `configure` (after the test defaults).
pub async fn spawn_app_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let database = backend.create_database().await;
    spawn_on(backend, database, None, configure).await
}

/// Starts the application on `database`, made (and perhaps partly migrated
/// and filled) by the test itself, as an upgrade finds it: the application
/// migrates the rest.
pub async fn spawn_app_on(backend: Backend, database: TestDatabase) -> TestApp {
    spawn_on(backend, database, None, |_| {}).await
}

/// [`spawn_app_with`] on a PostgreSQL primary of the test's own with a hot
/// standby, which is `AUDITLOG_READ_DATABASE_URL` (as the service's role);
/// [`TestApp::replication`] pauses, resumes, stops and starts it.
pub async fn spawn_app_with_standby(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let replication = Arc::new(ReplicatedCluster::start().await);
    let database = TestDatabase::on_postgres(replication.primary_urls());
    let standby_url = replication.standby_url();
    spawn_on(
        Backend::Postgres,
        database,
        Some(replication),
        |settings: &mut Settings| {
            settings.read_replica.read_database_url = Some(standby_url.into());
            configure(settings);
        },
    )
    .await
}

async fn spawn_on(
    backend: Backend,
    database: TestDatabase,
    replication: Option<Arc<ReplicatedCluster>>,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let operator_token = format!("operator-{}", uuid::Uuid::new_v4().simple());
    let mut settings = test_settings(&database, &operator_token);
    configure(&mut settings);
    let (address, metrics_address, server) = start(backend, &database.url, settings).await;
    TestApp {
        api: Client::new(address, operator_token),
        metrics_address,
        backend,
        server,
        replication,
        _database: database,
    }
}

/// The harness's settings for a server on `database` (before a test's own).
fn test_settings(database: &TestDatabase, operator_token: &str) -> Settings {
    let mut settings = Settings::for_database(database.url.clone());
    // Migrations run as the schema owner; the service as its own role.
    settings.database_roles.migration_database_url = Some(database.owner_url.clone().into());
    settings.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    // `/metrics` lives on its own listener, on a free port of its own.
    settings.metrics.metrics_listen = MetricsListen::At(SocketAddr::from(([127, 0, 0, 1], 0)));
    settings.operator_token = Some(operator_token.to_owned().into());
    // No purge on a wall-clock schedule in tests: retention tests run passes
    // explicitly (or turn the in-process scheduler on with a schedule of their own).
    settings.in_process_purge = false;
    // Likewise tree heads: the integrity tests sign them explicitly.
    settings.in_process_tree_heads = false;
    // And log streams: the stream tests turn delivery on (`tests/api/streams`).
    settings.in_process_streams = false;
    // Every test talks from 127.0.0.1, most with one key, as fast as it can:
    // rate limits, quotas and WebSocket caps are off unless a test sets them
    // (`tests/api/limits/`). Timeouts keep their defaults.
    settings.limits = LimitsConfig::unlimited();
    // Likewise the connection caps (`tests/api/connections.rs` sets them);
    // the header-read and keep-alive timeouts keep their defaults.
    settings.connections.max_connections = 0;
    settings.connections.max_connections_per_ip = 0;
    // The throwaway cluster runs with fsync and synchronous_commit off for
    // speed; the durability tests turn this back off.
    settings.allow_unsafe_durability = true;
    settings
}

/// Builds and runs the application: its address, its metrics address, its task.
async fn start(
    backend: Backend,
    database_url: &str,
    settings: Settings,
) -> (String, Option<String>, JoinHandle<()>) {
    let application = Application::build(settings).await.unwrap_or_else(|e| {
        panic!("cannot build the application on {backend} ({database_url}): {e:#}")
    });
    let address = format!("http://{}", application.local_addr());
    let metrics_address = application
        .metrics_addr()
        .map(|address| format!("http://{address}"));
    let server = tokio::spawn(async move {
        if let Err(e) = application.run_until_stopped().await {
            eprintln!("the server under test stopped with an error: {e:#}");
        }
    });
    (address, metrics_address, server)
}

/// Another server on a [`TestApp`]'s database (a replica of the service, with
/// the same operator token), from [`TestApp::spawn_replica`]. Derefs to its
/// [`Client`]; dropping it stops it (the database stays the app's).
pub struct Replica {
    pub api: Client,
    server: JoinHandle<()>,
}

impl Deref for Replica {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.api
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Deref for TestApp {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.api
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestApp {
    /// Starts another server on this app's database, with the harness's
    /// settings adjusted by `configure` (as for [`spawn_app_with`]): a second
    /// replica of the service.
    pub async fn spawn_replica(&self, configure: impl FnOnce(&mut Settings)) -> Replica {
        let mut settings = test_settings(&self._database, &self.api.operator_token);
        configure(&mut settings);
        let (address, _, server) = start(self.backend, &self._database.url, settings).await;
        Replica {
            api: self.api.at(address),
            server,
        }
    }

    /// The `/metrics` text from the metrics listener (the recorder is shared by
    /// every app of the test process, so counts are lower bounds).
    pub async fn metrics(&self) -> String {
        let Some(base) = &self.metrics_address else {
            panic!("this app was started without a metrics listener");
        };
        let response = self
            .client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET /metrics failed: {e}"));
        assert_eq!(response.status(), reqwest::StatusCode::OK, "GET /metrics");
        response.text().await.unwrap_or_default()
    }

    /// The URL of this app's own database as the service connects (on PostgreSQL
    /// its own role, bound by row-level security), for tests that start more
    /// processes on it.
    pub fn database_url(&self) -> &str {
        &self._database.url
    }

    /// The schema owner's URL of this app's database (same as
    /// [`TestApp::database_url`] on SQLite).
    pub fn owner_database_url(&self) -> &str {
        &self._database.owner_url
    }

    /// The primary and standby of an app from [`spawn_app_with_standby`].
    pub fn replication(&self) -> &ReplicatedCluster {
        match &self.replication {
            Some(replication) => replication,
            None => panic!("this app was started without a standby (spawn_app_with_standby)"),
        }
    }

    /// A superuser's URL of this app's database, for raw SQL across tenants
    /// (same as [`TestApp::database_url`] on SQLite).
    pub fn superuser_database_url(&self) -> &str {
        &self._database.superuser_url
    }
}
