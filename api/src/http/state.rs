//! [`AppState`]: what every handler can reach.

use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;

use sea_orm::DatabaseConnection;
use tokio_util::task::TaskTracker;

use super::browser::BrowserAuth;
use crate::auth::Authenticator;
use crate::auth::viewer_token::LazyViewerKeys;
use crate::graphql::{AuditLogSchema, Executor};
use crate::limits::RequestLimits;
use crate::live::Hub;
use crate::replica::ReadPool;
use crate::service::group_commit::GroupCommit;
use auditlog_worker::tree_heads::TreeHeadSigner;

#[derive(Clone)]
pub struct AppState {
    /// Runs WebSocket operations (with the schema's extensions).
    pub schema: AuditLogSchema,
    /// Runs HTTP requests (see `graphql::Executor`).
    pub(crate) executor: Executor,
    pub authenticator: Authenticator,
    /// The viewer-token key ring: signs and verifies viewer tokens, and is
    /// published at `/.well-known/jwks.json`.
    pub(crate) viewer_keys: LazyViewerKeys,
    pub db: DatabaseConnection,
    /// Where exports read events: the primary, or a hot standby.
    pub(crate) reads: ReadPool,
    /// The group committer of `recordAuditEvents`: exports yield to it.
    pub(crate) ingest: GroupCommit,
    /// Serve GraphiQL to browsers on `GET /graphql`.
    pub graphiql: bool,
    /// Live-event fan-out; its shutdown ends WebSocket subscriptions cleanly.
    pub live: Hub,
    /// A WebSocket must send `connection_init` within this time.
    pub ws_init_timeout: Duration,
    /// How often an open WebSocket re-authenticates its credential
    /// (`AUDITLOG_AUTH_RECHECK_SECS`; API keys and people alike).
    pub ws_auth_recheck: Duration,
    /// Upgraded WebSocket connections, awaited at shutdown (axum's graceful
    /// shutdown no longer sees a connection once it is upgraded).
    pub websockets: TaskTracker,
    /// Browser login, session cookies and their CSRF check; `None` when no
    /// public URL is configured (then no request is cookie-authenticated).
    pub browser: Option<BrowserAuth>,
    /// Request-rate limits, the request timeout and the WebSocket caps.
    pub limits: RequestLimits,
    /// Peers whose `X-Forwarded-For` names the client (`AUDITLOG_TRUSTED_PROXIES`).
    pub trusted_proxies: Arc<[IpNet]>,
    /// Origins a WebSocket upgrade may come from (empty: any); see `ws_origin`.
    pub websocket_origins: Arc<[String]>,
    /// `AUDITLOG_MAX_RESPONSE_BYTES`: the most one response may serialize to.
    pub max_response_bytes: usize,
    /// `AUDITLOG_METRICS_TOKEN`: unlocks `/metrics` on the main port (`None`: no route).
    pub metrics_token: Option<Arc<str>>,
    /// The built-in viewer's mode, sign-in and framing (`http::viewer`).
    pub(crate) viewer: Arc<super::ViewerSettings>,
    /// `/readyz`: database round trip and migration state.
    pub readiness: crate::readiness::Readiness,
    /// Signs tree heads: the one an export's manifest names (and, with
    /// `AUDITLOG_IN_PROCESS_TREE_HEADS`, the scheduled ones).
    pub(crate) tree_heads: TreeHeadSigner,
}
