//! [`TreeHeadSigner`]: one pass over every tenant, signing a head for each
//! whose tree grew since its latest head. Per tenant it is one short
//! transaction reading the counter, the latest head and the O(log n) nodes
//! of the root, then one insert; it locks nothing, so ingest never waits.
//! The keys load on the first pass (the schema may not be migrated when the
//! process starts) and are kept after that.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use entity::domain::merkle::TreeOrigin;
use entity::domain::merkle::head::signed_bytes;
use entity::store::StoreError;
use entity::store::tree::{self, NewHead, StoredHead};
use entity::store::{self as store, registry, tenant_scope};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tokio::sync::{Mutex, OnceCell};
use uuid::Uuid;

use super::{TreeHeadError, TreeHeadKeys};
use crate::domain::clock;
use crate::ed25519::SigningKey;

/// Tenants read per registry page.
const TENANT_PAGE: u64 = 500;

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignPassReport {
    pub tenants: u64,
    pub heads_signed: u64,
    pub tenants_failed: u64,
    pub duration: Duration,
}

/// Cheap to clone; clones share the keys and the one-pass-at-a-time lock.
#[derive(Clone)]
pub struct TreeHeadSigner {
    db: DatabaseConnection,
    configured: Option<SigningKey>,
    keys: Arc<OnceCell<TreeHeadKeys>>,
    running: Arc<Mutex<()>>,
}

impl TreeHeadSigner {
    pub fn new(db: DatabaseConnection, configured: Option<SigningKey>) -> Self {
        Self {
            db,
            configured,
            keys: Arc::new(OnceCell::new()),
            running: Arc::new(Mutex::new(())),
        }
    }

    /// The ring, loaded on first use.
    pub async fn keys(&self) -> Result<&TreeHeadKeys, TreeHeadError> {
        self.keys
            .get_or_try_init(|| TreeHeadKeys::load(&self.db, self.configured.clone(), clock::now()))
            .await
    }

    /// One pass, unless one is already running in this process (`None`).
    pub async fn try_run_pass(&self) -> Option<Result<SignPassReport, TreeHeadError>> {
        let _running = self.running.try_lock().ok()?;
        Some(self.pass().await)
    }

    /// One pass, after any running one.
    pub async fn run_pass(&self) -> Result<SignPassReport, TreeHeadError> {
        let _running = self.running.lock().await;
        self.pass().await
    }

    async fn pass(&self) -> Result<SignPassReport, TreeHeadError> {
        let started = Instant::now();
        let signer = self.keys().await?.signer().clone();
        let mut report = SignPassReport::default();
        let mut after = None;
        loop {
            let page = registry::tenant_ids_after(&self.db, after, TENANT_PAGE).await?;
            let Some(last) = page.last().copied() else {
                break;
            };
            for tenant_id in page {
                report.tenants += 1;
                match sign_if_grown(&self.db, &signer, tenant_id, clock::now()).await {
                    Ok(Some(_)) => report.heads_signed += 1,
                    Ok(None) => {}
                    Err(error) => {
                        report.tenants_failed += 1;
                        tracing::error!(tenant_id = %tenant_id, error = %error, "cannot sign a tree head");
                    }
                }
            }
            after = Some(last);
        }
        report.duration = started.elapsed();
        tracing::info!(
            tenants = report.tenants,
            signed = report.heads_signed,
            failed = report.tenants_failed,
            ms = report.duration.as_millis() as u64,
            "tree-head pass"
        );
        Ok(report)
    }

    /// Signs the tenant's current tree now if it grew; the head stored for
    /// its size.
    pub async fn sign_tenant(&self, tenant_id: Uuid) -> Result<Option<StoredHead>, TreeHeadError> {
        let signer = self.keys().await?.signer().clone();
        sign_if_grown(&self.db, &signer, tenant_id, clock::now()).await
    }

    /// The head of the tree whose last leaf is the event at `sequence` (what
    /// an export up to `sequence` names in its manifest): the stored one, or
    /// one signed now (any size up to the tree's: its root is composed from
    /// stored nodes). `None` when no leaf is that old: an empty log, or
    /// events that all predate the tree (sequence ≤ its origin).
    pub async fn head_through(
        &self,
        tenant_id: Uuid,
        sequence: u64,
    ) -> Result<Option<StoredHead>, TreeHeadError> {
        let signer = self.keys().await?.signer().clone();
        let txn = tenant_scope::begin(&self.db, tenant_id).await?;
        let extent = tree::heads::extent(&txn, tenant_id).await?;
        let size = extent.origin.size_through(sequence);
        if size == 0 {
            txn.commit().await?;
            return Ok(None);
        }
        if let Some(head) = tree::heads::at_size(&txn, tenant_id, size).await? {
            txn.commit().await?;
            return Ok(Some(head));
        }
        if size > extent.size {
            return Err(TreeHeadError::Store(StoreError::Invalid(format!(
                "no head of size {size}: the tree has {} leaves",
                extent.size
            ))));
        }
        let stored = sign(&txn, &signer, tenant_id, extent.origin, size, clock::now()).await?;
        txn.commit().await?;
        Ok(Some(stored))
    }
}

impl TreeHeadSigner {
    /// A head that covers the event at `sequence` (a log stream's batch
    /// ending there): the latest stored head if it is that large, or else
    /// one of exactly that size signed now and not stored (a signed head
    /// needs no row to be verified, and a busy stream would otherwise store
    /// one per batch). `None` when no leaf is that old.
    pub async fn covering_head(
        &self,
        tenant_id: Uuid,
        sequence: u64,
    ) -> Result<Option<StoredHead>, TreeHeadError> {
        let signer = self.keys().await?.signer().clone();
        let txn = store::read_scope::begin_read(&self.db, tenant_id).await?;
        let extent = tree::heads::extent(&txn, tenant_id).await?;
        let size = extent.origin.size_through(sequence).min(extent.size);
        if size == 0 {
            txn.commit().await?;
            return Ok(None);
        }
        if let Some(latest) = tree::heads::latest(&txn, tenant_id).await?
            && latest.tree_size >= size
        {
            txn.commit().await?;
            return Ok(Some(latest));
        }
        let now = clock::now();
        let root_hash = tree::root(&txn, tenant_id, size).await?;
        txn.commit().await?;
        let message = signed_bytes(tenant_id, extent.origin, size, &root_hash, now)
            .map_err(TreeHeadError::Keys)?;
        Ok(Some(StoredHead {
            tree_size: size,
            tree_origin: extent.origin,
            root_hash,
            signed_at: now,
            key_id: signer.kid().to_owned(),
            signature: signer.sign(&message).to_vec(),
        }))
    }
}

/// Signs a head of the tenant's current size unless its latest head has it
/// already (or the tree is empty).
pub async fn sign_if_grown(
    db: &DatabaseConnection,
    signer: &SigningKey,
    tenant_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<StoredHead>, TreeHeadError> {
    let txn = tenant_scope::begin(db, tenant_id).await?;
    let extent = tree::heads::extent(&txn, tenant_id).await?;
    let latest = tree::heads::latest(&txn, tenant_id).await?;
    if extent.size == 0 || latest.is_some_and(|head| head.tree_size >= extent.size) {
        txn.commit().await?;
        return Ok(None);
    }
    let stored = sign(&txn, signer, tenant_id, extent.origin, extent.size, now).await?;
    txn.commit().await?;
    Ok(Some(stored))
}

/// Signs and stores the head of `size` (at most the tree's size) of the
/// tree of `origin` in `txn`; the head stored for that size (another
/// signer's if it won the race).
async fn sign(
    txn: &impl ConnectionTrait,
    signer: &SigningKey,
    tenant_id: Uuid,
    origin: TreeOrigin,
    size: u64,
    now: DateTime<Utc>,
) -> Result<StoredHead, TreeHeadError> {
    let root_hash = tree::root(txn, tenant_id, size).await?;
    let message =
        signed_bytes(tenant_id, origin, size, &root_hash, now).map_err(TreeHeadError::Keys)?;
    let head = NewHead {
        tree_size: size,
        tree_origin: origin,
        root_hash,
        signed_at: now,
        key_id: signer.kid().to_owned(),
        signature: signer.sign(&message).to_vec(),
    };
    Ok(tree::heads::insert(txn, tenant_id, head).await?)
}
