//! The platform's fields: platform keys (the operator manages them) and the
//! platform log (`platformAuditEvents`, the operator reads it).
//!
//! A platform key acts for the tenant a request names in `Auditlog-Tenant`
//! (see `auth::authenticator`); here it is only created, listed and revoked.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use entity::platform_keys;

use super::context::ContextExt;
use super::inputs::AuditEventFilter;
use super::pagination::{AuditEventConnection, PageArgs};
use super::query::{parse_uuid, requested_columns};
use super::scalars::Timestamp;
use crate::auth::AuditActor;
use crate::domain::PlatformRole;
use crate::domain::secret::display_platform_prefix;
use crate::error::ApiError;
use crate::service;
use crate::service::reads::TenantReads;
use crate::store::platform_log::PLATFORM_LOG_TENANT;

/// What a platform key may do in the tenant each request names
/// (`Auditlog-Tenant`).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "PlatformRole", remote = "crate::domain::PlatformRole")]
pub enum GqlPlatformRole {
    /// Only `recordAuditEvents`, in any tenant.
    Publisher,
    /// Everything a tenant ADMIN may do, in any tenant, plus `createTenant`
    /// and `changeTenantPlan`.
    Admin,
}

/// A platform key, without its secret (which is never stored).
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct PlatformKey {
    /// Globally unique id (a UUID); pass it to `revokePlatformKey`.
    pub id: ID,
    /// The name given at creation.
    pub name: String,
    /// What the key may do in the tenant a request names.
    pub role: GqlPlatformRole,
    /// Public start of the key (`alp_<prefix>`), to recognise it.
    pub prefix: String,
    /// When the key was created.
    pub created_at: Timestamp,
    /// When the key last authenticated a request (updated at most about once
    /// a minute); null if never.
    pub last_used_at: Option<Timestamp>,
    /// When the key was revoked; null while it works.
    pub revoked_at: Option<Timestamp>,
}

impl PlatformKey {
    fn from_row(row: platform_keys::Model) -> Result<Self, ApiError> {
        let role = PlatformRole::from_db(&row.role).ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "stored platform key role {:?} is not in the vocabulary",
                row.role
            ))
        })?;
        Ok(Self {
            id: ID(row.id.to_string()),
            name: row.name,
            role: role.into(),
            prefix: display_platform_prefix(&row.prefix),
            created_at: row.created_at.into(),
            last_used_at: row.last_used_at.map(Timestamp),
            revoked_at: row.revoked_at.map(Timestamp),
        })
    }
}

/// A new platform key with its secret.
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct CreatedPlatformKey {
    /// The key, as `platformKeys` lists it.
    pub platform_key: PlatformKey,
    /// The whole key. Shown here once; only its hash is kept.
    pub secret: String,
}

#[derive(Default)]
pub(super) struct PlatformQuery;

/// The operator's view of the platform.
#[Object]
impl PlatformQuery {
    /// The platform log, newest first (operator only): platform keys created
    /// and revoked, tenants created and plans changed by platform keys. The
    /// same connection, paging and filter as `auditEvents`.
    #[graphql(complexity = "super::complexity::page(first, last, child_complexity)")]
    async fn platform_audit_events(
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
        ctx.principal().operator()?;
        let services = ctx.services();
        let filter = filter.unwrap_or_default().into_domain()?;
        let mut plan = PageArgs {
            first,
            after,
            last,
            before,
        }
        .plan(&services.cursors, PLATFORM_LOG_TENANT)?;
        plan.page.columns = requested_columns(ctx);
        let rows = TenantReads::of_platform_log(&services.reads, &services.retention)
            .events_page(filter, &plan.page, &ctx.response_budget())
            .await?;
        Ok(plan.connection(rows, &services.cursors, PLATFORM_LOG_TENANT)?)
    }

    /// Every platform key, oldest first, revoked ones included (operator only).
    async fn platform_keys(&self, ctx: &Context<'_>) -> Result<Vec<PlatformKey>> {
        ctx.principal().operator()?;
        let rows = service::platform_keys::list(&ctx.services().db).await?;
        Ok(rows
            .into_iter()
            .map(PlatformKey::from_row)
            .collect::<Result<_, _>>()?)
    }
}

#[derive(Default)]
pub(super) struct PlatformMutation;

/// The operator's management of platform keys.
#[Object]
impl PlatformMutation {
    /// Creates a platform key (operator only). The secret is in this response
    /// only. Recorded in the platform log as `platform_key.create`.
    async fn create_platform_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A name to tell the key apart, e.g. the application using it.")]
        name: String,
        #[graphql(desc = "What the key may do in the tenant each request names.")]
        role: GqlPlatformRole,
    ) -> Result<CreatedPlatformKey> {
        ctx.principal().operator()?;
        let services = ctx.services();
        let (row, secret) = service::platform_keys::create(
            &services.db,
            &services.live,
            &AuditActor::operator(),
            &name,
            role.into(),
            &services.retention,
        )
        .await?;
        Ok(CreatedPlatformKey {
            platform_key: PlatformKey::from_row(row)?,
            secret,
        })
    }

    /// Revokes a platform key (operator only); it stops working at once.
    /// Recorded in the platform log as `platform_key.revoke`.
    async fn revoke_platform_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key's `id` (a UUID).")] id: ID,
    ) -> Result<PlatformKey> {
        ctx.principal().operator()?;
        let id = parse_uuid("id", &id)?;
        let services = ctx.services();
        let row = service::platform_keys::revoke(
            &services.db,
            &services.live,
            &services.key_cache,
            &AuditActor::operator(),
            id,
            &services.retention,
        )
        .await?;
        Ok(PlatformKey::from_row(row)?)
    }
}
