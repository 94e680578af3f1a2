//! The command line of the `auditlog` binary: `serve` (the default),
//! `tenant create`, which works on the database directly, without a server,
//! and `verify`, which needs neither.

mod args;
mod verify;

use std::process::ExitCode;

use anyhow::Context;

pub use args::{Cli, Command, PlanArg, TenantCommand};
pub use verify::VerifyArgs;

use crate::auth::AuditActor;
use crate::config::Settings;
use crate::domain::secret::display_prefix;
use crate::error::ApiError;
use crate::live::{Hub, HubSettings};
use crate::startup::Application;
use auditlog_worker::telemetry;

use crate::{db, service};

/// Runs the command line (`auditlog` and the test suite's copy of it).
pub async fn run() -> ExitCode {
    let cli = Cli::parse_args();
    telemetry::init(cli.settings.is_development());
    let result = match cli.command {
        None | Some(Command::Serve) => serve(cli.settings).await,
        Some(Command::Healthcheck) => healthcheck(&cli.settings).await,
        Some(Command::Verify(args)) => match verify::run(args).await {
            Ok(true) => return ExitCode::SUCCESS,
            Ok(false) => return ExitCode::FAILURE,
            Err(error) => Err(error),
        },
        Some(Command::Tenant {
            command:
                TenantCommand::Create {
                    slug,
                    name,
                    plan,
                    json,
                },
        }) => create_tenant(cli.settings, &slug, &name, plan.into(), json).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `GET /healthz` on loopback at the configured port, with a short timeout.
async fn healthcheck(settings: &Settings) -> anyhow::Result<()> {
    let mut address = settings.listen;
    if address.ip().is_unspecified() {
        address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let url = format!("http://{address}/healthz");
    let response = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .no_proxy()
        .build()?
        .get(&url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    anyhow::ensure!(
        response.status().is_success(),
        "GET {url} answered {}",
        response.status()
    );
    println!("healthy");
    Ok(())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    tracing::info!(settings = ?settings, "starting auditlog");
    let app = Application::build(settings).await?;
    // Scripts and tests wait for this line to know the (possibly chosen) port.
    println!("auditlog listening on http://{}", app.local_addr());
    if let Some(metrics) = app.metrics_addr() {
        println!("auditlog metrics on http://{metrics}/metrics");
    }
    app.run_until_stopped().await
}

async fn create_tenant(
    settings: Settings,
    slug: &str,
    name: &str,
    plan: crate::domain::Plan,
    json: bool,
) -> anyhow::Result<()> {
    let rules = settings.retention.rules()?;
    let connection = db::connect(&settings).await?;
    if settings.auto_migrate {
        crate::db_roles::migrate(&settings, &connection).await?;
    }
    let created = service::tenants::create(
        &connection,
        &Hub::new(connection.clone(), HubSettings::default()),
        &rules,
        slug,
        name,
        plan,
        &AuditActor::command_line(),
    )
    .await
    .map_err(|error| match error {
        ApiError::Internal(cause) | ApiError::Unavailable(cause) => cause,
        client_error => anyhow::anyhow!("{client_error}"),
    })?;
    let prefix = display_prefix(&created.tenant.slug, &created.admin_key.prefix);
    if json {
        let output = serde_json::json!({
            "tenant": { "id": created.tenant.id, "slug": created.tenant.slug, "name": created.tenant.name,
                        "plan": created.tenant.plan, "retentionDays": created.tenant.retention_days },
            "adminKey": { "id": created.admin_key.id, "prefix": prefix, "secret": created.admin_secret },
        });
        println!("{output}");
    } else {
        println!(
            "Created tenant {} ({}), plan {}",
            created.tenant.slug, created.tenant.id, created.tenant.plan
        );
        println!("ADMIN API key (shown once; store it now):");
        println!("{}", created.admin_secret);
    }
    Ok(())
}
