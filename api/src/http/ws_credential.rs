//! [`CredentialWatch`]: ends a person's WebSocket when its credential ends.
//!
//! An API key's connection lives as long as the client keeps it (as before).
//! A person's credential expires or can be revoked, so a connection opened
//! with one is watched: at the credential's expiry (a JWT's `exp`, an
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

use crate::auth::{Authenticator, CallerIdentity, Person, Principal};
use crate::domain::Role;

/// The credential a connection authenticated with, kept to re-check it.
#[derive(Clone)]
pub enum Presented {
    /// An `Authorization` value (`Bearer <token>`).
    Bearer(String),
    /// The session cookie's value.
    Session(String),
}

impl std::fmt::Debug for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Bearer(_) => "Bearer(<redacted>)",
            Self::Session(_) => "Session(<redacted>)",
        })
    }
}

impl Presented {
    pub async fn authenticate(
        &self,
        authenticator: &Authenticator,
    ) -> Result<Principal, crate::auth::AuthError> {
        match self {
            Self::Bearer(authorization) => authenticator.authenticate(Some(authorization)).await,
            Self::Session(cookie) => authenticator.authenticate_session(cookie).await,
        }
    }
}

pub struct CredentialWatch {
    watched: Option<Watched>,
}

struct Watched {
    presented: Presented,
    expires_at: Option<DateTime<Utc>>,
    next_check: Instant,
    every: Duration,
}

impl CredentialWatch {
    pub fn none() -> Self {
        Self { watched: None }
    }

    /// Watches `presented` if `principal` is a person (API keys are not watched).
    pub fn start(principal: &Principal, presented: Presented, every: Duration) -> Self {
        let Some(person) = person_of(principal) else {
            return Self::none();
        };
        Self {
            watched: Some(Watched {
                presented,
                expires_at: person.expires_at(),
                next_check: Instant::now() + every,
                every,
            }),
        }
    }

    /// When the connection must next be looked at; `None`: never.
    pub fn deadline(&self) -> Option<Instant> {
        let watched = self.watched.as_ref()?;
        let expiry = watched.expires_at.map(|at| {
            let remaining = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
            Instant::now() + remaining
        });
        Some(expiry.map_or(watched.next_check, |expiry| expiry.min(watched.next_check)))
    }

    /// Called at [`Self::deadline`]: the close reason if the credential ended.
    pub async fn check(&mut self, authenticator: &Authenticator) -> Option<&'static str> {
        let watched = self.watched.as_mut()?;
        let session = matches!(watched.presented, Presented::Session(_));
        if watched.expires_at.is_some_and(|at| at <= Utc::now()) {
            return Some(if session {
                "session ended"
            } else {
                "token expired"
            });
        }
        watched.next_check = Instant::now() + watched.every;
        match watched.presented.authenticate(authenticator).await {
            Ok(principal) if may_read(&principal) => None,
            Ok(_) => Some(if session {
                "session ended"
            } else {
                "token revoked"
            }),
            Err(error) => {
                tracing::warn!(error = ?error, "cannot re-check a WebSocket's credential; keeping it until the next check");
                None
            }
        }
    }
}

fn person_of(principal: &Principal) -> Option<&Person> {
    match principal {
        Principal::Tenant(caller) => match &caller.identity {
            CallerIdentity::Person(person) => Some(person),
            CallerIdentity::ApiKey { .. } => None,
        },
        _ => None,
    }
}

fn may_read(principal: &Principal) -> bool {
    matches!(principal, Principal::Tenant(caller) if matches!(caller.role, Role::Admin | Role::Auditor))
}
