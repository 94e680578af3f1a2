//! Logging setup: `tracing` to stderr, filtered by `RUST_LOG` (default `info`),
//! as JSON lines in production mode and human-readable text in development mode
//! (`AUDITLOG_LOG_FORMAT=json|text` overrides either). Secrets never reach a log
//! line: settings redact them, and credentials are never fields of a span.

use tracing_subscriber::EnvFilter;

/// `development`: the process runs in development mode (text logs by default).
pub fn init(development: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let json = match std::env::var("AUDITLOG_LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok("text") => false,
        _ => !development,
    };
    let result = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    // Already initialised (tests start several apps in one process): keep the first.
    let _ = result;
}
