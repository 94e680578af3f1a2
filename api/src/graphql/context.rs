//! What resolvers reach through `ctx.data`: the shared [`Services`] (schema data)
//! and the request's [`Principal`] (request data).

use crate::auth::ApiKeyCache;
use crate::auth::viewer_token::LazyViewerKeys;
use crate::service::group_commit::GroupCommit;
use crate::service::view_audit::ViewAudit;
use async_graphql::Context;
use sea_orm::DatabaseConnection;

use super::cursor::CursorCodec;
use crate::auth::Principal;
use crate::domain::RetentionRules;
use crate::limits::IngestQuota;
use crate::live::Hub;
use crate::replica::ReadPool;
use crate::store::ResponseBudget;

/// Long-lived handles shared by every request (cheap to clone: handles).
#[derive(Clone)]
pub(crate) struct Services {
    pub db: DatabaseConnection,
    /// Where tenant reads of events run: the primary, or a hot standby.
    pub reads: ReadPool,
    pub cursors: CursorCodec,
    pub live: Hub,
    /// The operator's retention policy (plan defaults and bounds).
    pub retention: RetentionRules,
    /// Events per minute per tenant, by plan.
    pub ingest_quota: IngestQuota,
    /// Commits concurrent batches of a tenant together.
    pub ingest: GroupCommit,
    /// Verified API keys; emptied by changes that could alter a cached caller.
    pub key_cache: ApiKeyCache,
    /// Signs the viewer tokens `createViewerToken` mints.
    pub viewer_keys: LazyViewerKeys,
    /// Records reads of the log as `audit_log.view`.
    pub view_audit: ViewAudit,
    /// Seals log streams' secrets, checks their destinations, sends test deliveries.
    pub streams: auditlog_worker::streams::Deliverer,
    /// Log streams may deliver over plain `http://` (development mode, or
    /// private targets allowed).
    pub streams_plain_http: bool,
}

pub(super) trait ContextExt {
    fn services(&self) -> &Services;
    fn principal(&self) -> &Principal;
    fn response_budget(&self) -> ResponseBudget;
}

static ANONYMOUS: Principal = Principal::Anonymous;

impl ContextExt for Context<'_> {
    fn services(&self) -> &Services {
        // The schema is always built with `Services` (see `schema::build`).
        self.data_unchecked::<Services>()
    }

    /// A request without principal data (none is attached by the HTTP layer only
    /// when there was no credential) is anonymous.
    fn principal(&self) -> &Principal {
        self.data_opt::<Principal>().unwrap_or(&ANONYMOUS)
    }

    /// The request's byte budget, attached by `guard::DocumentGuard` to every
    /// request (without one, e.g. a schema built by hand, nothing is capped).
    fn response_budget(&self) -> ResponseBudget {
        self.data_opt::<ResponseBudget>()
            .cloned()
            .unwrap_or_else(|| ResponseBudget::new(usize::MAX))
    }
}

/// The `x-request-id` the caller sent, when it was usable: request data the
/// transport adds (see `http::request_id`) and self-audit events record.
#[derive(Clone, Debug)]
pub(crate) struct CallerRequestId(pub String);
