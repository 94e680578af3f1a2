//! Minimum lengths of the configured secrets (docs/security.md: "Secrets"). A short
//! operator token, cursor key or metrics token can be guessed; production
//! refuses to start with one and says which, development only warns. Values
//! are never printed, only their lengths.

use super::Settings;

/// Characters each configured secret must have in production (32 random
/// alphanumerics carry about 190 bits).
pub const MIN_SECRET_CHARS: usize = 32;

impl Settings {
    /// Checks every configured secret's length; an error names each short one.
    pub fn check_secret_lengths(&self) -> anyhow::Result<()> {
        let secrets = [
            ("AUDITLOG_OPERATOR_TOKEN", self.operator_token.as_deref()),
            ("AUDITLOG_CURSOR_KEY", self.cursor_key.as_deref()),
            (
                "AUDITLOG_LOGIN_COOKIE_KEY",
                self.login_cookie_key.as_deref(),
            ),
            (
                "AUDITLOG_METRICS_TOKEN",
                self.metrics.metrics_token.as_deref(),
            ),
        ];
        let short: Vec<String> = secrets
            .into_iter()
            // Empty means unset everywhere these are read.
            .filter_map(|(name, value)| value.filter(|v| !v.is_empty()).map(|v| (name, v)))
            .map(|(name, value)| (name, value.chars().count()))
            .filter(|(_, length)| *length < MIN_SECRET_CHARS)
            .map(|(name, length)| format!("{name} has {length} characters"))
            .collect();
        if short.is_empty() {
            return Ok(());
        }
        let message = format!(
            "{}; secrets need at least {MIN_SECRET_CHARS} characters (e.g. `openssl rand -hex 32`)",
            short.join(", ")
        );
        if self.is_development() {
            tracing::warn!("{message} (allowed in development mode only)");
            return Ok(());
        }
        anyhow::bail!("refusing to start in production: {message}")
    }
}

#[cfg(test)]
mod tests {
    use super::Settings;

    #[test]
    fn production_refuses_short_secrets_and_development_allows_them() {
        let mut settings = Settings::for_database("sqlite::memory:");
        settings.operator_token = Some("x".into());
        let error = settings.check_secret_lengths().unwrap_err().to_string();
        assert!(
            error.contains("AUDITLOG_OPERATOR_TOKEN has 1 characters"),
            "{error}"
        );
        assert!(!error.contains(" x"), "the value is never printed: {error}");
        settings.dev = true;
        assert!(settings.check_secret_lengths().is_ok());
        settings.dev = false;
        settings.operator_token = Some("o".repeat(32).into());
        settings.cursor_key = Some(String::new().into());
        assert!(settings.check_secret_lengths().is_ok());
    }
}
