//! `Query`: reads of the caller's tenant (ADMIN and AUDITOR). Each resolver
//! authorizes, converts its arguments and calls `service::reads`, which owns
//! the transaction and the retention cut-off; reads of events are first
//! recorded as views (`service::view_audit`), once the arguments are valid.

use async_graphql::{Context, ID, InputType, Object, Result};
use uuid::Uuid;

use super::context::ContextExt;
use super::inputs::AuditEventFilter;
use super::pagination::{AuditEventConnection, PageArgs};
use super::types::{ApiKey, AuditEvent, AuditEventFacets, Caller, Tenant};
use crate::domain::Role;
use crate::error::{ApiError, ApiResult};
use crate::service::reads::TenantReads;
use crate::service::view_audit::{ReadField, View};
use crate::store::events::Columns;

/// Roles that may read a tenant's log and settings (the GraphQL reads and
/// the HTTP export).
pub(crate) const READERS: &[Role] = &[Role::Admin, Role::Auditor];

/// The schema's `Query`: the tenant's and the platform's fields.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    TenantQuery,
    super::platform::PlatformQuery,
    super::integrity::IntegrityQuery,
    super::log_streams::LogStreamQuery,
);

#[derive(Default)]
pub(super) struct TenantQuery;

/// Reads of the caller's tenant: its audit log, facets, settings and keys
/// (ADMIN and AUDITOR keys or signed-in people).
#[Object]
impl TenantQuery {
    /// The caller's audit log, newest first, as a Relay connection (ADMIN,
    /// AUDITOR). Pages hold 0 to 500 events, 50 when neither `first` nor
    /// `last` is given. Expired events are never returned.
    #[graphql(complexity = "super::complexity::page(first, last, child_complexity)")]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Page size walking towards older events: 0 to 500 (default 50). Not with `last`."
        )]
        first: Option<i32>,
        #[graphql(desc = "A cursor from this list: return the events older than it.")]
        after: Option<String>,
        #[graphql(desc = "Page size walking towards newer events: 0 to 500. Not with `first`.")]
        last: Option<i32>,
        #[graphql(desc = "A cursor from this list: return the events newer than it.")]
        before: Option<String>,
        #[graphql(desc = "Only events matching every given field.")] filter: Option<
            AuditEventFilter,
        >,
    ) -> Result<AuditEventConnection> {
        let caller = ctx.principal().tenant(READERS)?;
        let services = ctx.services();
        let given = given_filter(filter.as_ref());
        let filter = filter.unwrap_or_default().into_domain()?;
        let mut plan = PageArgs {
            first,
            after,
            last,
            before,
        }
        .plan(&services.cursors, caller.tenant_id)?;
        plan.page.columns = requested_columns(ctx);
        services
            .view_audit
            .viewed(caller, View::of(ReadField::List, given))
            .await?;
        let rows = TenantReads::of(&services.reads, caller)
            .events_page(filter, &plan.page, &ctx.response_budget())
            .await?;
        Ok(plan.connection(rows, &services.cursors, caller.tenant_id)?)
    }

    /// One event by its shareable id; null if absent, expired or another
    /// tenant's (ADMIN, AUDITOR).
    async fn audit_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The event's `id` (a UUID).")] id: ID,
    ) -> Result<Option<AuditEvent>> {
        let caller = ctx.principal().tenant(READERS)?;
        let id = parse_uuid("id", &id)?;
        let view = View {
            event_id: Some(id),
            ..View::of(ReadField::Permalink, None)
        };
        ctx.services().view_audit.viewed(caller, view).await?;
        let row = TenantReads::of(&ctx.services().reads, caller)
            .event(id, &ctx.response_budget())
            .await?;
        Ok(row.map(AuditEvent::try_from).transpose()?)
    }

    /// Distinct actions and actors of the retained events with counts, most
    /// frequent first (at most 200 each; ADMIN, AUDITOR). Without a filter the
    /// counts are exact; with one they cover the newest 5,000 matching events
    /// at most (see `exact`), and every facet is counted under the whole filter.
    async fn audit_event_facets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Count only events matching every given field.")] filter: Option<
            AuditEventFilter,
        >,
    ) -> Result<AuditEventFacets> {
        let caller = ctx.principal().tenant(READERS)?;
        let given = given_filter(filter.as_ref());
        let filter = filter.unwrap_or_default().into_domain()?;
        let view = View::of(ReadField::Facets, given);
        ctx.services().view_audit.viewed(caller, view).await?;
        let facets = TenantReads::of(&ctx.services().reads, caller)
            .facets(filter)
            .await?;
        Ok(AuditEventFacets::from_store(facets))
    }

    /// Who is calling (ADMIN, AUDITOR): the role, and the actor the caller's
    /// own changes are recorded as; a frontend shows the pages the role may use.
    async fn caller(&self, ctx: &Context<'_>) -> Result<Caller> {
        let caller = ctx.principal().tenant(READERS)?;
        Ok(Caller::of(caller))
    }

    /// The caller's tenant (ADMIN, AUDITOR).
    async fn tenant(&self, ctx: &Context<'_>) -> Result<Tenant> {
        let caller = ctx.principal().tenant(READERS)?;
        let row = TenantReads::of(&ctx.services().reads, caller)
            .tenant()
            .await?
            .ok_or_else(|| {
                ApiError::Unauthenticated("the tenant of this key no longer exists".into())
            })?;
        Ok(Tenant::from_row(row, &ctx.services().retention)?)
    }

    /// The tenant's API keys, revoked ones included (never their secrets),
    /// oldest first (ADMIN, AUDITOR).
    #[graphql(complexity = "super::complexity::unpaged_list(child_complexity)")]
    async fn api_keys(&self, ctx: &Context<'_>) -> Result<Vec<ApiKey>> {
        let caller = ctx.principal().tenant(READERS)?;
        let rows = TenantReads::of(&ctx.services().reads, caller)
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

/// The filter as the client gave it, as JSON without the fields it left out:
/// what an `audit_log.view` event records (`service::view_audit`).
pub(super) fn given_filter(filter: Option<&AuditEventFilter>) -> Option<serde_json::Value> {
    // An input object's value is plain JSON: the conversion cannot fail.
    let mut given = filter?.to_value().into_json().ok()?;
    if let serde_json::Value::Object(fields) = &mut given {
        fields.retain(|_, value| !value.is_null());
    }
    Some(given)
}

/// The optional columns the `auditEvents` selection shows, through `edges.node`
/// or `nodes` (fragments included): the page reads only those.
pub(super) fn requested_columns(ctx: &Context<'_>) -> Columns {
    let selection = ctx.look_ahead();
    let shown = |field: &str| {
        selection.field("edges").field("node").field(field).exists()
            || selection.field("nodes").field(field).exists()
    };
    Columns {
        payload: shown("payload"),
        context: shown("context"),
    }
}
