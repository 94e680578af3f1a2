//! The platform's fields: platform keys (the operator manages them) and the
//! platform log (`platformAuditEvents`, the operator reads it).
//!
//! A platform key acts for the tenant a request names in `Auditlog-Tenant`
//! (see `auth::authenticator`); here it is only created, listed and revoked.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use entity::platform_keys;

use super::context::ContextExt;
use super::query::parse_uuid;
use super::scalars::Timestamp;
use crate::auth::AuditActor;
use crate::domain::PlatformRole;
use crate::domain::secret::display_platform_prefix;
use crate::error::ApiError;
use crate::service;

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
pub struct PlatformQuery;

/// The operator's view of the platform.
#[Object]
impl PlatformQuery {
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
pub struct PlatformMutation;

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
        )
        .await?;
        Ok(CreatedPlatformKey {
            platform_key: PlatformKey::from_row(row)?,
            secret,
        })
    }

    /// Revokes a platform key (operator only); it stops working at once.
    /// Recorded in the platform log as `platform_key.revoke`.
    async fn revoke_platform_key(&self, ctx: &Context<'_>, id: ID) -> Result<PlatformKey> {
        ctx.principal().operator()?;
        let id = parse_uuid("id", &id)?;
        let services = ctx.services();
        let row = service::platform_keys::revoke(
            &services.db,
            &services.live,
            &services.key_cache,
            &AuditActor::operator(),
            id,
        )
        .await?;
        Ok(PlatformKey::from_row(row)?)
    }
}
