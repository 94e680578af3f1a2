//! Authentication: who is calling, from the `Authorization: Bearer ...` header.
//!
//! Invariant: the tenant of a request comes only from its credential. The
//! [`Principal`] is computed once per request by the [`Principal`] extractor (see
//! `http::extract`) and handed to GraphQL as request data; resolvers ask it for a
//! [`TenantCaller`] with the roles they allow, and use that caller's `tenant_id`.
//!
//! A presented but unknown credential is `Invalid`, not `Anonymous`: treating it as
//! absent would hide a misconfigured client behind confusing role errors.

mod authenticator;
mod principal;

pub use authenticator::Authenticator;
pub use principal::{AuditActor, Principal, TenantCaller};
