//! [`Authenticator`]: turns a bearer token into a [`Principal`].

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use super::{Principal, TenantCaller};
use crate::domain::Role;
use crate::domain::clock;
use crate::domain::secret::{parse_key, secret_matches, tokens_match};
use crate::store::{self, StoreError};

#[derive(Clone)]
pub struct Authenticator {
    db: DatabaseConnection,
    /// `None` turns the operator API off.
    operator_token: Option<Arc<str>>,
}

impl Authenticator {
    pub fn new(db: DatabaseConnection, operator_token: Option<String>) -> Self {
        let operator_token = operator_token
            .filter(|token| !token.is_empty())
            .map(Arc::from);
        Self { db, operator_token }
    }

    /// Authenticates the value of an `Authorization` header (or its absence).
    /// Only database failures are errors; every bad credential is `Invalid`.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, StoreError> {
        let Some(header) = authorization else {
            return Ok(Principal::Anonymous);
        };
        let Some(token) = bearer_token(header) else {
            return Ok(Principal::Invalid);
        };
        if let Some(operator_token) = &self.operator_token
            && tokens_match(token, operator_token)
        {
            return Ok(Principal::Operator);
        }
        self.authenticate_api_key(token).await
    }

    async fn authenticate_api_key(&self, token: &str) -> Result<Principal, StoreError> {
        let Some(presented) = parse_key(token) else {
            return Ok(Principal::Invalid);
        };
        let Some(tenant) = store::tenants::find_by_slug(&self.db, presented.tenant_slug).await?
        else {
            return Ok(Principal::Invalid);
        };
        let Some(key) =
            store::api_keys::find_by_prefix(&self.db, tenant.id, presented.prefix).await?
        else {
            return Ok(Principal::Invalid);
        };
        let role = Role::from_db(&key.role);
        if !secret_matches(presented.secret, &key.secret_hash) || key.revoked_at.is_some() {
            return Ok(Principal::Invalid);
        }
        let Some(role) = role else {
            tracing::error!(key_id = %key.id, role = %key.role, "API key has an unknown role");
            return Ok(Principal::Invalid);
        };
        let now = clock::now();
        let stale = key
            .last_used_at
            .is_none_or(|at| now - at >= store::api_keys::LAST_USED_RESOLUTION);
        if stale {
            store::api_keys::touch_last_used(&self.db, tenant.id, key.id, now).await?;
        }
        Ok(Principal::Tenant(TenantCaller {
            tenant_id: tenant.id,
            tenant_slug: tenant.slug,
            key_id: key.id,
            key_name: key.name,
            role,
        }))
    }
}

/// The token of a `Bearer <token>` header value (scheme case-insensitive).
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn extracts_bearer_tokens_only() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token("Bearer "), None);
    }
}
