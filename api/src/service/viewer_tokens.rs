//! Minting viewer tokens (`createViewerToken`): a tenant ADMIN's backend asks
//! for a short-lived credential for someone it vouches for (`subject`), with
//! a role (ADMIN or AUDITOR) and an optional scope, to hand to a frontend.
//!
//! The token is signed first and recorded second: `viewer_token.create` goes
//! into the tenant's log (actor: the caller; payload: role, subject, scope,
//! expiry and the token's id, never the token) in its own transaction, and the
//! token is returned only once that record has committed, so no token exists
//! that the tenant's log does not show.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde_json::json;
use uuid::Uuid;

use crate::auth::viewer_token::{
    self, LazyViewerKeys, MintError, TokenLifetime, ViewerClaims, ViewerRole, ViewerSubject,
    scope::ScopeError,
};
use crate::auth::{ActorOfCaller, AuditActor, TenantCaller};
use crate::domain::{Role, clock};
use crate::error::{ApiError, ApiResult};
use crate::live::Hub;
use crate::store;
use crate::store::admin_audit::{self, AdminAction};
use crate::store::events::EventFilter;

/// Longest subject id, name or email a token carries.
const MAX_SUBJECT_TEXT: usize = 320;

/// What `createViewerToken` asks for, converted from GraphQL.
pub(crate) struct ViewerTokenRequest {
    pub role: Role,
    pub subject: ViewerSubject,
    pub expires_in_seconds: i64,
    /// A validated filter (`AuditEventFilter::into_domain`), or none.
    pub scope: Option<EventFilter>,
}

/// A minted token and what it says.
pub(crate) struct MintedViewerToken {
    pub token: String,
    pub token_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// Mints a token for `caller`'s tenant and records `viewer_token.create`.
pub(crate) async fn create(
    db: &DatabaseConnection,
    live: &Hub,
    keys: &LazyViewerKeys,
    caller: &TenantCaller,
    request: ViewerTokenRequest,
) -> ApiResult<MintedViewerToken> {
    let role = match request.role {
        Role::Admin => ViewerRole::Admin,
        Role::Auditor => ViewerRole::Auditor,
        Role::Publisher => {
            return Err(ApiError::bad_input(
                "input.role: a viewer token reads; it may be ADMIN or AUDITOR, not PUBLISHER",
            ));
        }
    };
    let subject = valid_subject(request.subject)?;
    let lifetime = TokenLifetime::from_secs(request.expires_in_seconds)
        .map_err(|error| ApiError::bad_input(format!("input.expiresInSeconds: {error}")))?;
    let scope = match &request.scope {
        Some(filter) => viewer_token::scope::to_claim(filter)
            .map_err(|error: ScopeError| ApiError::bad_input(format!("input.{error}")))?,
        None => None,
    };
    let now = clock::now();
    let claims = ViewerClaims::issue(caller.tenant_id, role, subject, scope, lifetime, now);
    let keys = keys
        .get()
        .await
        .map_err(|error| ApiError::Unavailable(anyhow::anyhow!("viewer-token keys: {error}")))?;
    let token = viewer_token::mint(keys, &claims).map_err(|error| match error {
        MintError::TooLarge { limit } => ApiError::bad_input(format!(
            "input: the token would exceed {limit} bytes; narrow the scope or shorten the subject"
        )),
        other => ApiError::Internal(anyhow::anyhow!(other)),
    })?;
    let action = AdminAction {
        action: "viewer_token.create",
        target_type: "viewer_token",
        target_id: claims.jti.to_string(),
        target_name: claims.subject.name.clone(),
        payload: json!({
            "role": Role::from(claims.role).as_db(),
            "subject": {
                "id": claims.subject.id,
                "name": claims.subject.name,
                "email": claims.subject.email,
            },
            "scope": claims.scope,
            "expiresAt": claims.expires_at.to_rfc3339(),
            "tokenId": claims.jti,
        }),
    };
    let txn = store::tenant_scope::begin(db, caller.tenant_id).await?;
    let sequence = admin_audit::record(
        &txn,
        caller.tenant_id,
        &AuditActor::of_caller(caller),
        action,
        now,
    )
    .await?;
    txn.commit().await?;
    live.published(caller.tenant_id, sequence).await;
    Ok(MintedViewerToken {
        token,
        token_id: claims.jti,
        expires_at: claims.expires_at,
    })
}

/// The subject, trimmed: an id of 1 to 320 characters, and a name and email
/// of at most 320, none with control characters (they would be the actor of
/// events).
fn valid_subject(subject: ViewerSubject) -> ApiResult<ViewerSubject> {
    let check = |field: &str, text: String, required: bool| -> ApiResult<Option<String>> {
        let text = text.trim().to_owned();
        if text.is_empty() {
            return if required {
                Err(ApiError::bad_input(format!(
                    "input.subject.{field} must not be empty"
                )))
            } else {
                Ok(None)
            };
        }
        if text.chars().count() > MAX_SUBJECT_TEXT || text.chars().any(char::is_control) {
            return Err(ApiError::bad_input(format!(
                "input.subject.{field} must be at most {MAX_SUBJECT_TEXT} characters, without control characters"
            )));
        }
        Ok(Some(text))
    };
    let id = check("id", subject.id, true)?.unwrap_or_default();
    let name = subject
        .name
        .map(|name| check("name", name, false))
        .transpose()?
        .flatten();
    let email = subject
        .email
        .map(|email| check("email", email, false))
        .transpose()?
        .flatten();
    Ok(ViewerSubject { id, name, email })
}
