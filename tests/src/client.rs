//! [`Client`]: the typed HTTP/GraphQL client of a running auditlog server, wherever
//! it runs — the in-process server of [`crate::spawn_app`] (which [`crate::TestApp`]
//! derefs to), a child process ([`crate::process::ServerProcess::client`]), or a
//! replica of the topology test. One helper per operation lives in [`operations`].
//!
//! The panicking methods (`graphql`, `get`, …) are for tests that expect the server
//! to answer; the `try_*` methods return the transport error instead, for crash
//! tests whose server may be gone mid-request.

mod operations;

use std::time::Duration;

use serde_json::{Value, json};

use crate::response::GqlResponse;

pub use operations::{CreatedKey, Page, TenantHandle, str_field};

/// A client of one server: its base address, the operator token it was started
/// with, and a pooled HTTP client. Cloning is cheap (the pool is shared).
#[derive(Clone, Debug)]
pub struct Client {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub address: String,
    /// The operator token the server was started with (may call `createTenant`);
    /// empty when it has none.
    pub operator_token: String,
    pub client: reqwest::Client,
}

/// How long one request may take before the harness gives up on it.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// The harness's HTTP client: no proxy, and pooled connections given up before the
/// server's keep-alive timeout (5 s) closes them, so no request races a closing
/// connection.
fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_idle_timeout(Duration::from_secs(2))
        .timeout(timeout)
        .build()
        .unwrap_or_else(|e| panic!("cannot build the HTTP client: {e}"))
}

impl Client {
    /// A client of the server at `address` (`http://host:port`).
    pub fn new(address: impl Into<String>, operator_token: impl Into<String>) -> Client {
        Client {
            address: address.into(),
            operator_token: operator_token.into(),
            client: http_client(DEFAULT_TIMEOUT),
        }
    }

    /// The same client with a per-request timeout of `timeout` (a new pool).
    pub fn with_timeout(mut self, timeout: Duration) -> Client {
        self.client = http_client(timeout);
        self
    }

    /// The same pool and operator token, talking to another server (a restarted
    /// process on a new port, another replica).
    pub fn at(&self, address: impl Into<String>) -> Client {
        Client {
            address: address.into(),
            ..self.clone()
        }
    }

    /// `POST /graphql` with `{query, variables}` and an optional bearer secret.
    pub async fn graphql(
        &self,
        query: &str,
        variables: Value,
        bearer: Option<&str>,
    ) -> GqlResponse {
        self.try_graphql(query, variables, bearer)
            .await
            .unwrap_or_else(|e| panic!("POST /graphql failed: {e}"))
    }

    /// [`Client::graphql`] that returns transport errors (refused, reset, timed
    /// out) instead of panicking, for servers that may be down.
    pub async fn try_graphql(
        &self,
        query: &str,
        variables: Value,
        bearer: Option<&str>,
    ) -> Result<GqlResponse, reqwest::Error> {
        self.try_graphql_with_headers(query, variables, bearer, &[])
            .await
    }

    /// [`Client::graphql`] with extra request headers (`x-request-id`, …).
    pub async fn graphql_with_headers(
        &self,
        query: &str,
        variables: Value,
        bearer: Option<&str>,
        headers: &[(&str, &str)],
    ) -> GqlResponse {
        self.try_graphql_with_headers(query, variables, bearer, headers)
            .await
            .unwrap_or_else(|e| panic!("POST /graphql failed: {e}"))
    }

    async fn try_graphql_with_headers(
        &self,
        query: &str,
        variables: Value,
        bearer: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Result<GqlResponse, reqwest::Error> {
        let body = json!({ "query": query, "variables": variables });
        self.try_post_json(&body, bearer, headers).await
    }

    /// `POST /graphql` with any JSON `body` (`operationName`, no `variables`, a
    /// batch, …) and extra request headers (`accept`, …).
    pub async fn post_json(
        &self,
        body: &Value,
        bearer: Option<&str>,
        headers: &[(&str, &str)],
    ) -> GqlResponse {
        self.try_post_json(body, bearer, headers)
            .await
            .unwrap_or_else(|e| panic!("POST /graphql failed: {e}"))
    }

    async fn try_post_json(
        &self,
        body: &Value,
        bearer: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Result<GqlResponse, reqwest::Error> {
        let mut request = self.client.post(self.graphql_url()).json(body);
        if let Some(secret) = bearer {
            request = request.bearer_auth(secret);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        GqlResponse::try_read(request.send().await?).await
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
            .post(self.graphql_url())
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
        self.try_get(path_and_query, accept, bearer)
            .await
            .unwrap_or_else(|e| panic!("GET {path_and_query} failed: {e}"))
    }

    /// [`Client::get`] that returns transport errors instead of panicking.
    pub async fn try_get(
        &self,
        path_and_query: &str,
        accept: &str,
        bearer: Option<&str>,
    ) -> Result<GqlResponse, reqwest::Error> {
        let mut request = self
            .client
            .get(self.url(path_and_query))
            .header("accept", accept);
        if let Some(secret) = bearer {
            request = request.bearer_auth(secret);
        }
        GqlResponse::try_read(request.send().await?).await
    }

    /// `GET /graphql?query=<document>` with an `Accept` header (GraphQL over GET).
    pub async fn get_graphql(
        &self,
        document: &str,
        accept: &str,
        bearer: Option<&str>,
    ) -> GqlResponse {
        self.get_graphql_params(&[("query", document)], accept, bearer)
            .await
    }

    /// `GET /graphql` with these URL parameters (`query`, `operationName`,
    /// `variables`, `extensions`), encoded.
    pub async fn get_graphql_params(
        &self,
        params: &[(&str, &str)],
        accept: &str,
        bearer: Option<&str>,
    ) -> GqlResponse {
        let url = reqwest::Url::parse_with_params(&self.graphql_url(), params)
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

    /// `ws://…/graphql`, the WebSocket endpoint.
    pub fn ws_url(&self) -> String {
        format!("{}/graphql", self.address.replacen("http://", "ws://", 1))
    }

    /// `http://…/graphql`, the GraphQL endpoint.
    pub fn graphql_url(&self) -> String {
        self.url("/graphql")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}
