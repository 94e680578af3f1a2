//! [`Application`]: connect, migrate, bind, serve — shared by `main` and the tests.

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;

use crate::auth::Authenticator;
use crate::config::Settings;
use crate::domain::secret::random_alphanumeric;
use crate::graphql::cursor::CursorCodec;
use crate::graphql::{SchemaLimits, Services, build_schema};
use crate::http::{AppState, router};
use crate::{db, store};

pub struct Application {
    listener: TcpListener,
    router: Router,
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
        let schema = build_schema(
            Services {
                db: db.clone(),
                cursors: CursorCodec::new(&cursor_key),
            },
            SchemaLimits::default(),
        );
        let state = AppState {
            schema,
            authenticator: Authenticator::new(db.clone(), settings.operator_token.clone()),
            db,
            graphiql: settings.graphiql,
        };
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        Ok(Self {
            listener,
            router: router(state),
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
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("HTTP server failed")
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
