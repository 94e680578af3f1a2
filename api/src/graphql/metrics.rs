//! Counts and times every GraphQL operation by operation type, name and outcome.
//!
//! Hooked at the operation (`execute`), not per field: a per-field hook runs for
//! every one of the hundreds of fields of a page and showed up in profiles. The
//! client-chosen operation name is kept only if it is a plain identifier of at
//! most 64 characters, and at most [`MAX_NAMES`] distinct names are labelled
//! per process (later ones count as `other`), so clients cannot blow up the
//! number of series.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_graphql::Response;
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute};

/// Distinct operation names labelled per process.
const MAX_NAMES: usize = 200;

#[derive(Default)]
pub struct OperationMetrics {
    names: Arc<Mutex<HashSet<String>>>,
}

impl ExtensionFactory for OperationMetrics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OperationMetricsExtension {
            names: self.names.clone(),
        })
    }
}

struct OperationMetricsExtension {
    names: Arc<Mutex<HashSet<String>>>,
}

impl OperationMetricsExtension {
    fn label(&self, name: Option<&str>) -> String {
        let Some(name) = name else {
            return "anonymous".into();
        };
        let plain = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !plain {
            return "other".into();
        }
        let mut names = self
            .names
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if names.contains(name) || (names.len() < MAX_NAMES && names.insert(name.to_owned())) {
            name.to_owned()
        } else {
            "other".into()
        }
    }
}

#[async_trait::async_trait]
impl Extension for OperationMetricsExtension {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let operation = self.label(operation_name);
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
