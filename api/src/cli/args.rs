//! Arguments of the `auditlog` command line.

use clap::{Parser, Subcommand, ValueEnum};

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

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve,
    /// Exit 0 if the server on `AUDITLOG_LISTEN`'s port answers `GET /healthz`
    /// (the container image's HEALTHCHECK; needs no curl in the image).
    Healthcheck,
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
