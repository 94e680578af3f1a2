//! [`LazyViewerKeys`]: the key ring, loaded on first use rather than at start,
//! so a service started before its schema is migrated (`AUDITLOG_AUTO_MIGRATE=false`)
//! still starts and reports "not ready" instead of exiting. The first use
//! after the migration loads it; a failed load is tried again next time.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::OnceCell;

use super::{KeyRingError, ViewerSigningKey, ViewerTokenKeys};
use crate::domain::clock;

#[derive(Clone)]
pub(crate) struct LazyViewerKeys {
    loaded: Arc<OnceCell<ViewerTokenKeys>>,
    db: DatabaseConnection,
    configured: Option<ViewerSigningKey>,
}

impl LazyViewerKeys {
    pub(crate) fn new(db: DatabaseConnection, configured: Option<ViewerSigningKey>) -> Self {
        Self {
            loaded: Arc::new(OnceCell::new()),
            db,
            configured,
        }
    }

    /// The ring, loading it if this is the first use.
    pub(crate) async fn get(&self) -> Result<&ViewerTokenKeys, KeyRingError> {
        self.loaded
            .get_or_try_init(|| {
                ViewerTokenKeys::load(self.db.clone(), self.configured.clone(), clock::now())
            })
            .await
    }
}
