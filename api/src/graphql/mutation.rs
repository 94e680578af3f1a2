//! `Mutation`: recording events (ADMIN, PUBLISHER), managing keys and the
//! retention policy (ADMIN), creating tenants and changing plans (operator).

use async_graphql::{Context, ID, Object, Result};

use super::context::{CallerRequestId, ContextExt};
use super::enums::{GqlPlan, GqlRole};
use super::inputs::AuditEventInput;
use super::query::parse_uuid;
use super::types::{
    ApiKey, AuditEvent, CreatedApiKey, CreatedTenant, RecordAuditEventsPayload, RetentionPolicy,
    Tenant,
};
use crate::auth::{ActorOfCaller, AuditActor, Principal};
use crate::domain::Role;
use crate::domain::new_event::RawEvent;
use crate::error::{ApiError, ApiResult};
use crate::service;
use crate::service::retention::LegalHoldRequester;

/// The schema's `Mutation`: the tenant's and the platform's fields.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    TenantMutation,
    super::platform::PlatformMutation,
    super::viewer_tokens::ViewerTokenMutation,
    super::log_streams::LogStreamMutation,
);

#[derive(Default)]
pub(super) struct TenantMutation;

/// Recording events (ADMIN, PUBLISHER), managing API keys and retention
/// (ADMIN), and the operator's tenant management (operator token).
#[Object]
impl TenantMutation {
    /// Records 1 to 1000 events, all or nothing, and returns them in input
    /// order (ADMIN, PUBLISHER). Counts against the tenant's ingest quota
    /// (`QUOTA_EXCEEDED` with a retry delay when spent).
    async fn record_audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The events, 1 to 1000.")] events: Vec<AuditEventInput>,
    ) -> Result<RecordAuditEventsPayload> {
        let caller = ctx
            .principal()
            .tenant_not_viewer(&[Role::Admin, Role::Publisher], "record events")?;
        // The stored events are echoed back: charge them before recording, so
        // aliased batches stop at the response budget with nothing recorded
        // by the alias refused.
        let echoed: usize = events
            .iter()
            .map(|event| {
                512 + event.action.len()
                    + event
                        .payload
                        .as_ref()
                        .map_or(0, |payload| crate::store::events::json_size(&payload.0))
            })
            .sum();
        ctx.response_budget()
            .charge(echoed)
            .map_err(ApiError::from)?;
        // The HTTP request's `x-request-id`, when the caller sent one, is the
        // default `context.requestId` of the events it records.
        let request_id = ctx.data_opt::<CallerRequestId>();
        let batch = events
            .into_iter()
            .map(|input| {
                let mut raw = RawEvent::from(input);
                raw.transport_request_id = request_id.map(|id| id.0.clone());
                raw
            })
            .collect();
        // The tenant's ingest quota takes the whole batch's new events, or
        // refuses it, in the transaction that records it (shared by replicas).
        let stored = service::events::record(
            &ctx.services().ingest,
            caller.tenant_id,
            caller.retention,
            ctx.services().ingest_quota.per_minute(caller.plan),
            batch,
        )
        .await?;
        // Acknowledged events (idempotent replays included), by plan: a closed
        // label set, never tenant ids.
        metrics::counter!("auditlog_events_ingested_total", "plan" => caller.plan.as_db())
            .increment(stored.len() as u64);
        let events = stored
            .into_iter()
            .map(AuditEvent::try_from)
            .collect::<ApiResult<Vec<_>>>()?;
        Ok(RecordAuditEventsPayload { events })
    }

    /// Creates an API key for the caller's tenant (ADMIN). The secret is in
    /// this response only.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A name to tell the key apart, e.g. its service.")] name: String,
        #[graphql(desc = "What the key may do.")] role: GqlRole,
    ) -> Result<CreatedApiKey> {
        let caller = ctx
            .principal()
            .tenant_not_viewer(&[Role::Admin], "create API keys")?;
        let (row, secret) = service::api_keys::create(
            &ctx.services().db,
            &ctx.services().live,
            caller,
            &name,
            role.into(),
        )
        .await?;
        Ok(CreatedApiKey {
            api_key: ApiKey::from_row(row, &caller.tenant_slug)?,
            secret,
        })
    }

    /// Revokes an API key of the caller's tenant (ADMIN); it stops working at
    /// once, and its open subscriptions are closed.
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key's `id` (a UUID).")] id: ID,
    ) -> Result<ApiKey> {
        let caller = ctx
            .principal()
            .tenant_not_viewer(&[Role::Admin], "revoke API keys")?;
        let id = parse_uuid("id", &id)?;
        let row = service::api_keys::revoke(
            &ctx.services().db,
            &ctx.services().live,
            &ctx.services().key_cache,
            caller,
            id,
        )
        .await?;
        Ok(ApiKey::from_row(row, &caller.tenant_slug)?)
    }

    /// The operator (the deployment's operator token) or a platform ADMIN
    /// key: creates a tenant and returns its first ADMIN key.
    async fn create_tenant(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "URL-safe short name: 2 to 63 of a-z, 0-9 and '-'; unique.")] slug: String,
        #[graphql(desc = "Display name.")] name: String,
        #[graphql(desc = "The plan; it sets the retention period.")] plan: GqlPlan,
    ) -> Result<CreatedTenant> {
        let actor = ctx.principal().tenant_manager()?;
        let created = service::tenants::create(
            &ctx.services().db,
            &ctx.services().live,
            &ctx.services().retention,
            &slug,
            &name,
            plan.into(),
            &actor,
        )
        .await?;
        record_platform_key_action(
            ctx,
            "tenant.create",
            &created.tenant,
            serde_json::json!({ "plan": created.tenant.plan }),
        )
        .await;
        let slug = created.tenant.slug.clone();
        Ok(CreatedTenant {
            tenant: Tenant::from_row(created.tenant, &ctx.services().retention)?,
            admin_key: CreatedApiKey {
                api_key: ApiKey::from_row(created.admin_key, &slug)?,
                secret: created.admin_secret,
            },
        })
    }

    /// Sets how many days the tenant's events are kept (ADMIN of an
    /// ENTERPRISE tenant; TEAM's period is fixed by its plan). Audited as
    /// `retention.update`.
    async fn set_retention_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Days, between `retention.minDays` and `retention.maxDays`.")] days: i32,
    ) -> Result<RetentionPolicy> {
        let caller = ctx.principal().tenant(&[Role::Admin])?;
        let services = ctx.services();
        let row = service::retention::set_retention_days(
            &services.db,
            &services.live,
            &services.key_cache,
            &services.retention,
            caller,
            i64::from(days),
        )
        .await?;
        Ok(Tenant::from_row(row, &services.retention)?.retention)
    }

    /// Puts the tenant on legal hold (nothing expires while on) or lifts it.
    /// Audited as `legal_hold.enable`, `legal_hold.update` or `legal_hold.disable`.
    /// ADMIN of an ENTERPRISE tenant, for its own tenant (TEAM: `FORBIDDEN`,
    /// its retention is fixed); or the operator, for `tenantId` on any plan.
    async fn set_legal_hold(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "True to put the tenant on hold, false to lift it.")] enabled: bool,
        #[graphql(desc = "Why the hold is on (shown as `retention.legalHoldReason`).")]
        reason: Option<String>,
        #[graphql(desc = "Operator only: the tenant to hold; tenant callers omit it.")]
        tenant_id: Option<ID>,
    ) -> Result<RetentionPolicy> {
        let requester = match (ctx.principal(), &tenant_id) {
            (Principal::Operator, Some(id)) => LegalHoldRequester::Operator {
                tenant_id: parse_uuid("tenantId", id)?,
            },
            (Principal::Operator, None) => {
                return Err(ApiError::Forbidden(
                    "the operator must name the tenant (tenantId)".into(),
                )
                .into());
            }
            (principal, None) => LegalHoldRequester::Tenant(principal.tenant(&[Role::Admin])?),
            (principal, Some(_)) => {
                // Everyone but the operator fails here, with the usual code.
                principal.operator()?;
                return Err(
                    ApiError::Forbidden("only the operator may name a tenant".into()).into(),
                );
            }
        };
        let services = ctx.services();
        let row = service::retention::set_legal_hold(
            &services.db,
            &services.live,
            &services.key_cache,
            &services.retention,
            requester,
            enabled,
            reason,
        )
        .await?;
        Ok(Tenant::from_row(row, &services.retention)?.retention)
    }

    /// The operator or a platform ADMIN key: moves a tenant to another plan
    /// and resets its retention to that plan's default. Audited as
    /// `tenant.plan_change`.
    async fn change_tenant_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tenant's `id` (a UUID).")] tenant_id: ID,
        #[graphql(desc = "The new plan.")] plan: GqlPlan,
    ) -> Result<Tenant> {
        let actor = ctx.principal().tenant_manager()?;
        let tenant_id = parse_uuid("tenantId", &tenant_id)?;
        let services = ctx.services();
        let row = service::retention::change_plan(
            &services.db,
            &services.live,
            &services.key_cache,
            &services.retention,
            tenant_id,
            plan.into(),
            &actor,
        )
        .await?;
        record_platform_key_action(
            ctx,
            "tenant.plan_change",
            &row,
            serde_json::json!({ "plan": row.plan }),
        )
        .await;
        Ok(Tenant::from_row(row, &services.retention)?)
    }
}

/// A platform key's action on a tenant goes into the platform log too (the
/// tenant's own log has it already, committed with the change, with the key
/// as actor), so the operator sees everything platform keys did in one
/// place. The operator's own tenant actions are in the tenants' logs only.
///
/// The change has committed by now and its answer may hold a secret shown
/// once (`createTenant`'s admin key): a failure here is logged, not returned.
async fn record_platform_key_action(
    ctx: &Context<'_>,
    action: &str,
    tenant: &entity::tenants::Model,
    payload: serde_json::Value,
) {
    let Some(key) = ctx.principal().platform_key() else {
        return;
    };
    let services = ctx.services();
    let action = crate::store::admin_audit::AdminAction {
        action,
        target_type: "tenant",
        target_id: tenant.id.to_string(),
        target_name: Some(tenant.slug.clone()),
        payload,
    };
    let name = action.action;
    if let Err(error) = service::platform_keys::record_platform_action(
        &services.db,
        &services.live,
        &AuditActor::of_platform_key(key),
        action,
        &services.retention,
    )
    .await
    {
        tracing::error!(action = name, tenant_id = %tenant.id, error = %error,
            "a platform key's tenant action is in the tenant's log but not in the platform log");
    }
}
