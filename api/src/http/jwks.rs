//! `GET /.well-known/jwks.json`: the public keys of viewer tokens (RFC 7517
//! JWK Set), every key that verifies a token now — the current one and the
//! retired ones still in their window (`auth::viewer_token`).
//!
//! `GET /.well-known/auditlog-keys.json`: every key that ever signed a tree
//! head (issue 19), current first; retired keys stay, as old heads must
//! stay verifiable.
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

pub(super) async fn tree_head_keys(State(state): State<AppState>) -> Response {
    match auditlog_worker::tree_heads::TreeHeadKeys::published(&state.db).await {
        Ok(keys) => {
            let keys: Vec<serde_json::Value> = keys.iter().map(|key| key.jwk()).collect();
            (
                [(CACHE_CONTROL, CACHE)],
                Json(serde_json::json!({ "keys": keys })),
            )
                .into_response()
        }
        Err(error) => {
            tracing::warn!(error = %error, "tree-head keys unavailable (is the schema migrated?)");
            super::problem::unavailable()
        }
    }
}
