//! [`DocumentGuard`]: everything a request must pass before async-graphql
//! parses, checks or validates its document, in one place every transport
//! goes through (HTTP POST and GET, WebSocket `subscribe`: all call the schema).
//!
//! In `prepare_request`, in this order, stopping at the first refusal:
//! 1. a persisted query's hash is well-formed and matches the text, and a
//!    hash-only request names a cached document ([`documents`]);
//! 2. `variables` nest no deeper than the document nesting bound; else `BAD_USER_INPUT`;
//! 3. the document is taken from the [`DocumentCache`] if this caller's scope
//!    sent the same text before; otherwise:
//!    1. its text passes the linear scan ([`document_scan`]): size, tokens,
//!       nesting; else `GRAPHQL_PARSE_FAILED`;
//!    2. it parses (`GRAPHQL_PARSE_FAILED`);
//!    3. with introspection off, it does not introspect (`INTROSPECTION_DISABLED`,
//!       first, so such a query is refused as such whatever its shape);
//!    4. its shape passes [`shape::check`] (`GRAPHQL_VALIDATION_FAILED`);
//!    5. it is cached once async-graphql's validation passes it too, so
//!       the cache (and so a persisted query's hash) only ever holds
//!       documents that would run;
//! 4. a request marked [`SafeMethod`] (HTTP GET) runs no mutation or
//!    subscription (`METHOD_NOT_ALLOWED`).
//!
//! The parsed document is handed on (`set_parsed_query`), so async-graphql
//! does not parse it again and its own expanding checks (recursion depth,
//! directives per field) and validation only ever see a document whose
//! expansion this guard has bounded. Validation itself is skipped when the
//! same document, operation and variables passed it before (see
//! [`documents`]). The guard also attaches the request's [`ResponseBudget`].
//!
//! [`document_scan`]: super::document_scan
//! [`documents`]: super::documents

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Request, ServerError, ServerResult, ValidationResult};

use super::document_scan::{self, DocumentLimits};
use super::documents::{DocumentCache, DocumentKey, Lookup, ValidationKey};
use super::error_codes::coded_error;
use super::introspection;
use super::shape::{self, SelectionLimit};
use crate::error::code;
use crate::store::ResponseBudget;

/// Request data: the request came by a safe HTTP method (GET), so it may
/// only run a query.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SafeMethod;

#[derive(Clone, Debug)]
pub(super) struct DocumentGuard {
    pub document: DocumentLimits,
    pub selections: SelectionLimit,
    /// Whether `__schema`/`__type` are answered; if not, they are refused here.
    pub introspection: bool,
    /// `AUDITLOG_MAX_RESPONSE_BYTES`: the budget each request starts with.
    pub max_response_bytes: usize,
    pub cache: DocumentCache,
}

impl ExtensionFactory for DocumentGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(GuardedRequest {
            guard: self.clone(),
            pending: Mutex::new(Pending::default()),
        })
    }
}

/// The guard for one request: remembers, between `prepare_request` and
/// `validation`, what to cache once validation passes.
struct GuardedRequest {
    guard: DocumentGuard,
    pending: Mutex<Pending>,
}

#[derive(Default)]
pub(super) struct Pending {
    /// The key the validation outcome is kept under (none for large variables).
    validation_key: Option<ValidationKey>,
    /// A document parsed and checked by this request, not yet cached.
    new_document: Option<(DocumentKey, usize, ExecutableDocument)>,
}

/// A request the guard let through: its document, parsed (or from the
/// cache), not yet handed to the request (`set_parsed_query`).
pub(super) struct Admitted {
    pub request: Request,
    pub document: ExecutableDocument,
    pub pending: Pending,
}

impl Pending {
    /// Caches the document this request parsed, once it passed validation.
    pub(super) fn cache_document(self, cache: &DocumentCache) {
        if let Some((key, text_bytes, document)) = self.new_document {
            cache.insert_document(key, text_bytes, document);
        }
    }
}

#[async_trait::async_trait]
impl Extension for GuardedRequest {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let Admitted {
            mut request,
            document,
            pending,
        } = self.guard.admit(request)?;
        if let Ok(mut kept) = self.pending.lock() {
            *kept = pending;
        }
        request.set_parsed_query(document);
        next.run(ctx, request).await
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let pending = self
            .pending
            .lock()
            .map(|mut pending| std::mem::take(&mut *pending))
            .unwrap_or_default();
        let cached = pending
            .validation_key
            .as_ref()
            .and_then(|key| self.guard.cache.validation(key));
        let result = match cached {
            Some(result) => result,
            None => {
                let result = next.run(ctx).await?;
                if let Some(key) = pending.validation_key {
                    self.guard.cache.insert_validation(key, result);
                }
                result
            }
        };
        // A document evicted while its validation stayed is cached again.
        pending.cache_document(&self.guard.cache);
        Ok(result)
    }
}

impl DocumentGuard {
    /// Steps 1 to 4 of the module docs, and the request's [`ResponseBudget`].
    pub(super) fn admit(&self, request: Request) -> ServerResult<Admitted> {
        let request = request.data(ResponseBudget::new(self.max_response_bytes));
        let (document, pending) = self.admit_document(&request)?;
        if request
            .data
            .contains_key(&std::any::TypeId::of::<SafeMethod>())
            && runs_more_than_a_query(&document, request.operation_name.as_deref())
        {
            return Err(coded_error(
                "mutations and subscriptions cannot be sent with GET; use POST (or the WebSocket)",
                None,
                code::METHOD_NOT_ALLOWED,
            ));
        }
        Ok(Admitted {
            request,
            document,
            pending,
        })
    }

    fn admit_document(&self, request: &Request) -> ServerResult<(ExecutableDocument, Pending)> {
        let lookup = DocumentCache::lookup(request)?;
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
        let mut new_document = None;
        let (key, document) = match lookup {
            Lookup::HashOnly(key) => match self.cache.document(&key) {
                Some(document) => (key, document),
                None => {
                    return Err(coded_error(
                        "PersistedQueryNotFound",
                        None,
                        code::PERSISTED_QUERY_NOT_FOUND,
                    ));
                }
            },
            Lookup::Text(key) => match self.cache.document(&key) {
                Some(document) => (key, document),
                None => {
                    let document = self.check(&request.query)?;
                    new_document = Some((key, request.query.len(), document.clone()));
                    (key, document)
                }
            },
        };
        let pending = Pending {
            validation_key: DocumentCache::validation_key(&key, request),
            new_document,
        };
        Ok((document, pending))
    }

    /// Steps 3.1 to 3.4: a document's text, checked and parsed.
    fn check(&self, text: &str) -> ServerResult<ExecutableDocument> {
        document_scan::scan(text, &self.document).map_err(|refusal| {
            coded_error(refusal.to_string(), None, code::GRAPHQL_PARSE_FAILED)
        })?;
        let document = async_graphql::parser::parse_query(text).map_err(|error| {
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

/// Whether the operation `operation_name` selects (or, unnamed, any
/// operation) is a mutation or a subscription. An unknown name selects
/// nothing: execution refuses it.
fn runs_more_than_a_query(document: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    document.operations.iter().any(|(name, operation)| {
        let selected = match (operation_name, name) {
            (Some(wanted), Some(name)) => wanted == name.as_str(),
            (Some(_), None) => false,
            (None, _) => true,
        };
        selected && operation.node.ty != OperationType::Query
    })
}
