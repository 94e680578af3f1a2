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
    let env = first_set([
        std::env::var("AUDITLOG_MIGRATION_DATABASE_URL").ok(),
        std::env::var("DATABASE_URL").ok(),
    ]);
    let url = database_url_from(std::env::args().skip(1), env);
    cli::run_cli_with_custom_connection(crate::Migrator, async move || {
        let mut options = ConnectOptions::new(url);
        options.sqlx_logging(false);
        Database::connect(options).await
    })
    .await;
}

/// The first of `candidates` that is set and not blank (the owner's URL
/// before the service's).
fn first_set(candidates: impl IntoIterator<Item = Option<String>>) -> Option<String> {
    candidates
        .into_iter()
        .flatten()
        .find(|url| !url.trim().is_empty())
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
    use super::{database_url_from, first_set};

    #[test]
    fn the_owner_url_wins_over_database_url() {
        let some = |url: &str| Some(url.to_owned());
        assert_eq!(
            first_set([some("postgres://owner"), some("postgres://app")]),
            some("postgres://owner")
        );
        assert_eq!(
            first_set([some(" "), some("postgres://app")]),
            some("postgres://app")
        );
        assert_eq!(first_set([None, None]), None);
    }

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
