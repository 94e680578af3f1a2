//! `TenantSlug`: the stable, URL-safe name of a tenant, also embedded in its API keys.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantSlug(String);

impl TenantSlug {
    /// Accepts `^[a-z0-9][a-z0-9-]{1,62}$`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut chars = raw.chars();
        let first_ok = matches!(chars.next(), Some('a'..='z' | '0'..='9'));
        let rest_ok = chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-'));
        if first_ok && rest_ok && (2..=63).contains(&raw.len()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!(
                "slug {raw:?} must be 2 to 63 characters of a-z, 0-9 and '-', not starting with '-'"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::TenantSlug;

    #[test]
    fn accepts_valid_slugs() {
        for ok in ["acme", "a1", "acme-corp", "0-x", &"a".repeat(63)] {
            assert!(TenantSlug::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_invalid_slugs() {
        for bad in [
            "",
            "a",
            "-acme",
            "Acme",
            "acme_corp",
            "acme corp",
            "ac.me",
            &"a".repeat(64),
        ] {
            assert!(TenantSlug::parse(bad).is_err(), "{bad}");
        }
    }
}
