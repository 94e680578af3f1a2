//! Builds the schema with its limits and extensions.

use async_graphql::Schema;

use super::context::Services;
use super::error_codes::ErrorCodes;
use super::limits::SelectionLimit;
use super::metrics::OperationMetrics;
use super::mutation::MutationRoot;
use super::query::QueryRoot;
use super::subscription::SubscriptionRoot;

pub type AuditLogSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Bounds on the work one request may ask for.
#[derive(Clone, Copy, Debug)]
pub struct SchemaLimits {
    /// Deepest selection nesting.
    pub max_depth: usize,
    /// async-graphql's complexity (one per field, times page sizes where declared).
    pub max_complexity: usize,
    /// Field selections per request, aliases and `__typename` included.
    pub max_selections: usize,
    /// Directives per field.
    pub max_directives: usize,
    /// Answer `__schema`/`__type` and suggest field names in errors; off in
    /// production mode, where the schema is not advertised to scanners.
    pub introspection: bool,
}

impl Default for SchemaLimits {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_complexity: 1000,
            max_selections: 300,
            max_directives: 4,
            introspection: false,
        }
    }
}

pub fn build_schema(services: Services, limits: SchemaLimits) -> AuditLogSchema {
    let mut builder = Schema::build(QueryRoot, MutationRoot, SubscriptionRoot);
    if !limits.introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder
        .data(services)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_recursive_depth(32)
        .limit_directives(limits.max_directives)
        .extension(ErrorCodes)
        .extension(OperationMetrics::default())
        .extension(SelectionLimit {
            max_selections: limits.max_selections,
        })
        .finish()
}
