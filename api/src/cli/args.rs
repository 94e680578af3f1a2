//! Arguments of the `auditlog` command line.

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::config::Settings;
use crate::domain::Plan;

#[derive(Parser)]
#[command(
    name = "auditlog",
    version,
    about = "Multi-tenant audit-log service (GraphQL)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

impl Cli {
    /// The command line, with every setting global: a flag is accepted before
    /// or after the subcommand (`auditlog --database-url X tenant create acme`
    /// and `auditlog tenant create acme --database-url X`).
    pub fn command_line() -> clap::Command {
        <Self as CommandFactory>::command().mut_args(|arg| {
            if arg.is_positional() {
                arg
            } else {
                arg.global(true)
            }
        })
    }

    /// Parses the process's arguments, exiting with clap's message on error.
    pub fn parse_args() -> Self {
        Self::try_parse_args(std::env::args_os()).unwrap_or_else(|error| error.exit())
    }

    /// Parses `args` (the program name first).
    pub fn try_parse_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let mut command = Self::command_line();
        let matches = command.try_get_matches_from_mut(args)?;
        Self::from_arg_matches(&matches).map_err(|error| error.format(&mut command))
    }
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve,
    /// Exit 0 if the server on `AUDITLOG_LISTEN`'s port answers `GET /healthz`
    /// (the container image's HEALTHCHECK; needs no curl in the image).
    Healthcheck,
    /// Verify an export and signed tree heads offline (exit 0: verified,
    /// 1: a check failed); see docs/verifying.md.
    Verify(super::verify::VerifyArgs),
    /// Manage tenants directly in the database.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
}

#[derive(Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and print its first ADMIN key (shown once).
    Create {
        /// URL-safe name: 2-63 of a-z, 0-9 and '-'.
        slug: String,
        /// Display name.
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value_t = PlanArg::Team)]
        plan: PlanArg,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PlanArg {
    Team,
    Enterprise,
}

impl From<PlanArg> for Plan {
    fn from(plan: PlanArg) -> Self {
        match plan {
            PlanArg::Team => Plan::Team,
            PlanArg::Enterprise => Plan::Enterprise,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant_create(args: &[&str]) -> (Cli, String) {
        let cli = Cli::try_parse_args(args.iter().copied())
            .unwrap_or_else(|error| panic!("{args:?}: {error}"));
        let slug = match &cli.command {
            Some(Command::Tenant {
                command: TenantCommand::Create { slug, .. },
            }) => slug.clone(),
            _ => panic!("{args:?}: not `tenant create`"),
        };
        (cli, slug)
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command_line().debug_assert();
    }

    #[test]
    fn settings_are_accepted_before_and_after_the_subcommand() {
        let url = "postgres://auditlog@db/auditlog";
        for args in [
            &[
                "auditlog",
                "--database-url",
                url,
                "tenant",
                "create",
                "acme",
                "--name",
                "Acme",
            ][..],
            &[
                "auditlog",
                "tenant",
                "create",
                "acme",
                "--name",
                "Acme",
                "--database-url",
                url,
            ],
            &[
                "auditlog",
                "tenant",
                "--database-url",
                url,
                "create",
                "acme",
                "--name",
                "Acme",
            ],
        ] {
            let (cli, slug) = tenant_create(args);
            assert_eq!(slug, "acme", "{args:?}");
            assert_eq!(
                cli.settings.database_url.expose(),
                url,
                "{args:?}: --database-url ignored"
            );
        }
        let (cli, _) = tenant_create(&[
            "auditlog",
            "tenant",
            "create",
            "acme",
            "--name",
            "Acme",
            "--auto-migrate",
            "false",
        ]);
        assert!(!cli.settings.auto_migrate);
    }

    #[test]
    fn serve_takes_settings_after_the_subcommand_too() {
        let cli = Cli::try_parse_args(["auditlog", "serve", "--listen", "127.0.0.1:9999"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Serve)));
        assert_eq!(cli.settings.listen.to_string(), "127.0.0.1:9999");
    }
}
