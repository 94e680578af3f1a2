//! From a verified token's claims to a person, a tenant reference and a role.
//!
//! Pure functions over JSON: the same mapping serves JWT access tokens,
//! introspection responses and ID tokens. Claim names are configurable; a name
//! is first looked up literally (Auth0's namespaced claims such as
//! `https://example.com/roles` contain dots), then as a dotted path into nested
//! objects (Keycloak's `realm_access.roles`).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::domain::Role;

/// Longest subject, name and email kept (the audit log's limit for actor fields).
const MAX_TEXT: usize = 256;

/// Which claims name the tenant and the roles, and which role values count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimMapping {
    pub tenant_claim: String,
    pub roles_claim: String,
    /// Values of the roles claim that make a person ADMIN.
    pub admin_values: Vec<String>,
    /// Values of the roles claim that make a person AUDITOR.
    pub auditor_values: Vec<String>,
}

/// What the service reads from a verified token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityClaims {
    /// `sub`: the person's stable id at the IdP.
    pub subject: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// The tenant claim's value (a tenant slug or id), if present.
    pub tenant: Option<String>,
    /// The roles claim's values (possibly empty).
    pub roles: Vec<String>,
    /// `exp`, if present.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Why a verified person may not act here. The message names the claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No tenant claim (or an empty one).
    MissingTenantClaim { claim: String },
    /// The tenant claim names no tenant of this service.
    UnknownTenant { claim: String },
    /// No value of the roles claim maps to ADMIN or AUDITOR.
    MissingRole { claim: String },
}

impl Refusal {
    /// A short, stable category for logs and `user.login_failed` payloads.
    pub fn category(&self) -> &'static str {
        match self {
            Self::MissingTenantClaim { .. } => "missing_tenant_claim",
            Self::UnknownTenant { .. } => "unknown_tenant",
            Self::MissingRole { .. } => "missing_role",
        }
    }

    /// The client-facing `FORBIDDEN` message.
    pub fn message(&self) -> String {
        match self {
            Self::MissingTenantClaim { claim } => format!(
                "the identity provider's token has no `{claim}` claim naming a tenant of this service"
            ),
            Self::UnknownTenant { claim } => {
                format!("the `{claim}` claim of the token names no tenant of this service")
            }
            Self::MissingRole { claim } => format!(
                "the `{claim}` claim of the token grants no role here (people may be ADMIN or AUDITOR)"
            ),
        }
    }
}

impl IdentityClaims {
    /// Reads the claims of a verified token; `None` without a `sub` (or with
    /// one too long to be an actor id). Names and emails are clipped.
    pub fn read(claims: &Map<String, Value>, mapping: &ClaimMapping) -> Option<Self> {
        let subject = string_claim(claims, "sub").filter(|sub| sub.chars().count() <= MAX_TEXT)?;
        let clip = |text: String| text.chars().take(MAX_TEXT).collect::<String>();
        Some(Self {
            subject,
            name: string_claim(claims, "name")
                .or_else(|| string_claim(claims, "preferred_username"))
                .map(clip),
            email: string_claim(claims, "email").map(clip),
            tenant: lookup(claims, &mapping.tenant_claim).and_then(scalar_text),
            roles: lookup(claims, &mapping.roles_claim)
                .map(role_values)
                .unwrap_or_default(),
            expires_at: claims
                .get("exp")
                .and_then(Value::as_i64)
                .and_then(|exp| DateTime::from_timestamp(exp, 0)),
        })
    }
}

impl ClaimMapping {
    /// The highest role the person's role values grant; PUBLISHER never.
    pub fn role(&self, roles: &[String]) -> Option<Role> {
        let has_any = |wanted: &[String]| roles.iter().any(|role| wanted.contains(role));
        if has_any(&self.admin_values) {
            Some(Role::Admin)
        } else if has_any(&self.auditor_values) {
            Some(Role::Auditor)
        } else {
            None
        }
    }
}

/// A claim by literal name, else by dotted path.
fn lookup<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(value) = claims.get(name) {
        return Some(value);
    }
    let mut parts = name.split('.');
    let mut current = claims.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

fn string_claim(claims: &Map<String, Value>, name: &str) -> Option<String> {
    claims.get(name).and_then(scalar_text)
}

/// A non-empty string or number as text.
fn scalar_text(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(text) => text.trim().to_owned(),
        Value::Number(number) => number.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// An array of strings, or one space- or comma-separated string.
fn role_values(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().filter_map(scalar_text).collect(),
        Value::String(text) => text
            .split([' ', ','])
            .filter(|role| !role.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn mapping(tenant: &str, roles: &str) -> ClaimMapping {
        ClaimMapping {
            tenant_claim: tenant.into(),
            roles_claim: roles.into(),
            admin_values: vec!["auditlog-admin".into()],
            auditor_values: vec!["auditlog-auditor".into()],
        }
    }

    fn read(claims: Value, mapping: &ClaimMapping) -> Option<IdentityClaims> {
        IdentityClaims::read(claims.as_object().unwrap(), mapping)
    }

    #[test]
    fn reads_flat_claims() {
        let claims = read(
            json!({"sub": "u1", "name": "Ann", "email": "ann@x.test", "org_id": "acme",
                   "roles": ["viewer", "auditlog-auditor"], "exp": 1_900_000_000}),
            &mapping("org_id", "roles"),
        )
        .unwrap();
        assert_eq!(claims.subject, "u1");
        assert_eq!(claims.tenant.as_deref(), Some("acme"));
        assert_eq!(claims.roles, vec!["viewer", "auditlog-auditor"]);
        assert_eq!(
            mapping("org_id", "roles").role(&claims.roles),
            Some(Role::Auditor)
        );
        assert!(claims.expires_at.is_some());
    }

    #[test]
    fn reads_keycloak_nested_and_auth0_namespaced_claims() {
        let keycloak = read(
            json!({"sub": "k", "tenant": "acme", "realm_access": {"roles": ["auditlog-admin"]}}),
            &mapping("tenant", "realm_access.roles"),
        )
        .unwrap();
        assert_eq!(keycloak.roles, vec!["auditlog-admin"]);
        let auth0 = read(
            json!({"sub": "a", "org_id": "org_1", "https://auditlog.example.com/roles": "auditlog-admin other"}),
            &mapping("org_id", "https://auditlog.example.com/roles"),
        )
        .unwrap();
        assert_eq!(auth0.roles, vec!["auditlog-admin", "other"]);
    }

    #[test]
    fn admin_wins_and_unknown_values_grant_nothing() {
        let mapping = mapping("org_id", "roles");
        let both = vec!["auditlog-auditor".to_owned(), "auditlog-admin".to_owned()];
        assert_eq!(mapping.role(&both), Some(Role::Admin));
        assert_eq!(mapping.role(&["publisher".to_owned()]), None);
        assert_eq!(mapping.role(&[]), None);
    }

    #[test]
    fn requires_a_subject_and_names_claims_in_refusals() {
        assert!(read(json!({"org_id": "acme"}), &mapping("org_id", "roles")).is_none());
        let refusal = Refusal::MissingRole {
            claim: "roles".into(),
        };
        assert!(refusal.message().contains("`roles`"));
        assert_eq!(refusal.category(), "missing_role");
    }
}
