//! The `migration` command line: apply, revert or inspect the schema without
//! starting the service.
//!
//! `cargo run -p migration -- up|down|status|fresh`. The database comes from
//! `-u/--database-url`, else `AUDITLOG_MIGRATION_DATABASE_URL` (the schema
//! owner's connection, when the service connects as a role of its own), else
//! `DATABASE_URL`, else the service's own default, the embedded SQLite file
//! `auditlog.db`, so `migration up` and `auditlog` agree.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectOptions, Database};

const DEFAULT_DATABASE_URL: &str = "sqlite://auditlog.db?mode=rwc";

/// Runs the `migration` command line (the binary, and the test suite's copy).
pub async fn run() {
    let env = ["AUDITLOG_MIGRATION_DATABASE_URL", "DATABASE_URL"]
        .into_iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|url| !url.trim().is_empty());
    let url = database_url_from(std::env::args().skip(1), env);
    cli::run_cli_with_custom_connection(crate::Migrator, async move || {
        let mut options = ConnectOptions::new(url);
        options.sqlx_logging(false);
        Database::connect(options).await
    })
    .await;
}

/// The flag wins over the environment, which wins over the default.
fn database_url_from(args: impl Iterator<Item = String>, env: Option<String>) -> String {
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        if arg == "-u" || arg == "--database-url" {
            if let Some(value) = args.next() {
                return value;
            }
        } else if let Some(value) = arg.strip_prefix("--database-url=") {
            return value.to_owned();
        }
    }
    env.unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned())
}

#[cfg(test)]
mod tests {
    use super::database_url_from;

    fn args(list: &[&str]) -> impl Iterator<Item = String> {
        list.iter()
            .map(|s| (*s).to_owned())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn flag_beats_environment_beats_default() {
        let env = Some("postgres://env".to_owned());
        assert_eq!(
            database_url_from(args(&["up", "-u", "sqlite://x"]), env.clone()),
            "sqlite://x"
        );
        assert_eq!(
            database_url_from(args(&["--database-url=pg://f", "up"]), env.clone()),
            "pg://f"
        );
        assert_eq!(database_url_from(args(&["status"]), env), "postgres://env");
        assert_eq!(
            database_url_from(args(&["up"]), None),
            super::DEFAULT_DATABASE_URL
        );
    }
}
