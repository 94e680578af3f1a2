//! `Query`: reads of the caller's tenant (ADMIN and AUDITOR). Each resolver
//! authorizes, converts its arguments and calls `service::reads`, which owns
//! the transaction and the retention cut-off.

use async_graphql::{Context, ID, Object, Result};
use uuid::Uuid;

use super::context::ContextExt;
use super::inputs::AuditEventFilter;
use super::pagination::{AuditEventConnection, PageArgs};
use super::scalars::Count;
use super::types::{ActorCount, ApiKey, AuditEvent, AuditEventFacets, Tenant, ValueCount};
use crate::domain::Role;
use crate::error::{ApiError, ApiResult};
use crate::service::reads::TenantReads;

/// Roles that may read a tenant's log and settings.
pub(super) const READERS: &[Role] = &[Role::Admin, Role::Auditor];

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
        let filter = filter.unwrap_or_default().into_domain()?;
        let plan = PageArgs {
            first,
            after,
            last,
            before,
        }
        .plan(&services.cursors, caller.tenant_id)?;
        let rows = TenantReads::of(&services.db, caller)
            .events_page(filter, &plan.page, &ctx.response_budget())
            .await?;
        Ok(plan.connection(rows, &services.cursors, caller.tenant_id)?)
    }

    /// One event by its shareable id; null if absent, expired or another tenant's.
    async fn audit_event(&self, ctx: &Context<'_>, id: ID) -> Result<Option<AuditEvent>> {
        let caller = ctx.principal().tenant(READERS)?;
        let id = parse_uuid("id", &id)?;
        let row = TenantReads::of(&ctx.services().db, caller)
            .event(id, &ctx.response_budget())
            .await?;
        Ok(row.map(AuditEvent::try_from).transpose()?)
    }

    /// Distinct actions and actors with counts, most frequent first (at most 200 each).
    async fn audit_event_facets(&self, ctx: &Context<'_>) -> Result<AuditEventFacets> {
        let caller = ctx.principal().tenant(READERS)?;
        let facets = TenantReads::of(&ctx.services().db, caller).facets().await?;
        Ok(AuditEventFacets {
            actions: facets
                .actions
                .into_iter()
                .map(|f| ValueCount {
                    value: f.value,
                    count: Count(f.count),
                })
                .collect(),
            actors: facets
                .actors
                .into_iter()
                .map(|f| ActorCount {
                    id: f.id,
                    name: f.name,
                    count: Count(f.count),
                })
                .collect(),
        })
    }

    /// The caller's tenant.
    async fn tenant(&self, ctx: &Context<'_>) -> Result<Tenant> {
        let caller = ctx.principal().tenant(READERS)?;
        let row = TenantReads::of(&ctx.services().db, caller)
            .tenant()
            .await?
            .ok_or_else(|| {
                ApiError::Unauthenticated("the tenant of this key no longer exists".into())
            })?;
        Ok(Tenant::from_row(row, &ctx.services().retention)?)
    }

    /// The tenant's API keys (never their secrets), oldest first.
    #[graphql(complexity = "super::complexity::unpaged_list(child_complexity)")]
    async fn api_keys(&self, ctx: &Context<'_>) -> Result<Vec<ApiKey>> {
        let caller = ctx.principal().tenant(READERS)?;
        let rows = TenantReads::of(&ctx.services().db, caller)
            .api_keys()
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| ApiKey::from_row(row, &caller.tenant_slug))
            .collect::<ApiResult<Vec<_>>>()?)
    }
}

/// Parses a GraphQL `ID` that must be a UUID.
pub(super) fn parse_uuid(argument: &str, id: &ID) -> ApiResult<Uuid> {
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
