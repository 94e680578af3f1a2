//! The one `LISTEN` connection per process on PostgreSQL.
//!
//! Writers notify after their COMMIT (`store::events::notify`, payload
//! `<tenant>:<sequence>`), in this process or another one. This task turns notifications into [`Hub::notify`] calls. When the connection
//! drops it reconnects with backoff and then resyncs every feed from the
//! database, so events committed during the outage are still delivered.

use std::time::Duration;

use crate::store::events::notify::{CHANNEL, parse_payload};
use sea_orm::sqlx::postgres::PgListener;
use tokio::task::JoinHandle;

use super::Hub;

/// The notification channel shared by every replica and the worker.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often feeds are re-read even without notifications, to repair a NOTIFY
/// lost between a writer's commit and its notification (writer crash).
const RESYNC_EVERY: Duration = Duration::from_secs(2);

pub fn spawn(database_url: String, hub: Hub) -> JoinHandle<()> {
    tokio::spawn(periodic_resync(hub.clone()));
    tokio::spawn(async move {
        let shutdown = hub.shutdown_token();
        let mut backoff = Duration::from_millis(100);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = listen_until_lost(&database_url, &hub, &mut backoff) => {}
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    })
}

async fn periodic_resync(hub: Hub) {
    let shutdown = hub.shutdown_token();
    let mut ticks = tokio::time::interval(RESYNC_EVERY);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticks.tick() => hub.resync_all().await,
        }
    }
}

/// Listens until the connection is lost or cannot be made.
async fn listen_until_lost(database_url: &str, hub: &Hub, backoff: &mut Duration) {
    let mut listener = match PgListener::connect(database_url).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::warn!(error = %error, "live events: cannot connect the LISTEN connection; retrying");
            return;
        }
    };
    if let Err(error) = listener.listen(CHANNEL).await {
        tracing::warn!(error = %error, "live events: LISTEN failed; retrying");
        return;
    }
    tracing::info!(
        channel = CHANNEL,
        "live events: listening for notifications"
    );
    *backoff = Duration::from_millis(100);
    // Anything committed while we were not listening is fetched now.
    hub.resync_all().await;
    loop {
        // `try_recv` is not cancellation-safe, so it is never raced in a select
        // here; the periodic resync runs in its own task.
        match listener.try_recv().await {
            Ok(Some(notification)) => match parse_payload(notification.payload()) {
                Some((tenant_id, sequence)) => hub.notify(tenant_id, sequence).await,
                None => tracing::warn!(
                    payload = notification.payload(),
                    "live events: ignoring a malformed notification"
                ),
            },
            Ok(None) => {
                tracing::warn!("live events: LISTEN connection lost; reconnecting");
                return;
            }
            Err(error) => {
                tracing::warn!(error = %error, "live events: LISTEN connection failed; reconnecting");
                return;
            }
        }
    }
}
