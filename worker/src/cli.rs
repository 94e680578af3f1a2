//! The command line of `auditlog-worker`: settings, run modes, shutdown.

use std::process::ExitCode;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use entity::store::connection::{connect_with, redact_url};
use entity::store::role_check::warn_if_bypassing;

use crate::config::{PurgeConfig, RetentionConfig, StreamConfig, TreeHeadConfig};
use crate::purge::{
    NotifyOtherProcesses, PassReport, PurgeScheduler, PurgeSettings, Purger, unique_holder,
};
use crate::secret::DatabaseUrl;
use crate::signals::shutdown_signal;
use crate::streams::StreamRunner;
use crate::telemetry;
use crate::tree_heads::{TreeHeadScheduler, TreeHeadSigner};

/// How long the worker's pool waits for a connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Parser)]
#[command(
    name = "auditlog-worker",
    version,
    about = "Purges expired audit events, signs tree heads and delivers log streams (worker of auditlog)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: WorkerSettings,
}

#[derive(Clone, Copy, Subcommand)]
pub enum Command {
    /// Purge on the schedule (`AUDITLOG_PURGE_SCHEDULE`), sign tree heads and
    /// deliver log streams until SIGTERM or Ctrl-C (the default).
    Run,
    /// Run one purge pass now and exit (0: every tenant done; 1: some failed).
    RunOnce,
}

/// What the worker needs: the service's database and retention policy (same
/// variables and defaults as `auditlog`), and how to purge.
#[derive(Clone, Debug, Args)]
pub struct WorkerSettings {
    /// Database to purge: `sqlite://path?mode=rwc` or `postgres://...`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://auditlog.db?mode=rwc"
    )]
    pub database_url: DatabaseUrl,
    /// Upper bound of the worker's connection pool (a pass uses one at a time).
    #[arg(long, env = "AUDITLOG_WORKER_DB_MAX_CONNECTIONS", default_value_t = 4)]
    pub db_max_connections: u32,
    /// Serve Prometheus metrics (`GET /metrics`: purge passes, events deleted)
    /// on this address, e.g. `0.0.0.0:9090`. Unset: no listener.
    #[arg(long, env = "AUDITLOG_WORKER_METRICS_LISTEN")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    #[command(flatten)]
    pub retention: RetentionConfig,
    #[command(flatten)]
    pub purge: PurgeConfig,
    #[command(flatten)]
    pub tree_heads: TreeHeadConfig,
    #[command(flatten)]
    pub streams: StreamConfig,
}

/// Runs the command line (`auditlog-worker` and the test suite's copy of it).
pub async fn run() -> ExitCode {
    // The worker has no GraphQL surface; the mode only picks the log format.
    let development = std::env::var("AUDITLOG_ENV").is_ok_and(|mode| mode == "development");
    telemetry::init(development);
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Run) {
        Command::Run => run_scheduled(cli.settings).await,
        Command::RunOnce => run_once(cli.settings).await,
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The purger of this process, on the configured database.
async fn purger(settings: &WorkerSettings) -> anyhow::Result<Purger> {
    let purge = PurgeSettings::from_config(&settings.retention, &settings.purge, "worker")?;
    let db = connect_with(
        &settings.database_url,
        settings.db_max_connections,
        ACQUIRE_TIMEOUT,
        None,
    )
    .await
    .with_context(|| format!("cannot connect to {}", redact_url(&settings.database_url)))?;
    warn_if_bypassing(&db).await;
    // A `retention.purge` event NOTIFYs the service's processes on PostgreSQL;
    // this process has no subscribers of its own.
    let live = Arc::new(NotifyOtherProcesses(db.clone()));
    Ok(Purger::new(db, live, purge))
}

/// `run-once`: one pass; SIGTERM/Ctrl-C ends it after the batch in flight.
pub async fn run_once(settings: WorkerSettings) -> anyhow::Result<ExitCode> {
    tracing::info!(settings = ?settings, "auditlog-worker: one purge pass");
    let purger = purger(&settings).await?;
    let stopper = purger.clone();
    let signals = tokio::spawn(async move {
        shutdown_signal().await;
        stopper.stop();
    });
    let result = purger.run_pass().await;
    signals.abort();
    let report = result.map_err(|error| {
        anyhow::anyhow!("purge pass failed: {error:?} (is the schema migrated? start `auditlog` once or run `migration up`)")
    })?;
    println!("{}", summary(&report));
    Ok(if report.tenants_failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `run`: passes on the schedule until SIGTERM/Ctrl-C, then finishes the batch
/// in flight, reports it, and exits.
pub async fn run_scheduled(settings: WorkerSettings) -> anyhow::Result<ExitCode> {
    tracing::info!(settings = ?settings, "auditlog-worker starting");
    let purger = purger(&settings).await?;
    if let Some(address) = settings.metrics_listen {
        let bound = crate::metrics::serve(address).await?;
        println!("auditlog-worker metrics on http://{bound}/metrics");
    }
    let signer = TreeHeadSigner::new(purger.db().clone(), settings.tree_heads.configured_key()?);
    let deliverer = settings
        .streams
        .deliverer(
            purger.db().clone(),
            signer.clone(),
            Arc::new(NotifyOtherProcesses(purger.db().clone())),
            unique_holder("worker"),
            settings.retention.rules()?,
        )
        .await?;
    let streams = StreamRunner::start(
        deliverer,
        Duration::from_millis(settings.streams.stream_poll_ms),
        usize::try_from(settings.streams.stream_concurrency).unwrap_or(32),
    );
    let heads = TreeHeadScheduler::start(signer, &settings.tree_heads.tree_head_schedule).await?;
    let scheduler = PurgeScheduler::start(purger, &settings.purge.purge_schedule).await?;
    println!(
        "auditlog-worker scheduled: {}",
        settings.purge.purge_schedule
    );
    shutdown_signal().await;
    heads.stop().await;
    scheduler.stop().await;
    streams.stop().await;
    tracing::info!("auditlog-worker stopped");
    Ok(ExitCode::SUCCESS)
}

/// One line for operators and scripts.
pub fn summary(report: &PassReport) -> String {
    format!(
        "purge pass: {} tenants, {} purged, {} events deleted, {} on legal hold, \
         {} leased by another worker, {} failed{} in {} ms",
        report.tenants,
        report.tenants_purged,
        report.events_deleted,
        report.tenants_on_hold,
        report.tenants_leased_elsewhere,
        report.tenants_failed,
        if report.interrupted {
            ", interrupted"
        } else {
            ""
        },
        report.duration.as_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_modes_and_the_shared_settings() {
        // Settings come before the mode, as with `auditlog` (or from the environment).
        let cli = Cli::try_parse_from([
            "auditlog-worker",
            "--purge-batch-size",
            "10",
            "--database-url",
            "sqlite://x.db",
            "run-once",
        ])
        .unwrap();
        assert!(matches!(cli.command, Some(Command::RunOnce)));
        assert_eq!(cli.settings.purge.purge_batch_size, 10);
        assert!(Cli::try_parse_from(["auditlog-worker", "--purge-batch-size", "0"]).is_err());
    }

    #[test]
    fn debug_output_redacts_the_database_password() {
        let cli =
            Cli::try_parse_from(["auditlog-worker", "--database-url", "postgres://u:pw@h/db"])
                .unwrap();
        assert!(!format!("{:?}", cli.settings).contains("pw"));
    }
}
