//! The browser origins other than the service's own that may use the API:
//! the one list behind CORS (`http::cors`), the WebSocket `Origin` check
//! (`http::ws_origin`) and the CSRF check of cookie-authenticated requests
//! (`http::browser`). [`OriginsConfig::cross_origins`] is the only place it
//! is computed; the public URL's origin is added by the two checks, not here,
//! since a page on it needs no CORS.
//!
//! `AUDITLOG_CORS_ORIGINS` is the setting. `AUDITLOG_ALLOWED_ORIGINS`, its name
//! from before CORS, is an alias and both are read: the list is their union, so
//! a deployment that adds the new name without removing the old one loses no
//! origin, and there is no precedence rule to get wrong.
//!
//! An entry must be an exact origin, `http(s)://host[:port]`: browsers send
//! `Origin` in exactly that form, so an entry with a path could never match and
//! would silently allow nothing, and `*` may not be combined with credentials.
//! Such an entry stops the start instead. Performs no I/O.

use clap::Args;
use openidconnect::url::{Origin, Url};

/// Flags and environment variables of the cross-origin list.
#[derive(Clone, Debug, Args)]
pub struct OriginsConfig {
    /// Origins (`scheme://host[:port]`, comma-separated, exact: no path, no
    /// `*`) whose pages may call the API from another origin: CORS with
    /// credentials, cookie-authenticated requests and WebSockets. Unset: none.
    #[arg(long, env = "AUDITLOG_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// Alias of `AUDITLOG_CORS_ORIGINS` (its former name); both lists apply.
    #[arg(long, env = "AUDITLOG_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
}

impl Default for OriginsConfig {
    /// The flags' declared defaults (each written once, in its attribute).
    fn default() -> Self {
        auditlog_worker::config::defaults()
    }
}

/// Validated origins as browsers send them in `Origin` (lowercase host, no
/// default port), each once, in the order configured.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CrossOrigins(Vec<String>);

impl CrossOrigins {
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl OriginsConfig {
    /// The union of both variables, or an error naming the variable and entry at fault.
    pub fn cross_origins(&self) -> anyhow::Result<CrossOrigins> {
        let named = [
            ("AUDITLOG_CORS_ORIGINS", &self.cors_origins),
            ("AUDITLOG_ALLOWED_ORIGINS", &self.allowed_origins),
        ];
        let mut origins: Vec<String> = Vec::new();
        for (variable, entries) in named {
            for entry in entries.iter().map(|entry| entry.trim()) {
                if entry.is_empty() {
                    continue;
                }
                let origin = exact_origin(entry)
                    .map_err(|reason| anyhow::anyhow!("{variable}: {entry:?} {reason}"))?;
                if !origins.contains(&origin) {
                    origins.push(origin);
                }
            }
        }
        Ok(CrossOrigins(origins))
    }
}

/// `entry` as `Origin` would carry it, or why it is not an exact origin.
pub(super) fn exact_origin(entry: &str) -> Result<String, String> {
    if entry.contains('*') {
        return Err("has a wildcard; list each origin instead".into());
    }
    let url = Url::parse(entry).map_err(|e| format!("is not an origin ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("is not an http or https origin".into());
    }
    // The parser gives `https://a.example` the path `/`; a lone trailing slash
    // is accepted for that reason, anything longer is a path.
    let bare = url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    if !bare {
        return Err("is not an exact origin: scheme://host[:port] only, no path".into());
    }
    match url.origin() {
        origin @ Origin::Tuple(..) => Ok(origin.ascii_serialization()),
        Origin::Opaque(_) => Err("has no origin".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::{OriginsConfig, exact_origin};

    fn config(cors: &[&str], alias: &[&str]) -> OriginsConfig {
        OriginsConfig {
            cors_origins: cors.iter().map(|s| (*s).to_owned()).collect(),
            allowed_origins: alias.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn normalizes_origins_the_way_browsers_send_them() {
        for (entry, origin) in [
            ("https://app.example.com", "https://app.example.com"),
            ("https://App.Example.COM/", "https://app.example.com"),
            ("https://app.example.com:443", "https://app.example.com"),
            ("http://localhost:5173", "http://localhost:5173"),
        ] {
            assert_eq!(exact_origin(entry).as_deref(), Ok(origin), "{entry}");
        }
    }

    #[test]
    fn refuses_anything_but_an_exact_origin() {
        for entry in [
            "*",
            "https://*.example.com",
            "https://app.example.com/console",
            "https://app.example.com?x=1",
            "https://app.example.com/#top",
            "https://user@app.example.com",
            "app.example.com",
            "null",
            "file:///tmp/x",
            "ftp://app.example.com",
        ] {
            assert!(exact_origin(entry).is_err(), "{entry} accepted");
        }
    }

    #[test]
    fn the_list_is_the_union_of_both_variables_each_once() {
        let origins = config(
            &["https://app.example.com", " "],
            &["https://console.example.com", "https://APP.example.com"],
        )
        .cross_origins()
        .unwrap();
        assert_eq!(
            origins.as_slice(),
            ["https://app.example.com", "https://console.example.com"]
        );
        assert!(OriginsConfig::default().cross_origins().unwrap().is_empty());
    }

    #[test]
    fn an_error_names_the_variable_and_the_entry() {
        let error = config(&[], &["https://a.example/path"])
            .cross_origins()
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("AUDITLOG_ALLOWED_ORIGINS: \"https://a.example/path\""),
            "{error}"
        );
    }
}
