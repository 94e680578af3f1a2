//! [`Application`]: connect, migrate, bind, serve — shared by `main` and the tests.

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

use crate::auth::Authenticator;
use crate::config::Settings;
use crate::domain::secret::random_alphanumeric;
use crate::graphql::cursor::CursorCodec;
use crate::graphql::{SchemaLimits, Services, build_schema};
use crate::http::{AppState, router};
use crate::live::{Hub, HubSettings, pg_listener};
use crate::{db, store};
use sea_orm::DbBackend;

/// How long shutdown waits for WebSocket connections to close.
const WEBSOCKET_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

pub struct Application {
    listener: TcpListener,
    router: Router,
    /// Shut down with the server so live subscriptions complete cleanly.
    live: Hub,
    websockets: TaskTracker,
}

impl Application {
    /// Everything up to a bound socket, so callers know the port before serving
    /// (`127.0.0.1:0` picks a free one).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = db::connect(&settings).await?;
        if settings.auto_migrate {
            db::migrate(&db).await?;
        }
        let cursor_key = match settings.cursor_key.clone() {
            Some(key) if !key.is_empty() => key,
            _ => store::instance::cursor_signing_key(&db, random_alphanumeric(48))
                .await
                .context("reading the cursor signing key (is the schema migrated?)")?,
        };
        let live = Hub::new(
            db.clone(),
            HubSettings {
                subscriber_buffer: settings.subscriber_buffer.max(1),
            },
        );
        let websockets = TaskTracker::new();
        if db.get_database_backend() == DbBackend::Postgres {
            pg_listener::spawn(settings.database_url.clone(), live.clone());
        }
        let schema = build_schema(
            Services {
                db: db.clone(),
                cursors: CursorCodec::new(&cursor_key),
                live: live.clone(),
            },
            SchemaLimits::default(),
        );
        let state = AppState {
            schema,
            authenticator: Authenticator::new(db.clone(), settings.operator_token.clone()),
            db,
            graphiql: settings.graphiql,
            live: live.clone(),
            websockets: websockets.clone(),
            ws_init_timeout: std::time::Duration::from_secs(settings.ws_init_timeout_secs),
        };
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        Ok(Self {
            listener,
            router: router(state),
            live,
            websockets,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        // A bound listener always has a local address; fall back to unspecified.
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// Serves until SIGTERM or Ctrl-C, then finishes in-flight requests.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let live = self.live.clone();
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(async move {
                shutdown_signal().await;
                // Ends live streams: WebSocket operations send `complete`, then close 1001.
                live.shutdown();
            })
            .await
            .context("HTTP server failed")?;
        // WebSocket connections are closing (their streams ended); let them finish.
        self.websockets.close();
        if tokio::time::timeout(WEBSOCKET_GRACE, self.websockets.wait())
            .await
            .is_err()
        {
            tracing::warn!("some WebSocket connections did not close in time");
        }
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(error = %error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
