//! Viewer tokens in the schema: `createViewerToken` (a tenant's ADMIN
//! credential mints one for its frontend) and `rotateViewerTokenKey` (the
//! operator replaces the signing key). Minting and recording are
//! `service::viewer_tokens`'; verifying is the authenticator's.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};

use super::context::ContextExt;
use super::enums::GqlRole;
use super::inputs::AuditEventFilter;
use super::scalars::Timestamp;
use crate::auth::AuditActor;
use crate::auth::viewer_token::{TokenLifetime, ViewerSubject};
use crate::domain::{Role, clock};
use crate::error::ApiError;
use crate::service;
use crate::service::viewer_tokens::ViewerTokenRequest;
use crate::store::admin_audit::AdminAction;

/// What a viewer token is for.
#[derive(InputObject, Clone, Debug)]
pub(crate) struct ViewerTokenInput {
    /// ADMIN or AUDITOR (PUBLISHER is refused: a viewer token reads).
    pub role: GqlRole,
    /// Who will use the token: the actor of what they do with it.
    pub subject: ViewerSubjectInput,
    /// Lifetime in seconds, 60 to 86400 (default 900).
    #[graphql(default_with = "default_lifetime_secs()")]
    pub expires_in_seconds: i32,
    /// Every read through the token is also filtered by this (`search` is not
    /// allowed here); absent: the whole tenant.
    pub scope: Option<AuditEventFilter>,
}

/// The person (or system) a viewer token is minted for, in your application's terms.
#[derive(InputObject, Clone, Debug)]
pub(crate) struct ViewerSubjectInput {
    /// Their id in your application (the actor id of what they do).
    pub id: String,
    /// Their display name, if any.
    pub name: Option<String>,
    /// Their email address, if any.
    pub email: Option<String>,
}

/// A minted viewer token. Shown once; the service keeps only a record of it.
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct ViewerToken {
    /// The token: send it as `Authorization: Bearer <token>`, or in the
    /// WebSocket `connection_init` payload.
    pub token: String,
    /// When the token stops working.
    pub expires_at: Timestamp,
    /// The token's unique id (its `jti`), as recorded in `viewer_token.create`.
    pub token_id: String,
}

#[derive(Default)]
pub(super) struct ViewerTokenMutation;

#[Object]
impl ViewerTokenMutation {
    /// Mints a short-lived viewer token for the caller's tenant (ADMIN: an
    /// API key, a person, or a platform ADMIN key with `Auditlog-Tenant`;
    /// never a viewer token). Recorded as `viewer_token.create`.
    async fn create_viewer_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token's role, subject, lifetime and scope.")] input: ViewerTokenInput,
    ) -> Result<ViewerToken> {
        let caller = ctx
            .principal()
            .tenant_not_viewer(&[Role::Admin], "mint viewer tokens")?;
        let scope = input.scope.map(AuditEventFilter::into_domain).transpose()?;
        let request = ViewerTokenRequest {
            role: input.role.into(),
            subject: ViewerSubject {
                id: input.subject.id,
                name: input.subject.name,
                email: input.subject.email,
            },
            expires_in_seconds: i64::from(input.expires_in_seconds),
            scope,
        };
        let services = ctx.services();
        let minted = service::viewer_tokens::create(
            &services.db,
            &services.live,
            &services.viewer_keys,
            caller,
            request,
        )
        .await?;
        Ok(ViewerToken {
            token: minted.token,
            expires_at: Timestamp(minted.expires_at),
            token_id: minted.token_id.to_string(),
        })
    }

    /// Replaces the viewer-token signing key (operator). Tokens signed with
    /// the old key stay valid until they expire: its public key stays
    /// published for the longest token lifetime plus 5 minutes. Returns the
    /// new key's `kid`. Refused when `AUDITLOG_VIEWER_TOKEN_KEY` is set
    /// (rotate by changing it).
    async fn rotate_viewer_token_key(&self, ctx: &Context<'_>) -> Result<String> {
        ctx.principal().operator()?;
        let keys = ctx.services().viewer_keys.get().await.map_err(|error| {
            ApiError::Unavailable(anyhow::anyhow!("viewer-token keys: {error}"))
        })?;
        let previous = keys.signing_kid();
        keys.rotate(clock::now())
            .await
            .map_err(|error| match error {
                crate::auth::viewer_token::KeyRingError::Configured => {
                    ApiError::bad_input(error.to_string())
                }
                other => ApiError::Internal(anyhow::anyhow!(other)),
            })?;
        let kid = keys.signing_kid();
        tracing::info!(kid = %kid, "viewer-token signing key rotated");
        let services = ctx.services();
        let action = AdminAction {
            action: "viewer_token_key.rotate",
            target_type: "viewer_token_key",
            target_id: kid.clone(),
            target_name: None,
            payload: serde_json::json!({ "previousKid": previous }),
        };
        service::platform_keys::record_platform_action(
            &services.db,
            &services.live,
            &AuditActor::operator(),
            action,
            &services.retention,
        )
        .await?;
        Ok(kid)
    }
}

/// `expiresInSeconds` when not given: the domain's default lifetime.
fn default_lifetime_secs() -> i32 {
    i32::try_from(TokenLifetime::DEFAULT.secs()).unwrap_or(i32::MAX)
}
