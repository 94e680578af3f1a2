//! [`Hub`]: one feed per tenant with live subscribers in this process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use entity::audit_events;
use sea_orm::DatabaseConnection;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::store::{self, StoreError};

/// Rows fetched per query when a feed catches up.
const FETCH_BATCH: u64 = 1000;

#[derive(Clone, Copy, Debug)]
pub struct HubSettings {
    /// Events buffered per tenant feed; a subscriber further behind is ended.
    pub subscriber_buffer: usize,
}

impl Default for HubSettings {
    fn default() -> Self {
        Self {
            subscriber_buffer: 4096,
        }
    }
}

#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    settings: HubSettings,
    feeds: Mutex<HashMap<Uuid, Arc<Feed>>>,
    /// Cancelled at shutdown: every live stream then ends cleanly.
    shutdown: CancellationToken,
    /// Revocations and retention changes, for open sockets.
    changes: super::Changes,
}

struct Feed {
    sender: broadcast::Sender<Arc<audit_events::Model>>,
    /// Highest sequence broadcast so far. The async mutex also serializes
    /// fetches, so one tenant's rows are broadcast once and in order.
    last_fetched: tokio::sync::Mutex<i64>,
}

/// A registered live subscriber: `receiver` gets every event after `live_from`.
pub struct Registration {
    pub receiver: broadcast::Receiver<Arc<audit_events::Model>>,
    /// The tenant's committed counter when the subscriber registered.
    pub committed_at_registration: i64,
}

impl Hub {
    pub fn new(db: DatabaseConnection, settings: HubSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                settings,
                feeds: Mutex::new(HashMap::new()),
                shutdown: CancellationToken::new(),
                changes: super::Changes::default(),
            }),
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    /// Where revocations and retention changes of this process are announced.
    pub fn changes(&self) -> &super::Changes {
        &self.inner.changes
    }

    /// Ends every live stream of this process (graceful shutdown).
    pub fn shutdown(&self) {
        self.inner.shutdown.cancel();
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.inner.shutdown.clone()
    }

    /// Events a subscriber may fall behind before it is ended.
    pub fn buffer_size(&self) -> usize {
        self.inner.settings.subscriber_buffer
    }

    /// Registers a subscriber of `tenant_id`'s events. Every event committed
    /// after the returned `committed_at_registration` reaches the receiver.
    pub async fn register(&self, tenant_id: Uuid) -> Result<Registration, StoreError> {
        // Read the counter *before* looking up the feed: a feed created now starts
        // at this value or later, and anything later is also replayed by the
        // subscriber from the database, so nothing falls between the two.
        let txn = store::tenant_scope::begin(&self.inner.db, tenant_id).await?;
        let committed = store::events::committed_sequence(&txn, tenant_id).await?;
        txn.commit().await?;
        // Subscribe while holding the map lock: a feed with no receivers is
        // removed by `feed()` under the same lock, so it can never be dropped
        // between its creation here and our subscription (which would close
        // the receiver at once).
        let receiver = {
            let mut feeds = self.lock_feeds();
            feeds
                .entry(tenant_id)
                .or_insert_with(|| {
                    let (sender, _) = broadcast::channel(self.inner.settings.subscriber_buffer);
                    Arc::new(Feed {
                        sender,
                        last_fetched: tokio::sync::Mutex::new(committed),
                    })
                })
                .sender
                .subscribe()
        };
        Ok(Registration {
            receiver,
            committed_at_registration: committed,
        })
    }

    /// A writer of this process committed events of `tenant_id` up to
    /// `last_sequence`: deliver them here, and tell the other processes (on
    /// PostgreSQL, with a NOTIFY sent after the commit so it never holds up
    /// other tenants' commits). A lost NOTIFY is repaired by the listener's
    /// periodic resync.
    pub async fn published(&self, tenant_id: Uuid, last_sequence: i64) {
        self.notify(tenant_id, last_sequence).await;
        if let Err(error) =
            store::events::notify::committed(&self.inner.db, tenant_id, last_sequence).await
        {
            tracing::warn!(tenant_id = %tenant_id, error = %error, "cannot NOTIFY other processes; their periodic resync will deliver");
        }
    }

    /// Events of `tenant_id` up to `up_to` are committed: broadcast the new ones.
    /// Without local subscribers of the tenant this costs a map lookup.
    pub async fn notify(&self, tenant_id: Uuid, up_to: i64) {
        let Some(feed) = self.feed(tenant_id) else {
            return;
        };
        if let Err(error) = self.catch_up(tenant_id, &feed, Some(up_to)).await {
            tracing::warn!(tenant_id = %tenant_id, error = %error, "live feed could not fetch new events; will retry on the next notification");
        }
    }

    /// Re-reads every feed from the database; used after notifications may have
    /// been lost (listener reconnect).
    pub async fn resync_all(&self) {
        let feeds: Vec<(Uuid, Arc<Feed>)> = self
            .lock_feeds()
            .iter()
            .map(|(tenant, feed)| (*tenant, feed.clone()))
            .collect();
        for (tenant_id, feed) in feeds {
            if let Err(error) = self.catch_up(tenant_id, &feed, None).await {
                tracing::warn!(tenant_id = %tenant_id, error = %error, "live feed resync failed");
            }
        }
    }

    /// Number of live subscribers in this process (all tenants).
    pub fn subscriber_count(&self) -> usize {
        self.lock_feeds()
            .values()
            .map(|feed| feed.sender.receiver_count())
            .sum()
    }

    fn feed(&self, tenant_id: Uuid) -> Option<Arc<Feed>> {
        let mut feeds = self.lock_feeds();
        let feed = feeds.get(&tenant_id)?.clone();
        if feed.sender.receiver_count() == 0 {
            feeds.remove(&tenant_id);
            return None;
        }
        Some(feed)
    }

    /// Broadcasts every committed event after the feed's position. Reading all
    /// that is committed (not just up to the notified sequence) coalesces bursts:
    /// later notifications then find nothing new. Sequences commit in order per
    /// tenant, so what one statement sees is gapless.
    async fn catch_up(
        &self,
        tenant_id: Uuid,
        feed: &Feed,
        up_to: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut last = feed.last_fetched.lock().await;
        if up_to.is_some_and(|up_to| up_to <= *last) {
            return Ok(());
        }
        loop {
            let txn = store::tenant_scope::begin(&self.inner.db, tenant_id).await?;
            let rows =
                store::events::after_sequence(&txn, tenant_id, *last, None, None, FETCH_BATCH)
                    .await?;
            txn.commit().await?;
            let fetched = rows.len() as u64;
            for row in rows {
                *last = row.sequence;
                // No receivers is fine: the feed is dropped on the next lookup.
                let _ = feed.sender.send(Arc::new(row));
            }
            if fetched < FETCH_BATCH {
                return Ok(());
            }
        }
    }

    fn lock_feeds(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<Feed>>> {
        // A poisoned map only means a panic elsewhere while holding the lock; the
        // map itself is always consistent (single inserts and removals).
        self.inner
            .feeds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The in-process purge reports its `retention.purge` events here, like any
/// other writer of this process.
#[async_trait::async_trait]
impl auditlog_worker::purge::Published for Hub {
    async fn published(&self, tenant_id: Uuid, last_sequence: i64) {
        Hub::published(self, tenant_id, last_sequence).await;
    }
}
