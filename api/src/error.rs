//! Error policy of the API layer.
//!
//! - [`ApiError`] is the one error type resolvers return. Each variant maps to a
//!   GraphQL `extensions.code` (Apollo's vocabulary where one exists), which is
//!   the contract with clients: they branch on the code, never on the message.
//! - Client errors carry a message written for the client.
//! - [`ApiError::Internal`] wraps anything unexpected (database down, bug). Its
//!   details are logged with `tracing` at `error` level and never sent: the
//!   client only sees `INTERNAL_SERVER_ERROR` and a request-independent message.
//! - [`ApiError::Unavailable`] is a database that cannot be reached (see
//!   [`unavailable`] for what counts): `UNAVAILABLE`, retryable, logged at
//!   `warn`; the HTTP transport answers 503 with `Retry-After`.
//! - The store layer has its own [`crate::store::StoreError`]; it converts here.

pub(crate) mod unavailable;

use async_graphql::ErrorExtensions;
use entity::store::StoreError;

/// `extensions.code` values, as constants so tests and docs quote the same strings.
pub(crate) mod code {
    pub(crate) const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub(crate) const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub(crate) const FORBIDDEN: &str = "FORBIDDEN";
    pub(crate) const TENANT_REQUIRED: &str = "TENANT_REQUIRED";
    pub(crate) const TENANT_NOT_FOUND: &str = "TENANT_NOT_FOUND";
    pub(crate) const NOT_FOUND: &str = "NOT_FOUND";
    pub(crate) const CONFLICT: &str = "CONFLICT";
    pub(crate) const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
    pub(crate) const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    pub(crate) const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    pub(crate) const INTROSPECTION_DISABLED: &str = "INTROSPECTION_DISABLED";
    pub(crate) const BAD_REQUEST: &str = "BAD_REQUEST";
    pub(crate) const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    pub(crate) const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    pub(crate) const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    pub(crate) const NOT_ACCEPTABLE: &str = "NOT_ACCEPTABLE";
    pub(crate) const SUBSCRIBER_LAGGED: &str = "SUBSCRIBER_LAGGED";
    pub(crate) const RATE_LIMITED: &str = "RATE_LIMITED";
    pub(crate) const QUOTA_EXCEEDED: &str = "QUOTA_EXCEEDED";
    pub(crate) const EXPORT_IN_PROGRESS: &str = "EXPORT_IN_PROGRESS";
    pub(crate) const TIMEOUT: &str = "TIMEOUT";
    pub(crate) const TOO_MANY_SUBSCRIPTIONS: &str = "TOO_MANY_SUBSCRIPTIONS";
    pub(crate) const UNAVAILABLE: &str = "UNAVAILABLE";
    pub(crate) const RESPONSE_TOO_LARGE: &str = "RESPONSE_TOO_LARGE";
    pub(crate) const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    pub(crate) const PERSISTED_QUERY_HASH_MISMATCH: &str = "PERSISTED_QUERY_HASH_MISMATCH";
}

/// What a client is told when the database cannot be reached: retry, and for
/// `recordAuditEvents` with the same idempotency keys (the batch may have been
/// stored if the connection was lost during its commit).
pub(crate) const UNAVAILABLE_MESSAGE: &str = "the database is unavailable; retry the request \
     (recordAuditEvents: with the same idempotency keys)";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is well-formed GraphQL but a value is unacceptable.
    /// `index` points into a batch (`recordAuditEvents(events: [...])`).
    #[error("{message}")]
    BadUserInput {
        message: String,
        index: Option<usize>,
    },
    /// No credential, or one that matches nothing (unknown, revoked, malformed).
    #[error("{0}")]
    Unauthenticated(String),
    /// A valid credential whose role does not allow the operation.
    #[error("{0}")]
    Forbidden(String),
    /// A platform key asked for tenant data without naming the tenant
    /// (`Auditlog-Tenant`).
    #[error("{0}")]
    TenantRequired(String),
    /// A platform key named a tenant (`Auditlog-Tenant`) that does not exist.
    #[error("{0}")]
    TenantNotFound(String),
    /// The object does not exist *for this caller* (another tenant's ids included).
    #[error("{0}")]
    NotFound(String),
    /// The request contradicts stored state, e.g. an idempotency key reused with another body.
    #[error("{message}")]
    Conflict {
        message: String,
        index: Option<usize>,
    },
    /// A live subscriber fell further behind than its buffer; the message says
    /// which `afterSequence` resumes it without a gap.
    #[error("{0}")]
    SubscriberLagged(String),
    /// The tenant's ingest quota (events per minute) does not allow the batch
    /// now; nothing was recorded. `extensions.retryAfterSeconds` says when to retry.
    #[error("{message}")]
    QuotaExceeded {
        message: String,
        retry_after_secs: u64,
    },
    /// A database statement ran past `AUDITLOG_DB_STATEMENT_TIMEOUT_MS` and
    /// was cancelled (its transaction rolled back).
    #[error("{0}")]
    Timeout(String),
    /// The response would exceed `AUDITLOG_MAX_RESPONSE_BYTES`; nothing more
    /// of it is built.
    #[error(transparent)]
    ResponseTooLarge(#[from] crate::store::ResponseTooLarge),
    /// The database cannot be reached or refuses work for now; retryable.
    /// Logged, never shown.
    #[error(transparent)]
    Unavailable(anyhow::Error),
    /// Anything else; logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::BadUserInput {
            message: message.into(),
            index: None,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUserInput { .. } => code::BAD_USER_INPUT,
            Self::Unauthenticated(_) => code::UNAUTHENTICATED,
            Self::Forbidden(_) => code::FORBIDDEN,
            Self::TenantRequired(_) => code::TENANT_REQUIRED,
            Self::TenantNotFound(_) => code::TENANT_NOT_FOUND,
            Self::NotFound(_) => code::NOT_FOUND,
            Self::Conflict { .. } => code::CONFLICT,
            Self::SubscriberLagged(_) => code::SUBSCRIBER_LAGGED,
            Self::QuotaExceeded { .. } => code::QUOTA_EXCEEDED,
            Self::Timeout(_) => code::TIMEOUT,
            Self::ResponseTooLarge(_) => code::RESPONSE_TOO_LARGE,
            Self::Unavailable(_) => code::UNAVAILABLE,
            // A database failure wrapped in context elsewhere is still one.
            Self::Internal(cause) if unavailable::is_unavailable_chain(cause) => code::UNAVAILABLE,
            Self::Internal(_) => code::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        if crate::db::is_statement_timeout(&error) {
            tracing::warn!(error = %error, "a database statement timed out");
            return Self::Timeout("a database statement took too long and was cancelled".into());
        }
        if unavailable::is_unavailable(&error) {
            return Self::Unavailable(anyhow::Error::new(error).context("database unavailable"));
        }
        Self::Internal(anyhow::Error::new(error).context("database error"))
    }
}

/// Store outcomes a client must see: conflicts are `CONFLICT`, database
/// failures go through the `DbErr` policy above.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::IdempotencyConflict { index, .. } => Self::Conflict {
                message: format!("events[{index}]: {error}"),
                index: Some(index),
            },
            StoreError::SlugTaken(_) => Self::Conflict {
                message: error.to_string(),
                index: None,
            },
            StoreError::Invalid(message) => Self::Internal(anyhow::anyhow!(message)),
            StoreError::ResponseTooLarge(exceeded) => Self::ResponseTooLarge(exceeded),
            StoreError::Database(db) => db.into(),
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        let code = error.code();
        let retry_after = match &error {
            ApiError::QuotaExceeded {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        };
        let (message, index) = match &error {
            ApiError::Unavailable(cause) | ApiError::Internal(cause)
                if code == code::UNAVAILABLE =>
            {
                tracing::warn!(error = %format!("{cause:#}"), "database unavailable while resolving a request");
                (UNAVAILABLE_MESSAGE.to_owned(), None)
            }
            ApiError::Unavailable(cause) | ApiError::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error while resolving a request");
                ("internal server error".to_owned(), None)
            }
            ApiError::BadUserInput { message, index } | ApiError::Conflict { message, index } => {
                (message.clone(), *index)
            }
            other => (other.to_string(), None),
        };
        async_graphql::Error::new(message).extend_with(|_, extensions| {
            extensions.set("code", code);
            if let Some(index) = index {
                extensions.set("index", index as u64);
            }
            if let Some(seconds) = retry_after {
                extensions.set("retryAfterSeconds", seconds);
            }
        })
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;
