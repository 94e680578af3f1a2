//! Counts and times every GraphQL operation by its root field and outcome.
//!
//! The `operation` label is never client-chosen: operation names, aliases and
//! anything else a client writes are ignored. It is the name of the
//! operation's root field when it selects exactly one (`auditEvents`,
//! `recordAuditEvents`, `__schema`, ...), `multiple` when it selects several, and
//! `other` when its root holds fragments or a name the schema does not know.
//! So the series count is bounded by the schema's root fields plus two,
//! whatever clients send.
//!
//! Hooked at the operation (`parse_query` to see the document, `execute` to
//! time it), not per field: a per-field hook runs for every one of the
//! hundreds of fields of a page and showed up in profiles.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use async_graphql::Positioned;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection};
use async_graphql::registry::Registry;
use async_graphql::{Response, ServerResult, Variables};

#[derive(Default)]
pub(super) struct OperationMetrics;

impl ExtensionFactory for OperationMetrics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OperationMetricsExtension::default())
    }
}

/// One request's extension: the label of each operation of its document.
#[derive(Default)]
struct OperationMetricsExtension {
    /// `(operation name, label)` per operation; the name only picks the
    /// operation `execute` runs, it never becomes a label.
    labels: Mutex<Vec<(Option<String>, String)>>,
}

impl OperationMetricsExtension {
    fn label_for(&self, operation_name: Option<&str>) -> String {
        let labels = self.labels.lock().unwrap_or_else(PoisonError::into_inner);
        let chosen = match operation_name {
            Some(name) => labels.iter().find(|(n, _)| n.as_deref() == Some(name)),
            None if labels.len() == 1 => labels.first(),
            None => None,
        };
        chosen.map_or_else(|| "other".to_owned(), |(_, label)| label.clone())
    }
}

/// The label of one operation (see the module docs).
fn root_field_label(
    registry: &Registry,
    root_type: Option<&str>,
    selections: &[Positioned<Selection>],
) -> String {
    let Some(root) = root_type.and_then(|name| registry.types.get(name)) else {
        return "other".into();
    };
    let mut names: Vec<&str> = Vec::new();
    for selection in selections {
        let Selection::Field(field) = &selection.node else {
            return "other".into();
        };
        let name = field.node.name.node.as_str();
        let known = root.field_by_name(name).is_some()
            || matches!(name, "__typename" | "__schema" | "__type");
        if !known {
            return "other".into();
        }
        if !names.contains(&name) {
            names.push(name);
        }
    }
    match names.as_slice() {
        [single] => (*single).to_owned(),
        _ => "multiple".into(),
    }
}

fn labels_of(registry: &Registry, document: &ExecutableDocument) -> Vec<(Option<String>, String)> {
    document
        .operations
        .iter()
        .map(|(name, operation)| {
            let root_type = match operation.node.ty {
                OperationType::Query => Some(registry.query_type.as_str()),
                OperationType::Mutation => registry.mutation_type.as_deref(),
                OperationType::Subscription => registry.subscription_type.as_deref(),
            };
            let items = &operation.node.selection_set.node.items;
            let label = root_field_label(registry, root_type, items);
            (name.map(|n| n.to_string()), label)
        })
        .collect()
}

#[async_trait::async_trait]
impl Extension for OperationMetricsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        *self.labels.lock().unwrap_or_else(PoisonError::into_inner) =
            labels_of(&ctx.schema_env.registry, &document);
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let operation = self.label_for(operation_name);
        let started = Instant::now();
        let response = next.run(ctx, operation_name).await;
        let outcome = if response.errors.is_empty() {
            "ok"
        } else {
            "error"
        };
        metrics::counter!("auditlog_graphql_operations_total", "operation" => operation.clone(), "outcome" => outcome)
            .increment(1);
        metrics::histogram!("auditlog_graphql_operation_duration_seconds", "operation" => operation, "outcome" => outcome)
            .record(started.elapsed().as_secs_f64());
        response
    }
}
