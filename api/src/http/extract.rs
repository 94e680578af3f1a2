//! Typed extractor for the caller: `Principal` from the `Authorization` header.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::Response;

use super::problem;
use super::state::AppState;
use crate::auth::Principal;

impl FromRequestParts<AppState> for Principal {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let authorization = match parts.headers.get(header::AUTHORIZATION) {
            None => None,
            Some(value) => match value.to_str() {
                Ok(text) => Some(text),
                // Not visible ASCII: cannot be any credential of ours.
                Err(_) => return Ok(Principal::Invalid),
            },
        };
        state
            .authenticator
            .authenticate(authorization)
            .await
            .map_err(|error| {
                tracing::error!(error = ?error, "authentication failed on a database error");
                problem::internal()
            })
    }
}
