//! Runtime configuration: one typed struct, filled from flags and environment
//! variables by clap, so `--help` and docs/configuration.md say the same thing.
//!
//! This module owns defaults and nothing else; it performs no I/O.

use std::net::SocketAddr;

use clap::Args;

mod connections;
mod database_roles;
mod frame_ancestors;
mod limits;
mod metrics;
mod oidc;
mod origins;
mod query_limits;
mod read_replica;
mod secrets;
mod view_audit;
mod viewer_tokens;
pub use crate::store::connection::redact_url;
pub use auditlog_worker::config::{PurgeConfig, RetentionConfig, StreamConfig, TreeHeadConfig};
pub use auditlog_worker::secret::{DatabaseUrl, Secret};
pub use connections::ConnectionsConfig;
pub use database_roles::DatabaseRolesConfig;
pub use frame_ancestors::{FrameAncestors, FrameAncestorsConfig};
pub use limits::LimitsConfig;
pub use metrics::{MetricsConfig, MetricsListen};
pub use oidc::OidcConfig;
pub use origins::{CrossOrigins, OriginsConfig};
pub use query_limits::QueryLimitsConfig;
pub use read_replica::ReadReplicaConfig;
pub use secrets::MIN_SECRET_CHARS;
pub use view_audit::ViewAuditConfig;
pub use viewer_tokens::ViewerTokensConfig;

/// Everything the HTTP service needs to start. Every field has a flag and an
/// environment variable; secrets are only ever read from the environment or a flag
/// and never printed (see the manual `Debug` impl).
#[derive(Clone, Debug, Args)]
pub struct Settings {
    /// `production` (the default: no GraphiQL, introspection or field
    /// suggestions, JSON logs, durability checks at start) or `development`.
    #[arg(long = "environment", env = "AUDITLOG_ENV", value_enum, default_value_t = Environment::Production)]
    pub environment: Environment,

    /// Shorthand for `--environment development` (the README's quick start).
    #[arg(long, global = true)]
    pub dev: bool,

    /// Database to use: `sqlite://path?mode=rwc` (embedded default) or `postgres://...`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://auditlog.db?mode=rwc"
    )]
    pub database_url: DatabaseUrl,

    /// Address the HTTP server listens on (`127.0.0.1:0` picks a free port).
    #[arg(long, env = "AUDITLOG_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Token of the platform operator (may call `createTenant`). Unset: operator API off.
    #[arg(long, env = "AUDITLOG_OPERATOR_TOKEN", hide_env_values = true)]
    pub operator_token: Option<Secret>,

    /// Apply pending migrations at start. Set to `false` when operators migrate separately.
    #[arg(long, env = "AUDITLOG_AUTO_MIGRATE", default_value_t = true, action = clap::ArgAction::Set)]
    pub auto_migrate: bool,

    /// Upper bound of the database connection pool.
    #[arg(long, env = "AUDITLOG_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,

    /// Milliseconds a request waits for a database connection before it fails
    /// with `UNAVAILABLE` (also bounds opening one): requests fail fast while
    /// the database is down instead of hanging.
    #[arg(long, env = "AUDITLOG_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 2000,
          value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub db_acquire_timeout_ms: u64,

    /// Seconds the service keeps retrying at start while the database is
    /// unreachable (e.g. starting or restarting); 0 tries once.
    #[arg(long, env = "AUDITLOG_DB_STARTUP_WAIT_SECS", default_value_t = 30)]
    pub db_startup_wait_secs: u64,

    /// Seconds SIGTERM/Ctrl-C waits for in-flight requests, batches and
    /// WebSocket connections to finish before the process exits anyway.
    #[arg(long, env = "AUDITLOG_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    pub shutdown_grace_secs: u64,

    /// Start in production mode even though the database is configured so that
    /// an acknowledged event could be lost in a crash (PostgreSQL `fsync=off`
    /// or `synchronous_commit=off`; SQLite WAL with `synchronous` below FULL).
    #[arg(long, env = "AUDITLOG_ALLOW_UNSAFE_DURABILITY", default_value_t = false, action = clap::ArgAction::Set)]
    pub allow_unsafe_durability: bool,

    /// Secret that signs pagination cursors. Unset: a random key is generated once
    /// and kept in the database, so cursors survive restarts and work across replicas.
    #[arg(long, env = "AUDITLOG_CURSOR_KEY", hide_env_values = true)]
    pub cursor_key: Option<Secret>,

    /// Secret the browser login's encrypted flow cookie is keyed from. Unset:
    /// derived from the cursor key (as before it had a setting of its own), so
    /// existing deployments keep working; set it to rotate the two apart.
    #[arg(long, env = "AUDITLOG_LOGIN_COOKIE_KEY", hide_env_values = true)]
    pub login_cookie_key: Option<Secret>,

    /// The key that signs viewer tokens (`AUDITLOG_VIEWER_TOKEN_KEY`).
    #[command(flatten)]
    pub viewer_tokens: ViewerTokensConfig,

    /// Milliseconds a verified API key is remembered in this process (saves its
    /// database lookups on every request). A revocation or policy change is
    /// seen at once by this process and within this period by other replicas.
    /// `0` turns the cache off.
    #[arg(long, env = "AUDITLOG_AUTH_CACHE_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub auth_cache_ms: u64,

    /// Seconds a WebSocket client has to send `connection_init` (close 4408 after).
    #[arg(long, env = "AUDITLOG_WS_INIT_TIMEOUT", default_value_t = 10)]
    pub ws_init_timeout_secs: u64,

    /// Events a live subscriber may fall behind before its subscription is ended
    /// with a `SUBSCRIBER_LAGGED` error (it then resumes with `afterSequence`).
    #[arg(long, env = "AUDITLOG_SUBSCRIBER_BUFFER", default_value_t = 4096)]
    pub subscriber_buffer: usize,

    /// Serve GraphiQL on `GET /graphql` to browsers. Default: on in development
    /// mode only.
    #[arg(long, env = "AUDITLOG_GRAPHIQL", action = clap::ArgAction::Set)]
    pub graphiql: Option<bool>,

    /// Answer introspection queries (`__schema`, `__type`). Default: on in
    /// development mode only; production may enable it explicitly.
    #[arg(long, env = "AUDITLOG_INTROSPECTION", action = clap::ArgAction::Set)]
    pub introspection: Option<bool>,

    /// Bounds on one GraphQL request (document size, tokens and nesting, depth,
    /// complexity, selections, aliases, directives, response bytes).
    #[command(flatten)]
    pub query_limits: QueryLimitsConfig,

    #[command(flatten)]
    pub retention: RetentionConfig,

    /// Run the retention purge on its schedule inside this process. Safe with
    /// any number of replicas and workers (a lease per tenant); turn it off when
    /// `auditlog-worker` runs as its own deployment.
    #[arg(long, env = "AUDITLOG_IN_PROCESS_PURGE", default_value_t = true, action = clap::ArgAction::Set)]
    pub in_process_purge: bool,

    #[command(flatten)]
    pub purge: PurgeConfig,

    /// Sign tree heads on their schedule inside this process. Safe with any
    /// number of replicas and workers (one head per tenant and size); turn it
    /// off when `auditlog-worker` runs as its own deployment.
    #[arg(long, env = "AUDITLOG_IN_PROCESS_TREE_HEADS", default_value_t = true, action = clap::ArgAction::Set)]
    pub in_process_tree_heads: bool,

    /// How tree heads are signed (`AUDITLOG_TREE_HEAD_SCHEDULE`, `AUDITLOG_SIGNING_KEY`).
    #[command(flatten)]
    pub tree_heads: TreeHeadConfig,

    /// Deliver log streams inside this process. Safe with any number of
    /// replicas and workers (a lease per stream); turn it off when
    /// `auditlog-worker` runs as its own deployment.
    #[arg(long, env = "AUDITLOG_IN_PROCESS_STREAMS", default_value_t = true, action = clap::ArgAction::Set)]
    pub in_process_streams: bool,

    /// How log streams are delivered (`AUDITLOG_STREAM_*`).
    #[command(flatten)]
    pub streams: StreamConfig,

    /// Sign-in for people through an OpenID Provider (all optional).
    #[command(flatten)]
    pub oidc: OidcConfig,

    /// Origins whose pages may call the API from another origin (CORS,
    /// cookies, WebSockets).
    #[command(flatten)]
    pub origins: OriginsConfig,

    /// Pages that may show the built-in viewer in a frame.
    #[command(flatten)]
    pub frame_ancestors: FrameAncestorsConfig,

    /// Rate limits, ingest quotas, timeouts and WebSocket caps.
    #[command(flatten)]
    pub limits: LimitsConfig,
    /// The owner connection for migrations and the RLS-bypass override (PostgreSQL).
    #[command(flatten)]
    pub database_roles: DatabaseRolesConfig,
    /// A hot standby for event lists, search and facets (PostgreSQL).
    #[command(flatten)]
    pub read_replica: ReadReplicaConfig,
    /// Header-read and keep-alive timeouts, connection caps.
    #[command(flatten)]
    pub connections: ConnectionsConfig,
    /// Where `/metrics` is served (its own listener; the main port only with a token).
    #[command(flatten)]
    pub metrics: MetricsConfig,
    /// Reads recorded as `audit_log.view` (window, API keys).
    #[command(flatten)]
    pub view_audit: ViewAuditConfig,
}

/// Which defaults apply: production is safe to expose; development is
/// convenient on a laptop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Environment {
    #[default]
    Production,
    Development,
}

impl Settings {
    /// The effective mode: `--dev` wins over `AUDITLOG_ENV`.
    pub fn mode(&self) -> Environment {
        if self.dev {
            Environment::Development
        } else {
            self.environment
        }
    }

    pub fn is_development(&self) -> bool {
        self.mode() == Environment::Development
    }

    /// GraphiQL is a development tool unless configured otherwise.
    pub fn graphiql_enabled(&self) -> bool {
        self.graphiql.unwrap_or(self.is_development())
    }

    /// Introspection (and "Did you mean ..." suggestions, which leak the schema
    /// the same way) follow this switch.
    pub fn introspection_enabled(&self) -> bool {
        self.introspection.unwrap_or(self.is_development())
    }

    /// Settings for a given database with every other value at its default;
    /// used by the CLI and by the integration tests.
    pub fn for_database(database_url: impl Into<DatabaseUrl>) -> Self {
        Self {
            database_url: database_url.into(),
            ..auditlog_worker::config::defaults()
        }
    }
}
