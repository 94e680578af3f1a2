//! Error policy of the API layer.
//!
//! - [`ApiError`] is the one error type resolvers return. Each variant maps to a
//!   GraphQL `extensions.code` (Apollo's vocabulary where one exists), which is
//!   the contract with clients: they branch on the code, never on the message.
//! - Client errors carry a message written for the client.
//! - [`ApiError::Internal`] wraps anything unexpected (database down, bug). Its
//!   details are logged with `tracing` at `error` level and never sent: the
//!   client only sees `INTERNAL_SERVER_ERROR` and a request-independent message.
//! - The store layer has its own [`crate::store::StoreError`]; it converts here.

use async_graphql::ErrorExtensions;

/// `extensions.code` values, as constants so tests and docs quote the same strings.
pub mod code {
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const CONFLICT: &str = "CONFLICT";
    pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    pub const INTROSPECTION_DISABLED: &str = "INTROSPECTION_DISABLED";
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    pub const NOT_ACCEPTABLE: &str = "NOT_ACCEPTABLE";
    pub const SUBSCRIBER_LAGGED: &str = "SUBSCRIBER_LAGGED";
}

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
            Self::NotFound(_) => code::NOT_FOUND,
            Self::Conflict { .. } => code::CONFLICT,
            Self::SubscriberLagged(_) => code::SUBSCRIBER_LAGGED,
            Self::Internal(_) => code::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Internal(anyhow::Error::new(error).context("database error"))
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        let code = error.code();
        let (message, index) = match &error {
            ApiError::Internal(cause) => {
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
        })
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
