//! Browser-session secrets: the value of the `auditlog_session` cookie.
//!
//! A value reads `<tenant id, 32 hex digits>.<secret, 43 alphanumerics>`
//! (about 256 bits of randomness). The tenant id lets the session be found
//! through an index that leads with `tenant_id`; only the SHA-256 of the
//! secret is stored. A fresh value is issued at every login (the session id
//! rotates), and the value is never logged.

use uuid::Uuid;

use crate::domain::secret::{random_alphanumeric, sha256_hex};

const SECRET_LEN: usize = 43;

/// A freshly generated session secret: `cookie_value` goes to the browser once.
pub(crate) struct NewSessionSecret {
    pub cookie_value: String,
    pub secret_hash: String,
}

/// A presented cookie value, split but not yet checked against the database.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct PresentedSession {
    pub tenant_id: Uuid,
    pub secret_hash: String,
}

pub(crate) fn generate(tenant_id: Uuid) -> NewSessionSecret {
    let secret = random_alphanumeric(SECRET_LEN);
    NewSessionSecret {
        cookie_value: format!("{}.{secret}", tenant_id.simple()),
        secret_hash: sha256_hex(&secret),
    }
}

pub(crate) fn parse(value: &str) -> Option<PresentedSession> {
    let (tenant, secret) = value.split_once('.')?;
    let well_formed = tenant.len() == 32
        && secret.len() == SECRET_LEN
        && secret.chars().all(|c| c.is_ascii_alphanumeric());
    if !well_formed {
        return None;
    }
    Some(PresentedSession {
        tenant_id: Uuid::try_parse(tenant).ok()?,
        secret_hash: sha256_hex(secret),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_values_parse_back_to_their_hash() {
        let tenant = Uuid::now_v7();
        let new = generate(tenant);
        let presented = parse(&new.cookie_value).unwrap();
        assert_eq!(presented.tenant_id, tenant);
        assert_eq!(presented.secret_hash, new.secret_hash);
        assert_ne!(generate(tenant).cookie_value, new.cookie_value);
    }

    #[test]
    fn rejects_malformed_values() {
        let tenant = Uuid::now_v7().simple().to_string();
        for bad in [
            String::new(),
            "abc".into(),
            format!("{tenant}.short"),
            format!("{tenant}.{}", "a".repeat(42) + "-"),
            format!("not-a-uuid-not-a-uuid-not-a-uuid.{}", "a".repeat(43)),
        ] {
            assert_eq!(parse(&bad), None, "{bad}");
        }
    }
}
