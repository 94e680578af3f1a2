//! Authentication: who is calling, from the `Authorization: Bearer ...` header
//! (operator token, API key, or an identity provider's access token) or from
//! a browser session cookie (people signed in through `/auth/login`).
//! [`viewer_token`] signs and verifies viewer tokens (minted by
//! `createViewerToken`, accepted as bearer tokens) and keeps their keys.
//!
//! Invariant: the tenant of a request comes only from its credential. The
//! [`Principal`] is computed once per request by the [`Principal`] extractor (see
//! `http::extract`) and handed to GraphQL as request data; resolvers ask it for a
//! [`TenantCaller`] with the roles they allow, and use that caller's `tenant_id`.
//!
//! A presented but unknown credential is `Invalid`, not `Anonymous`: treating it as
//! absent would hide a misconfigured client behind confusing role errors.

mod authenticator;
pub(crate) mod key_cache;
pub(crate) mod oidc;
mod person;
pub(crate) mod person_auth;
mod principal;
pub(crate) mod session_secret;
pub(crate) mod viewer_token;

pub(crate) use crate::domain::AuditActor;
pub(crate) use authenticator::{AuthError, Authenticator};
pub(crate) use key_cache::ApiKeyCache;
pub(crate) use person::PersonCredential;
pub(crate) use person_auth::People;
pub(crate) use principal::{
    ActorOfCaller, CallerIdentity, PlatformCaller, Principal, TenantCaller, ViewerCaller,
};
