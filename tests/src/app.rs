//! [`spawn_app`] and [`TestApp`]: the real server on a fresh database, and a client
//! for it with one helper per operation (the helpers live in [`operations`]).

mod operations;

use std::net::SocketAddr;
use std::time::Duration;

use auditlog_api::config::{LimitsConfig, Settings};
use auditlog_api::startup::Application;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::backend::{Backend, TestDatabase};
use crate::response::GqlResponse;

pub use operations::{CreatedKey, Page, TenantHandle, str_field};

/// A running server and an HTTP client for it. Dropping it stops the server and
/// deletes a SQLite database.
pub struct TestApp {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub address: String,
    /// The operator token the server was started with (may call `createTenant`).
    pub operator_token: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    server: JoinHandle<()>,
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
    let operator_token = format!("operator-{}", uuid::Uuid::new_v4().simple());

    let mut settings = Settings::for_database(database.url.clone());
    // Migrations run as the schema owner; the service as its own role.
    settings.database_roles.migration_database_url = Some(database.owner_url.clone());
    settings.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    settings.operator_token = Some(operator_token.clone());
    // No purge on a wall-clock schedule in tests: retention tests run passes
    // explicitly (or turn the in-process scheduler on with a schedule of their own).
    settings.in_process_purge = false;
    // Every test talks from 127.0.0.1, most with one key, as fast as it can:
    // rate limits, quotas and WebSocket caps are off unless a test sets them
    // (`tests/api/limits/`). Timeouts keep their defaults.
    settings.limits = LimitsConfig::unlimited();
    // The throwaway cluster runs with fsync and synchronous_commit off for
    // speed; the durability tests turn this back off.
    settings.allow_unsafe_durability = true;
    configure(&mut settings);

    let application = Application::build(settings).await.unwrap_or_else(|e| {
        panic!(
            "cannot build the application on {backend} ({}): {e:#}",
            database.url
        )
    });
    let address = format!("http://{}", application.local_addr());
    let server = tokio::spawn(async move {
        if let Err(e) = application.run_until_stopped().await {
            eprintln!("the server under test stopped with an error: {e:#}");
        }
    });

    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap_or_else(|e| panic!("cannot build the HTTP client: {e}"));
    TestApp {
        address,
        operator_token,
        client,
        backend,
        server,
        _database: database,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestApp {
    /// `POST /graphql` with `{query, variables}` and an optional bearer secret.
    pub async fn graphql(
        &self,
        query: &str,
        variables: Value,
        bearer: Option<&str>,
    ) -> GqlResponse {
        let body = json!({ "query": query, "variables": variables });
        let mut request = self.client.post(self.url("/graphql")).json(&body);
        if let Some(secret) = bearer {
            request = request.bearer_auth(secret);
        }
        GqlResponse::read(
            request
                .send()
                .await
                .unwrap_or_else(|e| panic!("POST /graphql failed: {e}")),
        )
        .await
    }

    /// `POST /graphql` with a raw body and content type, for malformed requests.
    pub async fn post_raw(
        &self,
        body: impl Into<reqwest::Body>,
        content_type: &str,
        bearer: Option<&str>,
    ) -> GqlResponse {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .header("content-type", content_type)
            .body(body);
        if let Some(secret) = bearer {
            request = request.bearer_auth(secret);
        }
        GqlResponse::read(
            request
                .send()
                .await
                .unwrap_or_else(|e| panic!("POST /graphql failed: {e}")),
        )
        .await
    }

    /// `GET path` (with its query string) with an `Accept` header.
    pub async fn get(
        &self,
        path_and_query: &str,
        accept: &str,
        bearer: Option<&str>,
    ) -> GqlResponse {
        let mut request = self
            .client
            .get(self.url(path_and_query))
            .header("accept", accept);
        if let Some(secret) = bearer {
            request = request.bearer_auth(secret);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path_and_query} failed: {e}"));
        GqlResponse::read(response).await
    }

    /// `GET /graphql?query=<document>` with an `Accept` header (GraphQL over GET).
    pub async fn get_graphql(
        &self,
        document: &str,
        accept: &str,
        bearer: Option<&str>,
    ) -> GqlResponse {
        let url = reqwest::Url::parse_with_params(&self.url("/graphql"), [("query", document)])
            .unwrap_or_else(|e| panic!("cannot build a GET /graphql URL: {e}"));
        let mut request = self.client.get(url).header("accept", accept);
        if let Some(secret) = bearer {
            request = request.bearer_auth(secret);
        }
        GqlResponse::read(
            request
                .send()
                .await
                .unwrap_or_else(|e| panic!("GET /graphql failed: {e}")),
        )
        .await
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

    /// A superuser's URL of this app's database, for raw SQL across tenants
    /// (same as [`TestApp::database_url`] on SQLite).
    pub fn superuser_database_url(&self) -> &str {
        &self._database.superuser_url
    }

    /// `ws://…/graphql`, the WebSocket endpoint.
    pub fn ws_url(&self) -> String {
        format!("{}/graphql", self.address.replacen("http://", "ws://", 1))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}
