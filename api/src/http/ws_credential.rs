//! [`CredentialWatch`]: ends a WebSocket when its credential ends, and keeps
//! its retention window current.
//!
//! Every tenant connection is re-authenticated every
//! `AUDITLOG_AUTH_RECHECK_SECS` (default 10 s) with the credential it opened
//! with. An API key that was revoked (or whose role may no longer read)
//! closes the connection with 4403 `credential revoked`; in the process that
//! revoked it this happens at once (the connection hears
//! [`crate::live::Change::KeyRevoked`]), in other processes at the next
//! re-check (plus at most `AUDITLOG_AUTH_CACHE_MS`). Each successful re-check
//! also yields the tenant's retention window in force, which the connection
//! hands to its subscriptions.
//!
//! A person's credential also expires, so at the credential's expiry (a JWT's `exp`, an
//! introspected token's `exp`, the session's `expires_at`) the connection is
//! closed with 4403 and the reason `token expired` or `session ended`; in
//! between, every `AUDITLOG_AUTH_RECHECK_SECS` the credential is authenticated
//! again, so a logout, a revoked session or a revoked opaque token (once its
//! introspection cache entry expires) closes it too (`session ended`,
//! `token revoked`). If the IdP cannot be asked, the connection stays open
//! until the next check; the credential's own expiry still bounds it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use uuid::Uuid;

use crate::auth::{Authenticator, CallerIdentity, Principal};
use crate::domain::Role;

/// The close reason of a connection whose API key was revoked.
pub(super) const KEY_REVOKED: &str = "credential revoked";

/// The credential a connection authenticated with, kept to re-check it.
#[derive(Clone)]
pub(super) enum Presented {
    /// An `Authorization` value (`Bearer <token>`), and the tenant the
    /// payload named (`Auditlog-Tenant`).
    Bearer(String, Option<String>),
    /// The session cookie's value, and the tenant the payload named.
    Session(String, Option<String>),
}

impl std::fmt::Debug for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Bearer(..) => "Bearer(<redacted>)",
            Self::Session(..) => "Session(<redacted>)",
        })
    }
}

impl Presented {
    pub(super) async fn authenticate(
        &self,
        authenticator: &Authenticator,
    ) -> Result<Principal, crate::auth::AuthError> {
        match self {
            Self::Bearer(authorization, tenant) => {
                authenticator
                    .authenticate(Some(authorization), tenant.as_deref())
                    .await
            }
            Self::Session(cookie, tenant) => {
                authenticator
                    .authenticate_session(cookie, tenant.as_deref())
                    .await
            }
        }
    }
}

pub(super) struct CredentialWatch {
    watched: Option<Watched>,
}

struct Watched {
    presented: Presented,
    /// The API key's id; `None` for a person.
    key_id: Option<Uuid>,
    expires_at: Option<DateTime<Utc>>,
    next_check: Instant,
    every: Duration,
}

/// What a re-check found.
pub(super) enum Checked {
    /// The credential ended: close 4403 with this reason.
    Ended(&'static str),
    /// Still valid; the principal as authenticated now (its retention is current).
    Valid(Box<Principal>),
    /// Could not be asked (IdP or database down); try again at the next check.
    Unknown,
}

impl CredentialWatch {
    pub(super) fn none() -> Self {
        Self { watched: None }
    }

    /// Watches `presented` if `principal` is a tenant's caller (the operator
    /// and refused callers never keep a connection).
    pub(super) fn start(principal: &Principal, presented: Presented, every: Duration) -> Self {
        let Principal::Tenant(caller) = principal else {
            return Self::none();
        };
        let (key_id, expires_at) = match &caller.identity {
            CallerIdentity::ApiKey { id, .. } => (Some(*id), None),
            CallerIdentity::PlatformKey(key) => (Some(key.id), None),
            CallerIdentity::Person(_) | CallerIdentity::ViewerToken(_) => {
                (None, caller.expires_at())
            }
        };
        Self {
            watched: Some(Watched {
                presented,
                key_id,
                expires_at,
                next_check: Instant::now() + every,
                every,
            }),
        }
    }

    /// The watched API key's id (`None`: a person, or nothing watched).
    pub(super) fn key_id(&self) -> Option<Uuid> {
        self.watched.as_ref()?.key_id
    }

    /// When the connection must next be looked at; `None`: never.
    pub(super) fn deadline(&self) -> Option<Instant> {
        let watched = self.watched.as_ref()?;
        let expiry = watched.expires_at.map(|at| {
            let remaining = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
            Instant::now() + remaining
        });
        Some(expiry.map_or(watched.next_check, |expiry| expiry.min(watched.next_check)))
    }

    /// Called at [`Self::deadline`], or at once when a change may concern
    /// this connection: authenticates the credential again.
    pub(super) async fn check(&mut self, authenticator: &Authenticator) -> Checked {
        let Some(watched) = self.watched.as_mut() else {
            return Checked::Unknown;
        };
        let session = matches!(watched.presented, Presented::Session(..));
        let ended = if watched.key_id.is_some() {
            KEY_REVOKED
        } else if session {
            "session ended"
        } else {
            "token revoked"
        };
        if watched.expires_at.is_some_and(|at| at <= Utc::now()) {
            return Checked::Ended(if session {
                "session ended"
            } else {
                "token expired"
            });
        }
        watched.next_check = Instant::now() + watched.every;
        match watched.presented.authenticate(authenticator).await {
            Ok(principal) if may_read(&principal) => Checked::Valid(Box::new(principal)),
            Ok(_) => Checked::Ended(ended),
            Err(error) => {
                tracing::warn!(error = ?error, "cannot re-check a WebSocket's credential; keeping it until the next check");
                Checked::Unknown
            }
        }
    }
}

fn may_read(principal: &Principal) -> bool {
    matches!(principal, Principal::Tenant(caller) if matches!(caller.role, Role::Admin | Role::Auditor))
}
