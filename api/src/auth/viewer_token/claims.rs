//! What a viewer token says ([`ViewerClaims`]) and how it is spelled on the
//! wire ([`WireClaims`], the JWT payload).
//!
//! The payload uses registered claim names where one exists (`iss`, `aud`,
//! `sub`, `jti`, `iat`, `exp`; `name` and `email` as in OpenID Connect) and our
//! own for the rest (`tenant_id`, `role`, `scope`). Times are whole seconds
//! (JWT NumericDate), so [`ViewerClaims::issue`] truncates `now` and a token's
//! claims read back equal to the ones it was minted from.

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{AUDIENCE, ISSUER, Invalid, LEEWAY_SECS, ViewerTokenError};
use crate::domain::Role;

/// The claims of one viewer token, as `mint` takes and `verify` returns them.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ViewerClaims {
    /// The only tenant the token may read.
    pub(crate) tenant_id: Uuid,
    pub(crate) role: ViewerRole,
    /// Who the token was made for (recorded as the actor of what it does).
    pub(crate) subject: ViewerSubject,
    /// An `AuditEventFilter` in its GraphQL input shape (the same field names),
    /// which every read of the token is narrowed by; `None`: the whole tenant.
    /// It is stored as JSON so the verifier turns it back into the input type
    /// and then into the domain filter, with the same checks as a client's.
    pub(crate) scope: Option<Value>,
    /// Unique per token (UUIDv7), for revocation lists and logs.
    pub(crate) jti: Uuid,
    pub(crate) issued_at: DateTime<Utc>,
    pub(crate) expires_at: DateTime<Utc>,
}

/// The role a viewer token grants: people's roles, never PUBLISHER (a viewer
/// token reads; it does not record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum ViewerRole {
    Admin,
    Auditor,
}

impl From<ViewerRole> for Role {
    fn from(role: ViewerRole) -> Self {
        match role {
            ViewerRole::Admin => Role::Admin,
            ViewerRole::Auditor => Role::Auditor,
        }
    }
}

/// The person (or system) a token was minted for, as the minting caller named it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ViewerSubject {
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    pub(crate) email: Option<String>,
}

/// How long a token lives: 60 s to 24 h, 15 min by default
/// (`expiresInSeconds`). The longest lifetime also bounds how long a retired
/// signing key stays published (`ring`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TokenLifetime(i64);

/// A lifetime outside [`TokenLifetime::MIN_SECS`]..=[`TokenLifetime::MAX_SECS`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "a viewer token lives {min} to {max} seconds",
    min = TokenLifetime::MIN_SECS,
    max = TokenLifetime::MAX_SECS
)]
pub(crate) struct LifetimeOutOfRange;

impl TokenLifetime {
    pub(crate) const MIN_SECS: i64 = 60;
    pub(crate) const MAX_SECS: i64 = 86_400;
    pub(crate) const DEFAULT: Self = Self(900);
    /// The longest lifetime, as a duration.
    pub(crate) const MAX: Duration = Duration::seconds(Self::MAX_SECS);

    pub(crate) fn from_secs(secs: i64) -> Result<Self, LifetimeOutOfRange> {
        if (Self::MIN_SECS..=Self::MAX_SECS).contains(&secs) {
            Ok(Self(secs))
        } else {
            Err(LifetimeOutOfRange)
        }
    }

    pub(crate) fn secs(self) -> i64 {
        self.0
    }
}

impl ViewerClaims {
    /// Claims for a new token issued at `now` (truncated to the second) that
    /// lives `lifetime`, with a fresh `jti`.
    pub(crate) fn issue(
        tenant_id: Uuid,
        role: ViewerRole,
        subject: ViewerSubject,
        scope: Option<Value>,
        lifetime: TokenLifetime,
        now: DateTime<Utc>,
    ) -> Self {
        // Truncating to whole seconds cannot fail for a clock reading.
        let issued_at = now.duration_trunc(Duration::seconds(1)).unwrap_or(now);
        Self {
            tenant_id,
            role,
            subject,
            scope,
            jti: Uuid::now_v7(),
            issued_at,
            expires_at: issued_at + Duration::seconds(lifetime.secs()),
        }
    }

    /// Whether `expires_at - issued_at` is a lifetime we mint (1 s slack for
    /// sub-second `issued_at` values built by hand).
    pub(super) fn has_valid_lifetime(&self) -> bool {
        lifetime_is_valid(self.issued_at.timestamp(), self.expires_at.timestamp())
    }
}

fn lifetime_is_valid(iat: i64, exp: i64) -> bool {
    exp.checked_sub(iat)
        .is_some_and(|lifetime| (1..=TokenLifetime::MAX_SECS).contains(&lifetime))
}

/// The JWT payload.
#[derive(Serialize, Deserialize)]
pub(super) struct WireClaims {
    iss: String,
    aud: String,
    sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    tenant_id: Uuid,
    role: ViewerRole,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<Value>,
    jti: Uuid,
    iat: i64,
    exp: i64,
    /// Never minted; honoured if present, as a JWT verifier must.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<i64>,
}

impl From<&ViewerClaims> for WireClaims {
    fn from(claims: &ViewerClaims) -> Self {
        Self {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: claims.subject.id.clone(),
            name: claims.subject.name.clone(),
            email: claims.subject.email.clone(),
            tenant_id: claims.tenant_id,
            role: claims.role,
            scope: claims.scope.clone(),
            jti: claims.jti,
            iat: claims.issued_at.timestamp(),
            exp: claims.expires_at.timestamp(),
            nbf: None,
        }
    }
}

impl WireClaims {
    /// The claims of a token whose signature, `iss` and `aud` checked out, if
    /// its times hold at `now`: a lifetime we mint, not issued (or valid)
    /// only in the future, not expired — each within [`LEEWAY_SECS`].
    /// Arithmetic saturates: a hostile `exp` must not overflow.
    pub(super) fn check_times(self, now: DateTime<Utc>) -> Result<ViewerClaims, ViewerTokenError> {
        let now = now.timestamp();
        if !lifetime_is_valid(self.iat, self.exp) {
            return Err(ViewerTokenError::Invalid(Invalid::Lifetime));
        }
        let not_before = self.nbf.map_or(self.iat, |nbf| nbf.max(self.iat));
        if not_before > now.saturating_add(LEEWAY_SECS) {
            return Err(ViewerTokenError::Invalid(Invalid::NotYetValid));
        }
        if now >= self.exp.saturating_add(LEEWAY_SECS) {
            return Err(ViewerTokenError::Expired);
        }
        let (Some(issued_at), Some(expires_at)) = (
            DateTime::from_timestamp(self.iat, 0),
            DateTime::from_timestamp(self.exp, 0),
        ) else {
            return Err(ViewerTokenError::Invalid(Invalid::Claims));
        };
        Ok(ViewerClaims {
            tenant_id: self.tenant_id,
            role: self.role,
            subject: ViewerSubject {
                id: self.sub,
                name: self.name,
                email: self.email,
            },
            scope: self.scope,
            jti: self.jti,
            issued_at,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_are_60_seconds_to_a_day() {
        assert_eq!(TokenLifetime::from_secs(59), Err(LifetimeOutOfRange));
        assert_eq!(
            TokenLifetime::from_secs(60).map(TokenLifetime::secs),
            Ok(60)
        );
        assert_eq!(
            TokenLifetime::from_secs(86_400).map(TokenLifetime::secs),
            Ok(86_400)
        );
        assert_eq!(TokenLifetime::from_secs(86_401), Err(LifetimeOutOfRange));
        assert_eq!(TokenLifetime::from_secs(-1), Err(LifetimeOutOfRange));
        assert_eq!(TokenLifetime::DEFAULT.secs(), 900);
    }

    #[test]
    fn roles_are_spelled_as_in_graphql() {
        assert_eq!(
            serde_json::to_value(ViewerRole::Auditor).unwrap(),
            Value::from("AUDITOR")
        );
        assert!(serde_json::from_value::<ViewerRole>(Value::from("PUBLISHER")).is_err());
        assert_eq!(Role::from(ViewerRole::Admin), Role::Admin);
    }

    #[test]
    fn issued_claims_have_whole_seconds_and_the_asked_lifetime() {
        let now = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.678901Z")
            .unwrap()
            .with_timezone(&Utc);
        let subject = ViewerSubject {
            id: "u".into(),
            name: None,
            email: None,
        };
        let claims = ViewerClaims::issue(
            Uuid::nil(),
            ViewerRole::Auditor,
            subject,
            None,
            TokenLifetime::DEFAULT,
            now,
        );
        assert_eq!(claims.issued_at.timestamp_subsec_micros(), 0);
        assert_eq!((claims.expires_at - claims.issued_at).num_seconds(), 900);
        assert!(claims.has_valid_lifetime());
        assert_eq!(claims.jti.get_version_num(), 7);
    }
}
