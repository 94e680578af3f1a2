//! [`DocumentCache`]: parsed documents that passed [`super::guard`], and
//! validation outcomes, kept so a repeated request skips that work; Apollo's
//! automatic persisted queries (APQ) are lookups in the same cache.
//!
//! - A document is keyed by the SHA-256 of its text and by the caller's
//!   [`Scope`] (its tenant, or the operator, or no one). A hash-only request
//!   therefore finds only documents sent by callers of its own tenant: a
//!   document's text can hold a tenant's literals (`actorId: "alice@corp"`),
//!   and whether someone sent it is not another tenant's business.
//! - Only documents that passed every check of the guard and validation are
//!   cached, so a cache hit is a document that would be admitted again; a document's cost is
//!   its text's length, against `AUDITLOG_DOCUMENT_CACHE_BYTES`.
//! - A validation outcome depends on the document, the operation and the
//!   variables' values (they are checked against their types, and page sizes
//!   set the complexity), so it is keyed by all three; only successes are
//!   kept, and only for variables of at most [`MAX_CACHED_VARIABLES_BYTES`]
//!   (a batch of events is checked afresh: it is never sent twice).
//! - APQ: `extensions.persistedQuery = {version: 1, sha256Hash}`. With the
//!   query text, the hash must be the text's SHA-256 (else
//!   `PERSISTED_QUERY_HASH_MISMATCH`) and the document is cached; without
//!   it, an unknown hash is `PERSISTED_QUERY_NOT_FOUND` (message
//!   `PersistedQueryNotFound`), on which Apollo's `PersistedQueryLink` sends
//!   the text.

use std::io::Write;
use std::sync::Arc;

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Request, ServerResult, ValidationResult, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::error_codes::coded_error;
use crate::auth::Principal;
use crate::error::code;

/// Variables larger than this (serialized) are validated on every request.
pub(super) const MAX_CACHED_VARIABLES_BYTES: usize = 4096;

/// Validation outcomes kept (each a few dozen bytes).
const MAX_VALIDATIONS: u64 = 10_000;

/// Whose documents a request may find by hash.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
enum Scope {
    Tenant(Uuid),
    Operator,
    /// No credential, or one that is not accepted: such requests run nothing
    /// tenant-scoped, but may still share documents among themselves.
    Public,
}

impl Scope {
    fn of(request: &Request) -> Self {
        let principal = request
            .data
            .get(&std::any::TypeId::of::<Principal>())
            .and_then(|data| data.downcast_ref::<Principal>());
        match principal {
            Some(Principal::Tenant(caller)) => Self::Tenant(caller.tenant_id),
            Some(Principal::Operator) => Self::Operator,
            _ => Self::Public,
        }
    }
}

/// A document's place in the cache: its scope and the SHA-256 of its text.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub(super) struct DocumentKey {
    scope: Scope,
    hash: [u8; 32],
}

/// The key of a validation outcome: document, operation, variables.
pub(super) type ValidationKey = [u8; 32];

/// What a request brings to find or name its document.
pub(super) enum Lookup {
    /// The text is there: look it up by its hash, else check and cache it.
    Text(DocumentKey),
    /// Only a persisted query's hash: found, or `PERSISTED_QUERY_NOT_FOUND`.
    HashOnly(DocumentKey),
}

struct Cached {
    document: ExecutableDocument,
    text_bytes: u32,
}

/// The shared caches; one per schema.
#[derive(Clone)]
pub(super) struct DocumentCache {
    documents: moka::sync::Cache<DocumentKey, Arc<Cached>>,
    validations: moka::sync::Cache<ValidationKey, ValidationResult>,
}

impl std::fmt::Debug for DocumentCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentCache")
            .field("documents", &self.documents.entry_count())
            .field("validations", &self.validations.entry_count())
            .finish()
    }
}

impl DocumentCache {
    /// A cache holding documents of at most `max_text_bytes` of text in all.
    pub(super) fn new(max_text_bytes: u64) -> Self {
        Self {
            documents: moka::sync::Cache::builder()
                .max_capacity(max_text_bytes)
                .weigher(|_, cached: &Arc<Cached>| cached.text_bytes)
                .build(),
            validations: moka::sync::Cache::builder()
                .max_capacity(if max_text_bytes == 0 {
                    0
                } else {
                    MAX_VALIDATIONS
                })
                .build(),
        }
    }

    /// How `request` finds its document, or why its persisted query is refused.
    pub(super) fn lookup(request: &Request) -> ServerResult<Lookup> {
        let scope = Scope::of(request);
        let persisted = persisted_hash(request)?;
        if request.query.is_empty() {
            return Ok(match persisted {
                Some(hash) => Lookup::HashOnly(DocumentKey { scope, hash }),
                None => Lookup::Text(DocumentKey {
                    scope,
                    hash: Sha256::digest(b"").into(),
                }),
            });
        }
        let hash: [u8; 32] = Sha256::digest(request.query.as_bytes()).into();
        if persisted.is_some_and(|persisted| persisted != hash) {
            return Err(coded_error(
                "`extensions.persistedQuery.sha256Hash` is not the SHA-256 of `query`",
                None,
                code::PERSISTED_QUERY_HASH_MISMATCH,
            ));
        }
        Ok(Lookup::Text(DocumentKey { scope, hash }))
    }

    /// The cached document under `key`, as a copy the request may own.
    pub(super) fn document(&self, key: &DocumentKey) -> Option<ExecutableDocument> {
        self.documents
            .get(key)
            .map(|cached| cached.document.clone())
    }

    /// Keeps a document the guard and validation admitted.
    pub(super) fn insert_document(
        &self,
        key: DocumentKey,
        text_bytes: usize,
        document: ExecutableDocument,
    ) {
        let text_bytes = u32::try_from(text_bytes).unwrap_or(u32::MAX).max(1);
        self.documents.insert(
            key,
            Arc::new(Cached {
                document,
                text_bytes,
            }),
        );
    }

    /// The key of `request`'s validation outcome, if its variables are small
    /// enough to be worth keeping it.
    pub(super) fn validation_key(key: &DocumentKey, request: &Request) -> Option<ValidationKey> {
        let mut hasher = BoundedHasher {
            hasher: Sha256::new(),
            left: MAX_CACHED_VARIABLES_BYTES,
        };
        hasher.hasher.update(key.hash);
        match key.scope {
            Scope::Tenant(id) => hasher.hasher.update(id.as_bytes()),
            Scope::Operator => hasher.hasher.update(b"operator"),
            Scope::Public => hasher.hasher.update(b"public"),
        }
        let operation = request.operation_name.as_deref().unwrap_or_default();
        hasher.hasher.update((operation.len() as u64).to_be_bytes());
        hasher.hasher.update(operation.as_bytes());
        serde_json::to_writer(&mut hasher, &request.variables).ok()?;
        Some(hasher.hasher.finalize().into())
    }

    pub(super) fn validation(&self, key: &ValidationKey) -> Option<ValidationResult> {
        self.validations.get(key)
    }

    pub(super) fn insert_validation(&self, key: ValidationKey, result: ValidationResult) {
        self.validations.insert(key, result);
    }
}

/// The `sha256Hash` of a version-1 `persistedQuery` extension, if present.
fn persisted_hash(request: &Request) -> ServerResult<Option<[u8; 32]>> {
    let Some(extension) = request.extensions.get("persistedQuery") else {
        return Ok(None);
    };
    let invalid = |why: &str| {
        coded_error(
            format!("`extensions.persistedQuery` {why}"),
            None,
            code::BAD_REQUEST,
        )
    };
    let Value::Object(fields) = extension else {
        return Err(invalid("must be an object `{version: 1, sha256Hash}`"));
    };
    match fields.get("version") {
        Some(Value::Number(version)) if version.as_u64() == Some(1) => {}
        _ => return Err(invalid("must have `version: 1` (the only version)")),
    }
    let Some(Value::String(hash)) = fields.get("sha256Hash") else {
        return Err(invalid("must have `sha256Hash`, a hexadecimal SHA-256"));
    };
    let mut decoded = [0u8; 32];
    hex::decode_to_slice(hash, &mut decoded)
        .map_err(|_| invalid("`sha256Hash` must be 64 hexadecimal digits"))?;
    Ok(Some(decoded))
}

/// Feeds a hash and gives up after `left` bytes (`serde_json` then fails).
struct BoundedHasher {
    hasher: Sha256,
    left: usize,
}

impl Write for BoundedHasher {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.left = self
            .left
            .checked_sub(bytes.len())
            .ok_or_else(|| std::io::Error::other("variables too large to cache"))?;
        self.hasher.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_hash(query: &str, hash: &str) -> Request {
        let mut request = Request::new(query);
        request.extensions.insert(
            "persistedQuery".into(),
            async_graphql::value!({ "version": 1, "sha256Hash": hash }),
        );
        request
    }

    #[test]
    fn a_hash_must_be_the_texts() {
        let text = "{ tenant { slug } }";
        let right = hex::encode(Sha256::digest(text));
        assert!(matches!(
            DocumentCache::lookup(&with_hash(text, &right)),
            Ok(Lookup::Text(_))
        ));
        let wrong = hex::encode(Sha256::digest("{ other }"));
        let refused = DocumentCache::lookup(&with_hash(text, &wrong)).err();
        assert!(refused.is_some_and(|error| error.message.contains("not the SHA-256")));
        assert!(matches!(
            DocumentCache::lookup(&with_hash("", &right)),
            Ok(Lookup::HashOnly(_))
        ));
        assert!(DocumentCache::lookup(&with_hash("", "abc")).is_err());
    }

    #[test]
    fn large_variables_have_no_validation_key() {
        let key = DocumentKey {
            scope: Scope::Public,
            hash: [0; 32],
        };
        let small = Request::new("{ a }").variables(async_graphql::Variables::from_json(
            serde_json::json!({ "first": 5 }),
        ));
        assert!(DocumentCache::validation_key(&key, &small).is_some());
        let large = Request::new("{ a }").variables(async_graphql::Variables::from_json(
            serde_json::json!({ "text": "x".repeat(MAX_CACHED_VARIABLES_BYTES) }),
        ));
        assert!(DocumentCache::validation_key(&key, &large).is_none());
    }
}
