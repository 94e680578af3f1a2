//! The test harness of auditlog: the integration tests' fixtures and clients,
//! and the benchmarks. Owns nothing the product runs; it is the one crate that
//! may depend on every other (and nothing depends on it).
//!
//! Every test drives the real server over HTTP: [`spawn_app`] builds the
//! production [`auditlog_api::startup::Application`] on a fresh database, binds it to
//! `127.0.0.1:0` and returns a [`TestApp`]. Whatever runs the server (in process,
//! a child process, a replica of the topology test, a bench), tests talk to it
//! through one [`Client`] with one helper per GraphQL operation, sending the
//! documents of [`queries`].
//!
//! # Layout
//! - [`backend`]: the two storage backends and one fresh, empty database per test
//!   (a temporary SQLite file, or a new database on the PostgreSQL server).
//! - [`postgres`]: the PostgreSQL server of this test process: a throwaway cluster
//!   started once from the system's binaries, or `AUDITLOG_TEST_DATABASE_URL`;
//!   and clusters of one test's own (crashed, or replicated to a hot standby).
//! - [`client`]: [`Client`], the typed client of the API of any running server
//!   (in-process or a child process), with one helper per operation.
//! - [`app`]: [`spawn_app`] and [`TestApp`], the in-process server (derefs to its
//!   [`Client`]).
//! - [`response`]: [`GqlResponse`], the status and JSON body of one request.
//! - [`queries`]: the GraphQL documents the helpers send, and every document
//!   more than one test module uses.
//! - [`ws`]: a graphql-transport-ws (and legacy graphql-ws) test client.
//! - [`process`]: the real `auditlog` binary as a child process (multi-process and
//!   signal tests).
//! - [`prometheus`]: reading `/metrics` samples in assertions.
//! - [`database`]: direct database access for retention tests (plant events that
//!   occurred days ago, count what is stored, run purge passes in-process).
//! - [`worker`]: the real `auditlog-worker` binary as a child process.
//! - [`node`]: the npm packages of `tests/node` (graphql-ws reference client,
//!   graphql-http audit suite), installed on first use.
//! - [`schemathesis`]: the GraphQL fuzzer, installed from PyPI into
//!   `target/schemathesis-venv` on first use.
//! - [`receiver`]: a log-stream receiver on Node.js that checks webhook
//!   signatures with the `standardwebhooks` library and answers by script.
//! - [`oidc`]: a real OpenID Provider (`oidc-provider` on Node.js) for the
//!   sign-in tests, a cookie-keeping [`oidc::Browser`], and an app configured for it.
//! - [`backend_tests!`]: runs one `async fn name(backend: Backend)` test on both backends.
//!
//! # Invariants
//! - Tests never share a database: each `spawn_app` gets its own, so tests run in
//!   parallel and assert exact counts.
//! - Nothing is skipped: without PostgreSQL binaries (and without
//!   `AUDITLOG_TEST_DATABASE_URL`) the PostgreSQL tests fail, saying how to install them.
//! - The harness only talks HTTP to the server; only [`database`] touches the
//!   database behind it, for what no API can do (events from days ago).

pub mod app;
pub mod backend;
pub mod client;
pub mod database;
mod macros;
pub mod node;
pub mod oidc;
pub mod postgres;
pub mod process;
pub mod prometheus;
pub mod queries;
pub mod receiver;
pub mod response;
pub mod schemathesis;
pub mod worker;
pub mod ws;

pub use app::{Replica, TestApp, spawn_app, spawn_app_on, spawn_app_with, spawn_app_with_standby};
pub use backend::Backend;
pub use client::{Client, CreatedKey, Page, TenantHandle, str_field};
pub use response::GqlResponse;
