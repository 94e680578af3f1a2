//! `Action`: the dotted, lower-case verb of an audit event (`entry.create`).
//!
//! Convention (docs/api.md): `<resource>.<verb>` or deeper, each segment starting with a
//! letter, e.g. `entry.create`, `user.login_failed`, `api_key.revoke`.

use std::fmt;

/// Longest accepted action name, in bytes.
pub const MAX_ACTION_LEN: usize = 128;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action(String);

impl Action {
    /// Accepts `^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`, at most [`MAX_ACTION_LEN`] bytes.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() > MAX_ACTION_LEN {
            return Err(format!("is longer than {MAX_ACTION_LEN} characters"));
        }
        let segments: Vec<&str> = raw.split('.').collect();
        let well_formed = segments.len() >= 2 && segments.iter().all(|segment| is_segment(segment));
        if !well_formed {
            return Err(format!(
                "{raw:?} must be dot-separated lower-case segments such as \"entry.create\" \
                 (pattern ^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$)"
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_segment(segment: &str) -> bool {
    let mut chars = segment.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Action;

    #[test]
    fn accepts_dotted_lower_case() {
        for ok in [
            "entry.create",
            "user.login_failed",
            "a.b.c",
            "api_key.revoke",
            "x1.y2",
        ] {
            assert!(Action::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "entry",
            "Entry.create",
            "entry.",
            ".entry",
            "entry..create",
            "1entry.create",
            "entry.Create",
            "entry.create!",
            "entry create",
            "entry._x",
            "entry-x.create",
        ] {
            assert!(Action::parse(bad).is_err(), "{bad}");
        }
        assert!(Action::parse(&format!("a.{}", "b".repeat(127))).is_err());
    }
}
