//! The `auditlog` binary: `auditlog [serve]` runs the service,
//! `auditlog tenant create <slug> --name ... --plan ...` creates a tenant offline.

use std::process::ExitCode;

use auditlog_api::auth::AuditActor;
use auditlog_api::cli::{Cli, Command, TenantCommand};
use auditlog_api::config::Settings;
use auditlog_api::domain::secret::display_prefix;
use auditlog_api::error::ApiError;
use auditlog_api::live::{Hub, HubSettings};
use auditlog_api::startup::Application;
use auditlog_api::{db, service, telemetry};
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init();
    let cli = Cli::parse();
    let result = match cli.command {
        None | Some(Command::Serve) => serve(cli.settings).await,
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

async fn serve(settings: Settings) -> anyhow::Result<()> {
    tracing::info!(settings = ?settings, "starting auditlog");
    let app = Application::build(settings).await?;
    // Scripts and tests wait for this line to know the (possibly chosen) port.
    println!("auditlog listening on http://{}", app.local_addr());
    app.run_until_stopped().await
}

async fn create_tenant(
    settings: Settings,
    slug: &str,
    name: &str,
    plan: auditlog_api::domain::Plan,
    json: bool,
) -> anyhow::Result<()> {
    let connection = db::connect(&settings).await?;
    if settings.auto_migrate {
        db::migrate(&connection).await?;
    }
    let created = service::tenants::create(
        &connection,
        &Hub::new(connection.clone(), HubSettings::default()),
        slug,
        name,
        plan,
        &AuditActor::command_line(),
    )
    .await
    .map_err(|error| match error {
        ApiError::Internal(cause) => cause,
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
