//! [`Person`]: a human caller, signed in through the identity provider (IdP).
//!
//! A person acts in exactly one tenant with one role (ADMIN or AUDITOR), both
//! mapped from the IdP's claims (see [`super::oidc::claims`]). Unlike an API
//! key, a person's credential expires: [`PersonCredential`] says until when, so
//! long-lived connections (WebSocket subscriptions) can end on time.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A person, as the identity provider describes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// The IdP's `sub`: the stable id of the person (the actor id in the log).
    pub subject: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub credential: PersonCredential,
}

/// How a person authenticated this request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PersonCredential {
    /// A bearer access token from the IdP (a JWT validated locally, or an
    /// opaque token validated by introspection), valid until its `exp`.
    AccessToken { expires_at: Option<DateTime<Utc>> },
    /// A browser session opened by `/auth/callback` (the `user_sessions` row).
    Session { id: Uuid, expires_at: DateTime<Utc> },
}

impl Person {
    /// When the credential stops being valid, if it ever does.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        match &self.credential {
            PersonCredential::AccessToken { expires_at } => *expires_at,
            PersonCredential::Session { expires_at, .. } => Some(*expires_at),
        }
    }

    /// The session this request belongs to, for cookie-authenticated requests.
    pub fn session_id(&self) -> Option<Uuid> {
        match &self.credential {
            PersonCredential::Session { id, .. } => Some(*id),
            PersonCredential::AccessToken { .. } => None,
        }
    }
}
