//! `GET /export.ndjson` and `GET /export.csv`: a tenant's whole log (or what
//! `filter` selects), streamed, with a manifest at the end that proves it
//! complete (docs/api.md, "Export").
//!
//! Authenticated like `/graphql` (the `Principal` extractor, then the
//! per-credential rate), for ADMIN and AUDITOR; one tenant runs at most
//! `AUDITLOG_EXPORT_MAX_CONCURRENT_PER_TENANT` exports at once (429
//! `EXPORT_IN_PROGRESS` beyond). The snapshot bound is fixed and sent in the
//! response headers before the first byte of body. The manifest names the
//! signed tree head whose last leaf is the event at `untilSequence` (signed
//! when the export starts if there is none), so `auditlog verify` can check a
//! complete export against it (docs/verifying.md).

mod body;
mod encode;
mod params;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;

use self::body::{ExportRun, ProofSource};
use self::encode::{Encoder, Format, TreeHead};
use self::params::ExportParams;
use super::error::HttpError;
use super::state::AppState;
use crate::auth::Principal;
use crate::graphql::READERS;
use crate::service::export::{self, ExportReport};
use crate::service::integrity;

/// The export's exclusive lower bound, as given (0 by default).
pub(super) const AFTER_SEQUENCE: HeaderName =
    HeaderName::from_static("auditlog-export-after-sequence");
/// The export's inclusive upper bound, fixed when it started: resume with the
/// same value.
pub(super) const UNTIL_SEQUENCE: HeaderName =
    HeaderName::from_static("auditlog-export-until-sequence");

pub(super) async fn ndjson(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(query): RawQuery,
) -> Result<Response, HttpError> {
    start(state, principal, query, Format::Ndjson).await
}

pub(super) async fn csv(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(query): RawQuery,
) -> Result<Response, HttpError> {
    start(state, principal, query, Format::Csv).await
}

async fn start(
    state: AppState,
    principal: Principal,
    query: Option<String>,
    format: Format,
) -> Result<Response, HttpError> {
    if let Some(refused) = super::rate_limit::credential_refusal(&state, &principal) {
        return Ok(refused);
    }
    let caller = principal.tenant(READERS)?.clone();
    let params = ExportParams::parse(query.as_deref().unwrap_or_default())?;
    if params.proofs && format == Format::Csv {
        return Err(HttpError::BadUserInput(
            "proofs: only an NDJSON export carries inclusion proofs".to_owned(),
        ));
    }
    let slot = state
        .limits
        .exports
        .open(caller.tenant_id)
        .ok_or(HttpError::ExportInProgress(
            state.limits.exports.max_per_key(),
        ))?;
    let snapshot = export::snapshot(&state.reads, &caller, params.after, params.until).await?;
    let stored_head =
        integrity::head_through(&state.tree_heads, caller.tenant_id, snapshot.until).await?;
    let proofs = stored_head
        .as_ref()
        .filter(|_| params.proofs)
        .map(|head| ProofSource {
            db: state.db.clone(),
            tenant_id: caller.tenant_id,
            tree_size: head.tree_size,
        });
    let tree_head = stored_head.as_ref().map(TreeHead::of);
    let report = ExportReport {
        format: format.name(),
        filter: params.filter_json,
        snapshot,
        count: 0,
        bytes: 0,
        failure: None,
    };
    let batches = export::batches(
        state.reads.clone(),
        state.ingest.clone(),
        caller.clone(),
        params.filter,
        snapshot,
    );
    let file_name = format!(
        "attachment; filename=\"auditlog-{}-{}-{}.{}\"",
        caller.tenant_slug,
        snapshot.after,
        snapshot.until,
        format.name()
    );
    let run = ExportRun::new(slot, state.db.clone(), state.live.clone(), caller, report);
    let stream = body::stream(run, batches, Encoder::new(format), tree_head, proofs);
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    headers.insert(AFTER_SEQUENCE, HeaderValue::from(snapshot.after));
    headers.insert(UNTIL_SEQUENCE, HeaderValue::from(snapshot.until));
    // The log is not to be kept by caches on the way, nor sniffed as HTML.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::try_from(file_name) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
