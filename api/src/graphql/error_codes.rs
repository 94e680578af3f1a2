//! Gives every error leaving the schema an `extensions.code`.
//!
//! Resolver errors already carry one (see `crate::error`). Errors raised by
//! async-graphql itself do not, so this extension classifies them:
//! - the document does not parse: `GRAPHQL_PARSE_FAILED`;
//! - a value does not fit its type (unknown enum value, bad DateTime/UUID literal
//!   or variable, wrong scalar): `BAD_USER_INPUT`;
//! - any other validation failure (unknown field, complexity limit):
//!   `GRAPHQL_VALIDATION_FAILED`;
//! - no operation to run (several in the document and no or an unknown
//!   `operationName`): `GRAPHQL_VALIDATION_FAILED`;
//! - a subscription sent over HTTP: `BAD_REQUEST` (subscriptions use the WebSocket);
//! - the same classification for errors starting a subscription (`subscribe`);
//! - anything else without a code: `BAD_USER_INPUT` if it is an input coercion
//!   message, else `INTERNAL_SERVER_ERROR`.
//!
//! A response carries at most [`MAX_ERRORS`] errors: the rest are summed up in
//! one last error, so a document cannot buy a response many times its size in
//! error messages.

use std::sync::Arc;

use futures::StreamExt;
use futures::stream::BoxStream;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest, NextSubscribe,
    NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{
    ErrorExtensionValues, Pos, Response, ServerError, ServerResult, ValidationResult, Variables,
};

use crate::error::code;

/// Errors kept in one response; later ones are counted in a last error.
pub(super) const MAX_ERRORS: usize = 100;

pub(super) struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

#[async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        limit_errors(&mut response);
        code_errors(&mut response);
        response
    }

    /// Subscriptions do not pass through `request`: errors raised while starting
    /// one (an argument that does not parse) are coded here.
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream)
            .map(|mut response| {
                code_errors(&mut response);
                response
            })
            .boxed()
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables).await.map_err(|mut error| {
            set_code_if_missing(&mut error, code::GRAPHQL_PARSE_FAILED);
            error
        })
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|mut errors| {
            for error in &mut errors {
                let code = if is_input_error(&error.message) {
                    code::BAD_USER_INPUT
                } else {
                    code::GRAPHQL_VALIDATION_FAILED
                };
                set_code_if_missing(error, code);
            }
            errors
        })
    }
}

/// Keeps at most [`MAX_ERRORS`] errors of `response`; the rest are counted
/// in one last error (with the first error's code).
pub(super) fn limit_errors(response: &mut Response) {
    if response.errors.len() <= MAX_ERRORS {
        return;
    }
    let omitted = response.errors.len() - MAX_ERRORS;
    response.errors.truncate(MAX_ERRORS);
    let code = response.errors[0]
        .extensions
        .as_ref()
        .and_then(|extensions| extensions.get("code"))
        .and_then(|value| match value {
            async_graphql::Value::String(code) => Some(code.clone()),
            _ => None,
        });
    response.errors.push(coded_error(
        format!("{omitted} more errors omitted"),
        None,
        code.as_deref().unwrap_or(code::GRAPHQL_VALIDATION_FAILED),
    ));
}

/// Codes the errors of a request run without this extension (see
/// `super::executor`), where no hook saw its validation: an error without a
/// code and without a path comes from async-graphql's validation (or is a
/// request error: an unknown operation); with a path, from execution. Returns
/// whether validation passed, i.e. the document was valid and ran.
pub(super) fn code_unhooked_errors(response: &mut Response) -> bool {
    let mut valid = true;
    for error in &mut response.errors {
        let coded = error
            .extensions
            .as_ref()
            .is_some_and(|extensions| extensions.get("code").is_some());
        if coded || !error.path.is_empty() {
            continue;
        }
        let code = if is_input_error(&error.message) {
            valid = false;
            code::BAD_USER_INPUT
        } else if let Some(code) = request_error_code(&error.message) {
            code
        } else {
            valid = false;
            code::GRAPHQL_VALIDATION_FAILED
        };
        set_code_if_missing(error, code);
    }
    code_errors(response);
    limit_errors(response);
    valid
}

/// Gives every error of `response` without a code the code its message implies.
fn code_errors(response: &mut Response) {
    for error in &mut response.errors {
        let fallback = if is_input_error(&error.message) {
            code::BAD_USER_INPUT
        } else {
            request_error_code(&error.message).unwrap_or(code::INTERNAL_SERVER_ERROR)
        };
        set_code_if_missing(error, fallback);
    }
}

/// async-graphql's wording for a value that does not fit its input type.
fn is_input_error(message: &str) -> bool {
    message.starts_with("Invalid value for argument")
        || message.starts_with("Failed to parse")
        || message.contains("Invalid value")
}

/// async-graphql's wording for requests it cannot run at all, after validation.
fn request_error_code(message: &str) -> Option<&'static str> {
    if message.starts_with("Operation name required")
        || message.starts_with("Unknown operation named")
    {
        Some(code::GRAPHQL_VALIDATION_FAILED)
    } else if message.starts_with("Subscriptions are not supported on this transport") {
        Some(code::BAD_REQUEST)
    } else {
        None
    }
}

/// An error of our own extensions (limits, the introspection switch) with its code.
pub(super) fn coded_error(
    message: impl Into<String>,
    position: Option<Pos>,
    code: &str,
) -> ServerError {
    let mut error = ServerError::new(message, position);
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
    error
}

fn set_code_if_missing(error: &mut ServerError, code: &str) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
}
