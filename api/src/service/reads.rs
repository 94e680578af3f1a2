//! [`TenantReads`]: every read of a tenant's data, each in one tenant-scoped
//! transaction, with the caller's retention window applied.
//!
//! Resolvers authorize, convert arguments and call one of these; they never
//! open a transaction themselves. Expired events are cut off here, once, from
//! the window the caller was authenticated with, so no read path can forget it;
//! a viewer token's scope is ANDed into every event read here the same way.
//! Events and facets are read through the [`ReadPool`], which may serve them
//! from a hot standby; the tenant row and the keys come from the primary.

use chrono::{DateTime, Utc};
use entity::{api_keys, audit_events, tenants};
use uuid::Uuid;

use crate::auth::TenantCaller;
use crate::domain::clock;
use crate::error::{ApiError, ApiResult};
use crate::replica::ReadPool;
use crate::store::events::{EventFilter, ExportBatch, Facets, Page, PageRows};
use crate::store::{self, ResponseBudget, read_scope};

/// The reads of one caller's tenant.
pub(crate) struct TenantReads<'a> {
    reads: &'a ReadPool,
    tenant_id: Uuid,
    /// Events that occurred before this instant have expired (`None`: legal hold).
    retained_since: Option<DateTime<Utc>>,
    /// The caller's scope (a viewer token's): every event read is narrowed by it.
    scope: Option<&'a EventFilter>,
}

impl<'a> TenantReads<'a> {
    pub(crate) fn of(reads: &'a ReadPool, caller: &'a TenantCaller) -> Self {
        Self {
            reads,
            tenant_id: caller.tenant_id,
            retained_since: caller.retention.cutoff(clock::now()),
            scope: caller.scope(),
        }
    }

    /// The reads of the platform log (`store::platform_log`), kept for the
    /// longest retention `rules` allow.
    pub(crate) fn of_platform_log(
        reads: &'a ReadPool,
        rules: &crate::domain::RetentionRules,
    ) -> Self {
        let (_, longest) = rules.bounds(crate::domain::Plan::Enterprise);
        Self {
            reads,
            tenant_id: store::platform_log::PLATFORM_LOG_TENANT,
            retained_since: Some(clock::now() - longest.duration()),
            scope: None,
        }
    }

    /// One keyset page of events matching `filter`, each row charged to `budget`.
    pub(crate) async fn events_page(
        &self,
        filter: EventFilter,
        page: &Page,
        budget: &ResponseBudget,
    ) -> ApiResult<PageRows> {
        let mut filter = self.narrowed(filter);
        filter.retained_since = self.retained_since;
        let (tenant_id, filter) = (self.tenant_id, &filter);
        self.reads
            .read(|db| async move {
                let txn = read_scope::begin_read(&db, tenant_id).await?;
                let rows = store::events::page(&txn, tenant_id, filter, page, budget).await?;
                txn.commit().await?;
                Ok(rows)
            })
            .await
    }

    /// One retained event by id, charged to `budget`; looked up on the primary
    /// too when a standby does not have it yet. An event outside the caller's
    /// scope is `None`, like another tenant's.
    pub(crate) async fn event(
        &self,
        id: Uuid,
        budget: &ResponseBudget,
    ) -> ApiResult<Option<audit_events::Model>> {
        let (tenant_id, retained_since) = (self.tenant_id, self.retained_since);
        let row = self
            .reads
            .read_found(|db| async move {
                let txn = read_scope::begin_read(&db, tenant_id).await?;
                let row = store::events::find_by_id(&txn, tenant_id, id, retained_since).await?;
                txn.commit().await?;
                Ok(row)
            })
            .await?;
        let row = row.filter(|row| self.scope.is_none_or(|scope| scope.matches(row)));
        if let Some(row) = &row {
            budget.charge(store::events::stored_size(row))?;
        }
        Ok(row)
    }

    /// Distinct actions and actors of the retained events matching `filter`,
    /// with counts (exact without a filter; see `store::events::facets`).
    pub(crate) async fn facets(&self, filter: EventFilter) -> ApiResult<Facets> {
        let mut filter = self.narrowed(filter);
        filter.retained_since = self.retained_since;
        let (tenant_id, filter) = (self.tenant_id, &filter);
        self.reads
            .read(|db| async move {
                let txn = read_scope::begin_read(&db, tenant_id).await?;
                let facets = store::events::facets(&txn, tenant_id, filter).await?;
                txn.commit().await?;
                Ok(facets)
            })
            .await
    }

    /// Events with `after < sequence <= up_to` matching `filter` (within the
    /// caller's scope and retention), oldest first, at most `limit` rows and
    /// about `max_bytes` (see `store::events::export_batch`): one batch of an
    /// export, in its own short transaction. It is read where `up_to` is
    /// committed: a standby that has not replayed that far yet is passed over
    /// for the primary, so a batch never misses an event the export's
    /// snapshot bound promised.
    pub(crate) async fn export_batch(
        &self,
        filter: &EventFilter,
        (after, up_to): (i64, i64),
        limit: u64,
        max_bytes: usize,
    ) -> ApiResult<ExportBatch> {
        let mut filter = self.narrowed(filter.clone());
        filter.retained_since = self.retained_since;
        let (tenant_id, filter) = (self.tenant_id, &filter);
        let batch = self
            .reads
            .read_found(|db| async move {
                let txn = read_scope::begin_read(&db, tenant_id).await?;
                if store::events::committed_sequence(&txn, tenant_id).await? < up_to {
                    txn.commit().await?;
                    return Ok(None);
                }
                let batch = store::events::export_batch(
                    &txn,
                    tenant_id,
                    (after, up_to),
                    filter,
                    limit,
                    max_bytes,
                )
                .await?;
                txn.commit().await?;
                Ok(Some(batch))
            })
            .await?;
        // Even the primary lacks it: the tenant row is gone (deleted since the
        // export started). Ending with an error keeps the export incomplete.
        batch.ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "tenant {tenant_id} has not committed sequence {up_to} on the primary"
            ))
        })
    }

    /// The tenant's last committed sequence, on the primary (0 before its
    /// first event): the snapshot bound of an export starting now.
    pub(crate) async fn last_sequence(&self) -> ApiResult<i64> {
        let txn = read_scope::begin_read(self.reads.primary(), self.tenant_id).await?;
        let last = store::events::committed_sequence(&txn, self.tenant_id).await?;
        txn.commit().await?;
        Ok(last)
    }

    /// `filter` within the caller's scope.
    fn narrowed(&self, filter: EventFilter) -> EventFilter {
        match self.scope {
            Some(scope) => filter.and(scope),
            None => filter,
        }
    }

    /// The tenant row (`None`: deleted since the credential was verified).
    pub(crate) async fn tenant(&self) -> ApiResult<Option<tenants::Model>> {
        let txn = read_scope::begin_read(self.reads.primary(), self.tenant_id).await?;
        let row = store::tenants::find_by_id(&txn, self.tenant_id).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// The tenant's API keys, oldest first.
    pub(crate) async fn api_keys(&self) -> ApiResult<Vec<api_keys::Model>> {
        let txn = read_scope::begin_read(self.reads.primary(), self.tenant_id).await?;
        let rows = store::api_keys::list(&txn, self.tenant_id).await?;
        txn.commit().await?;
        Ok(rows)
    }
}
