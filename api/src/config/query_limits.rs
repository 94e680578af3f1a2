//! Bounds on the work one GraphQL request may ask for (depth, complexity,
//! selections, aliases, directives). Defaults only; `graphql::SchemaLimits`
//! enforces them.

use clap::Args;

/// Flags and environment variables of the per-request query limits.
#[derive(Clone, Debug, Args)]
pub struct QueryLimitsConfig {
    /// Deepest selection nesting a document may have (outside introspection,
    /// which has bounds of its own).
    #[arg(long, env = "AUDITLOG_MAX_DEPTH", default_value_t = 12,
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pub max_depth: u32,

    /// Highest complexity a document may have (one per field, times the page
    /// size of a connection).
    #[arg(long, env = "AUDITLOG_MAX_COMPLEXITY", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_complexity: u32,

    /// Most field selections a document may make, aliases and `__typename`
    /// included, with fragments expanded.
    #[arg(long, env = "AUDITLOG_MAX_SELECTIONS", default_value_t = 300,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_selections: u32,

    /// Most aliased fields a document may have, with fragments expanded
    /// (alias overloading: one cheap field asked for many times).
    #[arg(long, env = "AUDITLOG_MAX_ALIASES", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub max_aliases: u32,

    /// Most directives on one field.
    #[arg(long, env = "AUDITLOG_MAX_DIRECTIVES", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub max_directives: u32,
}

impl Default for QueryLimitsConfig {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_complexity: 1000,
            max_selections: 300,
            max_aliases: 100,
            max_directives: 4,
        }
    }
}
