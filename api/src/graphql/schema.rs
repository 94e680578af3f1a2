//! Builds the schema with its limits and extensions, and the HTTP
//! [`Executor`] (the same schema without extensions).

use std::sync::Arc;

use async_graphql::{Schema, SchemaBuilder};

use super::context::Services;
use super::document_scan::DocumentLimits;
use super::documents::DocumentCache;
use super::error_codes::ErrorCodes;
use super::executor::Executor;
use super::guard::DocumentGuard;
use super::metrics::{OperationMetrics, RootFields};
use super::mutation::MutationRoot;
use super::pagination::AuditEventConnection;
use super::query::QueryRoot;
use super::shape::SelectionLimit;
use super::subscription::SubscriptionRoot;
use crate::config::QueryLimitsConfig;

pub(crate) type AuditLogSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Bounds on the work one request may ask for.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SchemaLimits {
    /// Deepest selection nesting outside introspection (introspection has its
    /// own bounds, see `limits`).
    pub max_depth: usize,
    /// async-graphql's complexity (one per field, times page sizes where declared).
    pub max_complexity: usize,
    /// Field selections per request, aliases and `__typename` included.
    pub max_selections: usize,
    /// Aliased fields per request (alias overloading), `__typename` included.
    pub max_aliases: usize,
    /// Directives in one place (operation, variable, field, spread, fragment).
    pub max_directives: usize,
    /// Directives in one document.
    pub max_document_directives: usize,
    /// Size, tokens and nesting of the document's text (and variables' nesting).
    pub document: DocumentLimits,
    /// Bytes of one response.
    pub max_response_bytes: usize,
    /// Bytes of document text the parsed-document cache (and so the
    /// persisted queries) may hold.
    pub document_cache_bytes: u64,
    /// Answer `__schema`/`__type` and suggest field names in errors; off in
    /// production mode, where the schema is not advertised to scanners and
    /// introspection queries get `INTROSPECTION_DISABLED`.
    pub introspection: bool,
}

impl SchemaLimits {
    /// The configured limits (`AUDITLOG_MAX_*`).
    pub(crate) fn from_config(config: &QueryLimitsConfig, introspection: bool) -> Self {
        let size = |value: u32| usize::try_from(value).unwrap_or(usize::MAX);
        Self {
            max_depth: size(config.max_depth),
            max_complexity: size(config.max_complexity),
            max_selections: size(config.max_selections),
            max_aliases: size(config.max_aliases),
            max_directives: size(config.max_directives),
            max_document_directives: size(config.max_document_directives),
            document: DocumentLimits {
                max_bytes: size(config.max_document_bytes),
                max_tokens: size(config.max_document_tokens),
                max_nesting: size(config.max_nesting),
            },
            max_response_bytes: size(config.max_response_bytes),
            document_cache_bytes: u64::from(config.document_cache_bytes),
            introspection,
        }
    }
}

impl Default for SchemaLimits {
    fn default() -> Self {
        Self::from_config(&QueryLimitsConfig::default(), false)
    }
}

/// The schema's types, with descriptions for the types async-graphql brings
/// (its own describe the Rust implementation, not the contract).
pub(crate) fn schema_builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    )
    .override_output_type_description::<AuditEventConnection>(
        "A page of audit events, newest first (a Relay connection): \
             `edges` with cursors, or just `nodes`, and `pageInfo` to page on.",
    )
    .override_output_type_description::<super::integrity::SignedTreeHeadConnection>(
        "A page of signed tree heads, newest (largest tree) first (a Relay connection).",
    )
}

/// The schema run by the WebSocket (with the extensions) and the
/// [`Executor`] that runs HTTP requests on a copy without them; both share
/// the services and the document cache.
pub(crate) fn build_schema(services: Services, limits: SchemaLimits) -> (AuditLogSchema, Executor) {
    let guard = DocumentGuard {
        document: limits.document,
        selections: SelectionLimit {
            max_selections: limits.max_selections,
            max_aliases: limits.max_aliases,
            max_depth: limits.max_depth,
            max_directives: limits.max_directives,
            max_document_directives: limits.max_document_directives,
        },
        introspection: limits.introspection,
        max_response_bytes: limits.max_response_bytes,
        cache: DocumentCache::new(limits.document_cache_bytes),
    };
    let plain = limited(schema_builder().data(services.clone()), &limits).finish();
    let roots = Arc::new(RootFields::of_sdl(&plain.sdl()));
    let extended = limited(schema_builder().data(services), &limits)
        .extension(ErrorCodes)
        .extension(OperationMetrics {
            roots: roots.clone(),
        })
        .extension(guard.clone())
        .finish();
    (extended, Executor::new(plain, guard, roots))
}

fn limited(
    builder: SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot>,
    limits: &SchemaLimits,
) -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    let builder = builder
        .limit_complexity(limits.max_complexity)
        .limit_recursive_depth(32)
        .limit_directives(limits.max_directives);
    if limits.introspection {
        builder
    } else {
        // `DocumentGuard` refuses introspection queries with a clear code.
        builder.disable_introspection().disable_suggestions()
    }
}
