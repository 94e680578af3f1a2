//! `Query`: reads of the caller's tenant (ADMIN and AUDITOR).

use async_graphql::{Context, ID, Object, Result};
use uuid::Uuid;

use super::context::ContextExt;
use super::inputs::AuditEventFilter;
use super::pagination::{AuditEventConnection, PageArgs};
use super::types::{ActorCount, ApiKey, AuditEvent, AuditEventFacets, Tenant, ValueCount};
use crate::domain::{Role, clock};
use crate::error::{ApiError, ApiResult};
use crate::store;

/// Roles that may read a tenant's log and settings.
pub const READERS: &[Role] = &[Role::Admin, Role::Auditor];

pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// The caller's audit log, newest first, as a Relay connection.
    #[graphql(complexity = "super::complexity::page(first, last, child_complexity)")]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<AuditEventFilter>,
    ) -> Result<AuditEventConnection> {
        let caller = ctx.principal().tenant(READERS)?;
        let services = ctx.services();
        let mut filter = filter.unwrap_or_default().into_domain()?;
        filter.retained_since = caller.retention.cutoff(clock::now());
        let plan = PageArgs {
            first,
            after,
            last,
            before,
        }
        .plan(&services.cursors, caller.tenant_id)?;
        let txn = store::tenant_scope::begin(&services.db, caller.tenant_id)
            .await
            .map_err(ApiError::from)?;
        let budget = ctx.response_budget();
        let rows = store::events::page(&txn, caller.tenant_id, &filter, &plan.page, &budget)
            .await
            .map_err(ApiError::from)?;
        txn.commit().await.map_err(ApiError::from)?;
        Ok(plan.connection(rows, &services.cursors, caller.tenant_id)?)
    }

    /// One event by its shareable id; null if absent, expired or another tenant's.
    async fn audit_event(&self, ctx: &Context<'_>, id: ID) -> Result<Option<AuditEvent>> {
        let caller = ctx.principal().tenant(READERS)?;
        let id = parse_uuid("id", &id)?;
        let retained_since = caller.retention.cutoff(clock::now());
        let txn = store::tenant_scope::begin(&ctx.services().db, caller.tenant_id)
            .await
            .map_err(ApiError::from)?;
        let row = store::events::find_by_id(&txn, caller.tenant_id, id, retained_since)
            .await
            .map_err(ApiError::from)?;
        txn.commit().await.map_err(ApiError::from)?;
        if let Some(row) = &row {
            ctx.response_budget()
                .charge(store::events::stored_size(row))
                .map_err(ApiError::from)?;
        }
        Ok(row.map(AuditEvent::try_from).transpose()?)
    }

    /// Distinct actions and actors with counts, most frequent first (at most 200 each).
    async fn audit_event_facets(&self, ctx: &Context<'_>) -> Result<AuditEventFacets> {
        let caller = ctx.principal().tenant(READERS)?;
        let retained_since = caller.retention.cutoff(clock::now());
        let txn = store::tenant_scope::begin(&ctx.services().db, caller.tenant_id)
            .await
            .map_err(ApiError::from)?;
        let actions = store::events::action_facets(&txn, caller.tenant_id, retained_since)
            .await
            .map_err(ApiError::from)?;
        let actors = store::events::actor_facets(&txn, caller.tenant_id, retained_since)
            .await
            .map_err(ApiError::from)?;
        txn.commit().await.map_err(ApiError::from)?;
        Ok(AuditEventFacets {
            actions: actions
                .into_iter()
                .map(|f| ValueCount {
                    value: f.value,
                    count: f.count,
                })
                .collect(),
            actors: actors
                .into_iter()
                .map(|f| ActorCount {
                    id: f.id,
                    name: f.name,
                    count: f.count,
                })
                .collect(),
        })
    }

    /// The caller's tenant.
    async fn tenant(&self, ctx: &Context<'_>) -> Result<Tenant> {
        let caller = ctx.principal().tenant(READERS)?;
        let txn = store::tenant_scope::begin(&ctx.services().db, caller.tenant_id)
            .await
            .map_err(ApiError::from)?;
        let row = store::tenants::find_by_id(&txn, caller.tenant_id)
            .await
            .map_err(ApiError::from)?;
        txn.commit().await.map_err(ApiError::from)?;
        let row = row.ok_or_else(|| {
            ApiError::Unauthenticated("the tenant of this key no longer exists".into())
        })?;
        Ok(Tenant::from_row(row, &ctx.services().retention)?)
    }

    /// The tenant's API keys (never their secrets), oldest first.
    #[graphql(complexity = "super::complexity::unpaged_list(child_complexity)")]
    async fn api_keys(&self, ctx: &Context<'_>) -> Result<Vec<ApiKey>> {
        let caller = ctx.principal().tenant(READERS)?;
        let txn = store::tenant_scope::begin(&ctx.services().db, caller.tenant_id)
            .await
            .map_err(ApiError::from)?;
        let rows = store::api_keys::list(&txn, caller.tenant_id)
            .await
            .map_err(ApiError::from)?;
        txn.commit().await.map_err(ApiError::from)?;
        Ok(rows
            .into_iter()
            .map(|row| ApiKey::from_row(row, &caller.tenant_slug))
            .collect::<ApiResult<Vec<_>>>()?)
    }
}

/// Parses a GraphQL `ID` that must be a UUID.
pub fn parse_uuid(argument: &str, id: &ID) -> ApiResult<Uuid> {
    Uuid::parse_str(id.as_str()).map_err(|_| {
        // Quote no more of the input than a UUID's length: the message may be
        // repeated once per alias.
        let shown: String = id.as_str().chars().take(40).collect();
        let more = if shown.len() < id.as_str().len() {
            "…"
        } else {
            ""
        };
        ApiError::bad_input(format!("`{argument}` must be a UUID, got {shown:?}{more}"))
    })
}
