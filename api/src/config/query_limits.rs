//! Bounds on the work one GraphQL request may ask for (document size, tokens
//! and nesting, depth, complexity, selections, aliases, directives, response
//! bytes), and the parsed-document cache. Defaults only; `graphql::SchemaLimits`
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
    /// size of a list: `first`/`last` or 50 on `auditEvents`, 200 on each
    /// facet list, 50 on `apiKeys`). A page of 500 events with every field
    /// costs 14,001.
    #[arg(long, env = "AUDITLOG_MAX_COMPLEXITY", default_value_t = 20_000,
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

    /// Most directives in one place: an operation, a variable definition, a
    /// field, a fragment spread, an inline fragment or a fragment definition.
    #[arg(long, env = "AUDITLOG_MAX_DIRECTIVES", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub max_directives: u32,

    /// Most directives in one document, all places together.
    #[arg(long, env = "AUDITLOG_MAX_DOCUMENT_DIRECTIVES", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_document_directives: u32,

    /// Longest document (the `query` text), in bytes; checked before parsing.
    #[arg(long, env = "AUDITLOG_MAX_DOCUMENT_BYTES", default_value_t = 1024 * 1024,
          value_parser = clap::value_parser!(u32).range(1024..=4 * 1024 * 1024))]
    pub max_document_bytes: u32,

    /// Most tokens in one document (commas and comments not counted); checked
    /// before parsing.
    #[arg(long, env = "AUDITLOG_MAX_DOCUMENT_TOKENS", default_value_t = 50_000,
          value_parser = clap::value_parser!(u32).range(100..=1_000_000))]
    pub max_document_tokens: u32,

    /// Deepest nesting of `{`, `[` and `(` together in a document, and of lists
    /// and objects in `variables`; checked before parsing.
    #[arg(long, env = "AUDITLOG_MAX_NESTING", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(8..=100))]
    pub max_nesting: u32,

    /// Most bytes of one response (an HTTP body, a WebSocket `next` message);
    /// a larger one is refused with `RESPONSE_TOO_LARGE` instead of built.
    #[arg(long, env = "AUDITLOG_MAX_RESPONSE_BYTES", default_value_t = 16 * 1024 * 1024,
          value_parser = clap::value_parser!(u32).range(64 * 1024..=1024 * 1024 * 1024))]
    pub max_response_bytes: u32,

    /// Bytes of document text kept parsed and checked, so a repeated query
    /// (and an automatic persisted query, sent by its hash) skips parsing and
    /// the document checks; parsed, a document takes a few times its text.
    /// 0 turns the cache, and so persisted queries, off.
    #[arg(long, env = "AUDITLOG_DOCUMENT_CACHE_BYTES", default_value_t = 8 * 1024 * 1024,
          value_parser = clap::value_parser!(u32).range(0..=1024 * 1024 * 1024))]
    pub document_cache_bytes: u32,
}

impl Default for QueryLimitsConfig {
    /// The flags' declared defaults (each written once, in its attribute).
    fn default() -> Self {
        auditlog_worker::config::defaults()
    }
}
