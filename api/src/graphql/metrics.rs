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
//! On the WebSocket, hooked at the operation (`parse_query` to see the
//! document, `execute` to time it), not per field; over HTTP the executor
//! (`super::executor`) labels and times the request itself.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use async_graphql::Positioned;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery,
};
use async_graphql::parser::types::{
    ExecutableDocument, OperationType, Selection, TypeKind, TypeSystemDefinition,
};
use async_graphql::{Response, ServerResult, Variables};

/// The root fields of each operation type, read once from the schema's SDL
/// (async-graphql keeps its registry to itself outside extensions).
#[derive(Debug, Default)]
pub(super) struct RootFields {
    query: HashSet<String>,
    mutation: HashSet<String>,
    subscription: HashSet<String>,
}

impl RootFields {
    /// The root fields `sdl` declares (its types `Query`, `Mutation` and
    /// `Subscription`, or those its `schema` block names).
    pub(super) fn of_sdl(sdl: &str) -> Self {
        let mut roots = Self::default();
        let Ok(document) = async_graphql::parser::parse_schema(sdl) else {
            return roots;
        };
        let mut names = [
            "Query".to_owned(),
            "Mutation".to_owned(),
            "Subscription".to_owned(),
        ];
        for definition in &document.definitions {
            if let TypeSystemDefinition::Schema(schema) = definition {
                let schema = &schema.node;
                for (slot, name) in
                    names
                        .iter_mut()
                        .zip([&schema.query, &schema.mutation, &schema.subscription])
                {
                    if let Some(name) = name {
                        *slot = name.node.to_string();
                    }
                }
            }
        }
        for definition in &document.definitions {
            let TypeSystemDefinition::Type(definition) = definition else {
                continue;
            };
            let TypeKind::Object(object) = &definition.node.kind else {
                continue;
            };
            let name = definition.node.name.node.as_str();
            let fields = object.fields.iter().map(|f| f.node.name.node.to_string());
            if name == names[0] {
                roots.query.extend(fields);
            } else if name == names[1] {
                roots.mutation.extend(fields);
            } else if name == names[2] {
                roots.subscription.extend(fields);
            }
        }
        roots
    }

    fn of(&self, ty: OperationType) -> &HashSet<String> {
        match ty {
            OperationType::Query => &self.query,
            OperationType::Mutation => &self.mutation,
            OperationType::Subscription => &self.subscription,
        }
    }

    /// The label of the operation `operation_name` picks from `document`
    /// (as execution picks it), `other` when it picks none.
    pub(super) fn label(
        &self,
        document: &ExecutableDocument,
        operation_name: Option<&str>,
    ) -> String {
        label_for(&self.labels_of(document), operation_name)
    }

    fn labels_of(&self, document: &ExecutableDocument) -> Vec<(Option<String>, String)> {
        document
            .operations
            .iter()
            .map(|(name, operation)| {
                let items = &operation.node.selection_set.node.items;
                let label = root_field_label(self.of(operation.node.ty), items);
                (name.map(|n| n.to_string()), label)
            })
            .collect()
    }
}

pub(super) struct OperationMetrics {
    pub roots: Arc<RootFields>,
}

impl ExtensionFactory for OperationMetrics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OperationMetricsExtension {
            roots: self.roots.clone(),
            labels: Mutex::default(),
        })
    }
}

/// One request's extension: the label of each operation of its document.
struct OperationMetricsExtension {
    roots: Arc<RootFields>,
    /// `(operation name, label)` per operation; the name only picks the
    /// operation `execute` runs, it never becomes a label.
    labels: Mutex<Vec<(Option<String>, String)>>,
}

fn label_for(labels: &[(Option<String>, String)], operation_name: Option<&str>) -> String {
    let chosen = match operation_name {
        Some(name) => labels.iter().find(|(n, _)| n.as_deref() == Some(name)),
        None if labels.len() == 1 => labels.first(),
        None => None,
    };
    chosen.map_or_else(|| "other".to_owned(), |(_, label)| label.clone())
}

/// The label of one operation (see the module docs).
fn root_field_label(root: &HashSet<String>, selections: &[Positioned<Selection>]) -> String {
    if root.is_empty() {
        return "other".into();
    }
    let mut names: Vec<&str> = Vec::new();
    for selection in selections {
        let Selection::Field(field) = &selection.node else {
            return "other".into();
        };
        let name = field.node.name.node.as_str();
        let known = root.contains(name) || matches!(name, "__typename" | "__schema" | "__type");
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

/// Counts and times one executed operation.
pub(super) fn record(operation: String, response: &Response, started: Instant) {
    let outcome = if response.errors.is_empty() {
        "ok"
    } else {
        "error"
    };
    metrics::counter!("auditlog_graphql_operations_total", "operation" => operation.clone(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!("auditlog_graphql_operation_duration_seconds", "operation" => operation, "outcome" => outcome)
        .record(started.elapsed().as_secs_f64());
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
            self.roots.labels_of(&document);
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let operation = {
            let labels = self.labels.lock().unwrap_or_else(PoisonError::into_inner);
            label_for(&labels, operation_name)
        };
        let started = Instant::now();
        let response = next.run(ctx, operation_name).await;
        record(operation, &response, started);
        response
    }
}
