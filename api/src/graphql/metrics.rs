//! Counts and times the root fields of every operation (`auditEvents`,
//! `recordAuditEvents`, ...), by outcome. Root field names are bounded by the
//! schema, unlike client-chosen operation names.

use std::sync::Arc;
use std::time::Instant;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{ServerResult, Value};

pub struct FieldMetrics;

impl ExtensionFactory for FieldMetrics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(FieldMetrics)
    }
}

#[async_trait::async_trait]
impl Extension for FieldMetrics {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.path_node.parent.is_some() {
            return next.run(ctx, info).await;
        }
        let field = info.name.to_owned();
        let started = Instant::now();
        let result = next.run(ctx, info).await;
        let outcome = if result.is_ok() { "ok" } else { "error" };
        metrics::counter!("auditlog_graphql_fields_total", "field" => field.clone(), "outcome" => outcome).increment(1);
        metrics::histogram!("auditlog_graphql_field_duration_seconds", "field" => field)
            .record(started.elapsed().as_secs_f64());
        result
    }
}
