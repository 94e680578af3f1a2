//! [`DocumentGuard`]: everything a request must pass before async-graphql
//! parses, checks or validates its document, in one place every transport
//! goes through (HTTP POST and GET, WebSocket `subscribe`: all call the schema).
//!
//! In `prepare_request`, in this order, stopping at the first refusal:
//! 1. the document's text passes the linear scan ([`document_scan`]): size,
//!    tokens, nesting; else `GRAPHQL_PARSE_FAILED`;
//! 2. `variables` nest no deeper than the same nesting bound; else `BAD_USER_INPUT`;
//! 3. the document parses (`GRAPHQL_PARSE_FAILED`);
//! 4. with introspection off, it does not introspect (`INTROSPECTION_DISABLED`,
//!    first, so such a query is refused as such whatever its shape);
//! 5. its shape passes [`shape::check`] (`GRAPHQL_VALIDATION_FAILED`).
//!
//! The parsed document is handed on (`set_parsed_query`), so async-graphql
//! does not parse it again and its own expanding checks (recursion depth,
//! directives per field) and validation only ever see a document whose
//! expansion this guard has bounded. It also attaches the request's
//! [`ResponseBudget`].
//!
//! [`document_scan`]: super::document_scan

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::{Request, ServerError, ServerResult};

use super::document_scan::{self, DocumentLimits};
use super::error_codes::coded_error;
use super::introspection;
use super::shape::{self, SelectionLimit};
use crate::error::code;
use crate::store::ResponseBudget;

#[derive(Clone, Copy, Debug)]
pub(super) struct DocumentGuard {
    pub document: DocumentLimits,
    pub selections: SelectionLimit,
    /// Whether `__schema`/`__type` are answered; if not, they are refused here.
    pub introspection: bool,
    /// `AUDITLOG_MAX_RESPONSE_BYTES`: the budget each request starts with.
    pub max_response_bytes: usize,
}

impl ExtensionFactory for DocumentGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(*self)
    }
}

#[async_trait::async_trait]
impl Extension for DocumentGuard {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let mut request = request.data(ResponseBudget::new(self.max_response_bytes));
        let document = self.admit(&request)?;
        request.set_parsed_query(document);
        next.run(ctx, request).await
    }
}

impl DocumentGuard {
    fn admit(
        &self,
        request: &Request,
    ) -> ServerResult<async_graphql::parser::types::ExecutableDocument> {
        document_scan::scan(&request.query, &self.document).map_err(|refusal| {
            coded_error(refusal.to_string(), None, code::GRAPHQL_PARSE_FAILED)
        })?;
        if document_scan::variables_too_deep(&request.variables, self.document.max_nesting) {
            return Err(coded_error(
                format!(
                    "`variables` nest lists and objects deeper than {} (AUDITLOG_MAX_NESTING)",
                    self.document.max_nesting
                ),
                None,
                code::BAD_USER_INPUT,
            ));
        }
        let document = async_graphql::parser::parse_query(&request.query).map_err(|error| {
            let error: ServerError = error.into();
            coded_error(
                error.message,
                error.locations.first().copied(),
                code::GRAPHQL_PARSE_FAILED,
            )
        })?;
        if !self.introspection
            && let Some(refusal) = introspection::refusal(&document)
        {
            return Err(refusal);
        }
        shape::check(&document, &self.selections)?;
        Ok(document)
    }
}
