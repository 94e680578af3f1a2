//! `GET /.well-known/jwks.json`: the public keys of viewer tokens (RFC 7517
//! JWK Set), every key that verifies a token now — the current one and the
//! retired ones still in their window (`auth::viewer_token`).
//!
//! Cacheable for five minutes: a verifier that meets an unknown `kid` should
//! fetch again, as it would from any identity provider.

use axum::Json;
use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};

use super::state::AppState;
use crate::domain::clock;

const CACHE: &str = "public, max-age=300";

pub(super) async fn viewer_token_keys(State(state): State<AppState>) -> Response {
    match state.viewer_keys.get().await {
        Ok(ring) => {
            let keys = ring.jwks(clock::now()).await;
            ([(CACHE_CONTROL, CACHE)], Json(keys)).into_response()
        }
        Err(error) => {
            tracing::warn!(error = %error, "viewer-token keys unavailable (is the schema migrated?)");
            super::problem::unavailable()
        }
    }
}
