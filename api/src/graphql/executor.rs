//! [`Executor`]: how HTTP requests run, on a copy of the schema without
//! extensions.
//!
//! async-graphql routes every field of a response through the extensions'
//! `resolve` chain as soon as one extension is registered, even one that only
//! hooks the request; on a page of 50 events (about a thousand fields) that
//! chain cost about a third of the service's time per read in the `reads`
//! bench. The three extensions (`guard`, `error_codes`, `metrics`) only need
//! the request as a whole, so over HTTP this runs their work around
//! `Schema::execute` instead:
//! - before: [`DocumentGuard::admit`] (limits, the document cache, persisted
//!   queries, safe methods, the response budget), and the operation's label;
//! - after: errors are coded ([`error_codes::code_unhooked_errors`]), a newly
//!   parsed document is cached if it passed validation, and an operation that
//!   ran is counted and timed.
//!
//! The one thing lost is the cache of validation results: async-graphql
//! validates every HTTP request (for the documents the guard admits, that
//! costs microseconds). The WebSocket runs operations on the schema with the
//! extensions, which also code subscription errors.

use std::sync::Arc;
use std::time::Instant;

use async_graphql::{Request, Response};

use super::error_codes;
use super::guard::{Admitted, DocumentGuard};
use super::metrics::{self, RootFields};
use super::schema::AuditLogSchema;

#[derive(Clone)]
pub(crate) struct Executor {
    /// The schema built without extensions.
    schema: AuditLogSchema,
    guard: DocumentGuard,
    roots: Arc<RootFields>,
}

impl Executor {
    pub(super) fn new(
        schema: AuditLogSchema,
        guard: DocumentGuard,
        roots: Arc<RootFields>,
    ) -> Self {
        Self {
            schema,
            guard,
            roots,
        }
    }

    /// Runs one request, as the schema with its extensions would.
    pub(crate) async fn execute(&self, request: Request) -> Response {
        let Admitted {
            mut request,
            document,
            pending,
        } = match self.guard.admit(request) {
            Ok(admitted) => admitted,
            Err(refusal) => {
                let mut response = Response::from_errors(vec![refusal]);
                error_codes::code_unhooked_errors(&mut response);
                return response;
            }
        };
        let operation = self
            .roots
            .label(&document, request.operation_name.as_deref());
        request.set_parsed_query(document);
        let started = Instant::now();
        let mut response = self.schema.execute(request).await;
        if error_codes::code_unhooked_errors(&mut response) {
            pending.cache_document(&self.guard.cache);
            metrics::record(operation, &response, started);
        }
        response
    }
}
