//! `AUDITLOG_FRAME_ANCESTORS`: which pages may show the built-in viewer in a
//! frame (the CSP `frame-ancestors` directive of its responses, `http::viewer`).
//!
//! The value is `'none'` (the default: no page may frame it), `'self'`, or a
//! comma-separated list of exact origins (`https://app.example.com`), checked
//! like `AUDITLOG_CORS_ORIGINS` (`config::origins`), so an entry with a path
//! or a wildcard stops the start instead of silently matching nothing. The
//! viewer also accepts a viewer token by `postMessage` only from these
//! origins. Performs no I/O.

use clap::Args;

use super::origins::exact_origin;

#[derive(Clone, Debug, Args)]
pub struct FrameAncestorsConfig {
    /// Pages that may embed the viewer in a frame: `'none'` (default),
    /// `'self'`, or exact origins (`scheme://host[:port]`, comma-separated).
    /// Also the origins whose `postMessage` may hand the viewer a token.
    #[arg(
        long,
        env = "AUDITLOG_FRAME_ANCESTORS",
        value_delimiter = ',',
        default_value = "'none'"
    )]
    pub frame_ancestors: Vec<String>,
}

impl Default for FrameAncestorsConfig {
    /// The flags' declared defaults (each written once, in its attribute).
    fn default() -> Self {
        auditlog_worker::config::defaults()
    }
}

/// Validated `frame-ancestors` sources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameAncestors {
    /// `'none'`: no page may frame the viewer (also `X-Frame-Options: DENY`).
    None,
    /// `'self'`: pages of the service's own origin only.
    SameOrigin,
    /// These exact origins, as browsers send them in `Origin`.
    Origins(Vec<String>),
}

impl FrameAncestors {
    /// The directive's source list, e.g. `'none'` or `https://a.example https://b.example`.
    pub fn directive(&self) -> String {
        match self {
            Self::None => "'none'".into(),
            Self::SameOrigin => "'self'".into(),
            Self::Origins(origins) => origins.join(" "),
        }
    }

    /// The origins a page embedding the viewer may have (empty for `'none'`
    /// and `'self'`): whose `postMessage` the viewer listens to.
    pub fn origins(&self) -> &[String] {
        match self {
            Self::Origins(origins) => origins,
            Self::None | Self::SameOrigin => &[],
        }
    }
}

impl FrameAncestorsConfig {
    /// The validated setting, or an error naming the entry at fault.
    pub fn frame_ancestors(&self) -> anyhow::Result<FrameAncestors> {
        let entries: Vec<&str> = self
            .frame_ancestors
            .iter()
            .map(|entry| entry.trim())
            .filter(|entry| !entry.is_empty())
            .collect();
        match entries.as_slice() {
            [] | ["'none'"] => return Ok(FrameAncestors::None),
            ["'self'"] => return Ok(FrameAncestors::SameOrigin),
            _ => {}
        }
        let mut origins: Vec<String> = Vec::new();
        for entry in entries {
            if entry.starts_with('\'') {
                anyhow::bail!(
                    "AUDITLOG_FRAME_ANCESTORS: {entry:?} must stand alone ('none' or 'self'), \
                     or list origins only"
                );
            }
            let origin = exact_origin(entry).map_err(|reason| {
                anyhow::anyhow!("AUDITLOG_FRAME_ANCESTORS: {entry:?} {reason}")
            })?;
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        Ok(FrameAncestors::Origins(origins))
    }
}

#[cfg(test)]
mod tests {
    use super::{FrameAncestors, FrameAncestorsConfig};

    fn parse(entries: &[&str]) -> anyhow::Result<FrameAncestors> {
        FrameAncestorsConfig {
            frame_ancestors: entries.iter().map(|s| (*s).to_owned()).collect(),
        }
        .frame_ancestors()
    }

    #[test]
    fn defaults_to_none() {
        let parsed = FrameAncestorsConfig::default().frame_ancestors().unwrap();
        assert_eq!(parsed, FrameAncestors::None);
        assert_eq!(parsed.directive(), "'none'");
        assert_eq!(parse(&[]).unwrap(), FrameAncestors::None);
    }

    #[test]
    fn accepts_self_and_exact_origins() {
        assert_eq!(parse(&["'self'"]).unwrap(), FrameAncestors::SameOrigin);
        let parsed = parse(&["https://App.example.com/", " http://localhost:5173"]).unwrap();
        assert_eq!(
            parsed.directive(),
            "https://app.example.com http://localhost:5173"
        );
        assert_eq!(parsed.origins().len(), 2);
    }

    #[test]
    fn refuses_paths_wildcards_and_mixed_keywords() {
        for entries in [
            &["https://app.example.com/embed"][..],
            &["https://*.example.com"],
            &["*"],
            &["'none'", "https://app.example.com"],
            &["'unsafe-inline'"],
            &["https://a.example; script-src *"],
        ] {
            assert!(parse(entries).is_err(), "{entries:?} accepted");
        }
    }
}
