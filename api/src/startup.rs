//! [`Application`]: connect, migrate, bind, serve — shared by `main` and the tests.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

use crate::auth::ApiKeyCache;
use crate::auth::oidc::IdentityProvider;
use crate::auth::viewer_token::LazyViewerKeys;
use crate::auth::{Authenticator, People};
use crate::config::{CrossOrigins, MetricsListen, Settings};
use crate::domain::secret::random_alphanumeric;
use crate::graphql::cursor::CursorCodec;
use crate::graphql::{SchemaLimits, Services, build_schema};
use crate::http::browser::BrowserAuth;
use crate::http::serve::{Admission, ConnectionPolicy};
use crate::http::{AppState, router};
use crate::limits::{IngestQuota, RequestLimits};
use crate::live::{Hub, HubSettings, pg_listener};
use crate::replica::ReadPool;
use crate::service::group_commit::GroupCommit;
use crate::service::view_audit::ViewAudit;
use crate::{db, db_roles, shutdown, store};
use auditlog_worker::purge::{PurgeScheduler, PurgeSettings, Purger, unique_holder};
pub use auditlog_worker::signals::shutdown_signal;
use auditlog_worker::streams::StreamRunner;
use auditlog_worker::tree_heads::{TreeHeadScheduler, TreeHeadSigner};
use sea_orm::DbBackend;

pub struct Application {
    listener: TcpListener,
    router: Router,
    /// Timeouts and caps of the main port's connections.
    connections: ConnectionPolicy,
    /// The metrics listener (`AUDITLOG_METRICS_LISTEN`) and its routes; `None`: off.
    metrics: Option<(TcpListener, Router)>,
    /// Shut down with the server so live subscriptions complete cleanly.
    live: Hub,
    websockets: TaskTracker,
    /// The in-process retention purge (`AUDITLOG_IN_PROCESS_PURGE`), stopped
    /// after the server so a pass in flight finishes its batch.
    purge: Option<PurgeScheduler>,
    /// In-process tree-head signing (`AUDITLOG_IN_PROCESS_TREE_HEADS`),
    /// stopped at shutdown.
    tree_heads: Option<TreeHeadScheduler>,
    /// In-process log-stream delivery (`AUDITLOG_IN_PROCESS_STREAMS`),
    /// stopped after the server so the batches in flight finish.
    streams: Option<StreamRunner>,
    /// `AUDITLOG_SHUTDOWN_GRACE_SECS`: how long shutdown waits for in-flight work.
    shutdown_grace: std::time::Duration,
}

impl Application {
    /// Everything up to a bound socket, so callers know the port before serving
    /// (`127.0.0.1:0` picks a free one).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        settings.check_secret_lengths()?;
        // A bad key fails here, before anything connects.
        let viewer_token_key = settings.viewer_tokens.signing_key()?;
        let retention = settings.retention.rules()?;
        // One list for CORS, the WebSocket `Origin` check and the CSRF check.
        let cross_origins = settings.origins.cross_origins()?;
        let frame_ancestors = settings.frame_ancestors.frame_ancestors()?;
        let db = db::connect(&settings).await?;
        crate::durability::check(&db, &settings).await?;
        if settings.auto_migrate {
            db_roles::migrate(&settings, &db).await?;
        }
        db_roles::check(&settings, &db).await?;
        let reads = ReadPool::connect(&settings, db.clone()).await?;
        let cursor_key = match settings.cursor_key.clone() {
            Some(key) if !key.is_empty() => key.expose().to_owned(),
            _ => store::instance::cursor_signing_key(&db, random_alphanumeric(48))
                .await
                .context("reading the cursor signing key (is the schema migrated?)")?,
        };
        let viewer_keys = LazyViewerKeys::new(db.clone(), viewer_token_key);
        let live = Hub::new(
            db.clone(),
            HubSettings {
                subscriber_buffer: settings.subscriber_buffer.max(1),
            },
        );
        let websockets = TaskTracker::new();
        if db.get_database_backend() == DbBackend::Postgres {
            pg_listener::spawn(settings.database_url.expose().to_owned(), live.clone());
        }
        let key_cache = ApiKeyCache::new(std::time::Duration::from_millis(settings.auth_cache_ms));
        let schema_limits =
            SchemaLimits::from_config(&settings.query_limits, settings.introspection_enabled());
        let ingest = GroupCommit::new(db.clone(), live.clone());
        let tree_head_signer =
            TreeHeadSigner::new(db.clone(), settings.tree_heads.configured_key()?);
        let mut stream_config = settings.streams.clone();
        stream_config.allow_plain_http = settings.is_development();
        let stream_rules = stream_config.target_rules();
        let deliverer = stream_config
            .deliverer(
                db.clone(),
                tree_head_signer.clone(),
                Arc::new(live.clone()),
                unique_holder("auditlog"),
                retention,
            )
            .await
            .context("setting up log streams")?;
        if stream_config.stream_secrets_key.is_none() && !settings.is_development() {
            tracing::warn!(
                "AUDITLOG_STREAM_SECRETS_KEY is not set: log streams' destination secrets are encrypted with a key kept in the database"
            );
        }
        let (schema, executor) = build_schema(
            Services {
                db: db.clone(),
                reads: reads.clone(),
                cursors: CursorCodec::new(&cursor_key),
                live: live.clone(),
                retention,
                ingest_quota: IngestQuota::new(
                    settings.limits.team_ingest_per_minute,
                    settings.limits.enterprise_ingest_per_minute,
                ),
                ingest: ingest.clone(),
                key_cache: key_cache.clone(),
                viewer_keys: viewer_keys.clone(),
                view_audit: ViewAudit::new(db.clone(), live.clone(), &settings.view_audit),
                streams: deliverer.clone(),
                streams_plain_http: stream_rules.plain_http_allowed(),
            },
            schema_limits,
        );
        // The login cookie's own key, or (older deployments) one derived from the
        // cursor key under another label (`BrowserAuth::new`).
        let login_cookie_key = settings
            .login_cookie_key
            .as_deref()
            .filter(|key| !key.is_empty())
            .map_or_else(|| cursor_key.clone(), str::to_owned);
        let (people, browser) = sign_in(&settings, &cross_origins, &db, &login_cookie_key)?;
        let viewer = Arc::new(crate::http::ViewerSettings {
            development: settings.is_development(),
            browser_login: browser.is_some(),
            public_origin: settings.oidc.public_origin()?,
            frame_ancestors,
        });
        let state = AppState {
            tree_heads: tree_head_signer.clone(),
            schema,
            executor,
            authenticator: Authenticator::new(
                db.clone(),
                settings.operator_token.as_deref().map(str::to_owned),
                retention,
            )
            .with_people(people)
            .with_key_cache(key_cache)
            .with_viewer_keys(viewer_keys.clone()),
            viewer_keys,
            db: db.clone(),
            reads: reads.clone(),
            ingest,
            graphiql: settings.graphiql_enabled(),
            live: live.clone(),
            websockets: websockets.clone(),
            ws_init_timeout: std::time::Duration::from_secs(settings.ws_init_timeout_secs),
            ws_auth_recheck: std::time::Duration::from_secs(settings.oidc.auth_recheck_secs.max(1)),
            browser,
            limits: RequestLimits::new(&settings.limits),
            trusted_proxies: settings.limits.trusted_proxies()?.into(),
            websocket_origins: settings.oidc.websocket_origins(&cross_origins)?.into(),
            metrics_token: settings.metrics.token().map(Arc::from),
            readiness: crate::readiness::Readiness::new(db.clone())
                .with_standby(reads.standby_health()),
            max_response_bytes: schema_limits.max_response_bytes,
            viewer,
        };
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let metrics = match settings.metrics.metrics_listen {
            MetricsListen::Off => None,
            MetricsListen::At(address) => {
                let metrics_listener = TcpListener::bind(address).await.with_context(|| {
                    format!("cannot listen on {address} for /metrics (AUDITLOG_METRICS_LISTEN)")
                })?;
                Some((
                    metrics_listener,
                    crate::http::metrics::router(state.clone()),
                ))
            }
        };
        let connections = ConnectionPolicy {
            header_read_timeout: settings.connections.header_read_timeout(),
            keep_alive_timeout: settings.connections.keep_alive_timeout(),
            admission: Admission::new(
                settings.connections.max_connections,
                settings.connections.max_connections_per_ip,
                state.trusted_proxies.clone(),
            ),
        };
        let tree_heads = if settings.in_process_tree_heads {
            let schedule = &settings.tree_heads.tree_head_schedule;
            Some(TreeHeadScheduler::start(tree_head_signer, schedule).await?)
        } else {
            None
        };
        let streams = settings.in_process_streams.then(|| {
            StreamRunner::start(
                deliverer,
                std::time::Duration::from_millis(stream_config.stream_poll_ms),
                usize::try_from(stream_config.stream_concurrency).unwrap_or(32),
            )
        });
        let purge = if settings.in_process_purge {
            let purge_settings =
                PurgeSettings::from_config(&settings.retention, &settings.purge, "auditlog")?;
            let purger = Purger::new(db, Arc::new(live.clone()), purge_settings);
            Some(PurgeScheduler::start(purger, &settings.purge.purge_schedule).await?)
        } else {
            None
        };
        Ok(Self {
            listener,
            router: router(state, &cross_origins),
            connections,
            metrics,
            live,
            websockets,
            purge,
            tree_heads,
            streams,
            shutdown_grace: std::time::Duration::from_secs(settings.shutdown_grace_secs),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        // A bound listener always has a local address; fall back to unspecified.
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// Where `/metrics` is served, when its listener is on.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics
            .as_ref()
            .and_then(|(listener, _)| listener.local_addr().ok())
    }

    /// Serves until SIGTERM or Ctrl-C, then stops accepting connections,
    /// finishes in-flight requests (and so their batches), completes live
    /// subscriptions and waits for WebSockets to close, all within the grace
    /// period; past it the process exits anyway with an error (see `shutdown`).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self {
            listener,
            router,
            connections,
            metrics,
            live,
            websockets,
            purge,
            tree_heads,
            streams,
            shutdown_grace: grace,
        } = self;
        let hub = live.clone();
        let (deadline_tx, mut deadline_rx) = tokio::sync::oneshot::channel();
        let serve = crate::http::serve::serve(listener, router, connections.clone(), async move {
            shutdown_signal().await;
            let _ = deadline_tx.send(tokio::time::Instant::now() + grace);
            // Ends live streams: WebSocket operations send `complete`, then close 1001.
            hub.shutdown();
        });
        // The metrics listener runs as long as the main server and is dropped
        // with it (never on its own task, so an aborted server takes it along).
        let metrics = async move {
            let Some((listener, metrics_router)) = metrics else {
                return std::future::pending().await;
            };
            let policy = ConnectionPolicy {
                admission: Admission::new(
                    crate::http::metrics::MAX_CONNECTIONS,
                    0,
                    Arc::from(Vec::new()),
                ),
                ..connections
            };
            crate::http::serve::serve(listener, metrics_router, policy, std::future::pending())
                .await
        };
        let deadline = tokio::select! {
            deadline = shutdown::serve_within_grace(serve, &mut deadline_rx, grace) => deadline?,
            result = metrics => {
                result.context("the /metrics listener failed")?;
                anyhow::bail!("the /metrics listener stopped")
            }
        };
        // WebSocket connections are closing (their streams ended); let them finish.
        websockets.close();
        let websockets_closed = tokio::time::timeout_at(deadline, websockets.wait())
            .await
            .is_ok();
        if let Some(tree_heads) = tree_heads {
            tree_heads.stop().await;
        }
        if let Some(purge) = purge {
            purge.stop().await;
        }
        if let Some(streams) = streams {
            streams.stop().await;
        }
        anyhow::ensure!(
            websockets_closed,
            "shutdown grace period of {} s elapsed with WebSocket connections still open",
            grace.as_secs()
        );
        Ok(())
    }
}

/// Sign-in for people, when an identity provider is configured: the token and
/// session authentication, and the browser login (which needs a public URL).
/// `login_cookie_key` keys the login-flow cookie; all replicas share it.
fn sign_in(
    settings: &Settings,
    cross_origins: &CrossOrigins,
    db: &sea_orm::DatabaseConnection,
    login_cookie_key: &str,
) -> anyhow::Result<(Option<People>, Option<BrowserAuth>)> {
    let Some(oidc) = settings.oidc.settings(cross_origins)? else {
        return Ok((None, None));
    };
    let browser = oidc
        .login
        .clone()
        .map(|login| BrowserAuth::new(login, login_cookie_key))
        .transpose()?;
    let identity_provider = IdentityProvider::new(oidc)?;
    identity_provider.warm_up();
    Ok((Some(People::new(db.clone(), identity_provider)), browser))
}
