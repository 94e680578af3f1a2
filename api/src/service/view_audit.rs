//! Audited reads: a person's look at a tenant's log becomes an `audit_log.view`
//! event in that log (PCI DSS 10.2.1.1 asks for "all individual user access to
//! audit logs"), once per reader per window.
//!
//! - **Who is recorded.** People (browser sessions, identity-provider tokens)
//!   and viewer tokens, always; API keys and platform keys only with
//!   `AUDITLOG_AUDIT_API_KEY_READS`. A reader is keyed by credential kind and
//!   id (`user:<sub>`, `viewer:<subject>`, `api_key:<id>`,
//!   `platform_key:<id>`): a viewer token's subject is named by the SaaS, so
//!   it never shares a window with an identity provider's person of that id.
//! - **What is a read**: `auditEvents`, `auditEvent`, `auditEventFacets`, and
//!   the start of an `auditEventRecorded` subscription. The payload is
//!   `{what, filter, eventId?, tokenId?}`: the filter exactly as the client
//!   gave it (`null` when none), never a credential.
//! - **The window** (`AUDITLOG_VIEW_AUDIT_INTERVAL_SECS`, 0: every read) holds
//!   across instances: the event commits together with a claim on the
//!   reader's mark (`store::view_marks`), one conditional upsert that exactly
//!   one instance wins per window. An in-process cache remembers marks known
//!   fresh, so reads inside a window cost no database round trip.
//! - **Recorded before answering.** The resolver waits for the record before it
//!   reads, and a read whose view cannot be recorded fails (the error is
//!   logged and counted in `auditlog_view_audits_total{outcome="failed"}`).
//!   Why not answer first and record in the background: a read that was
//!   answered must be on record, and one that cannot be recorded (the primary
//!   down) is exactly the one nobody would ever see. The cost is one small
//!   write per reader per window; every other read of the window waits for nothing.
//! - **Ordinary events**: listed, exported and delivered live like any other,
//!   and, like every self-audit event, not counted against the ingest quota
//!   (`admin_audit::record` appends unmetered).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::auth::{ActorOfCaller, AuditActor, CallerIdentity, TenantCaller};
use crate::config::ViewAuditConfig;
use crate::domain::clock;
use crate::error::ApiResult;
use crate::live::Hub;
use crate::store;
use crate::store::admin_audit::{self, AdminAction};
use crate::store::view_marks::{self, Claim};

/// Most readers whose fresh mark one process remembers.
const MAX_REMEMBERED: u64 = 10_000;

/// A filter larger than this (serialized) is left out of the payload, with
/// its size: the event must stay far below the 64 KiB payload limit.
const MAX_FILTER_BYTES: usize = 8 * 1024;

/// The read a view is of: the GraphQL field, as named in the payload's `what`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReadField {
    /// `auditEvents`
    List,
    /// `auditEvent`
    Permalink,
    /// `auditEventFacets`
    Facets,
    /// `auditEventRecorded` (its start)
    Subscription,
}

impl View {
    /// A read of `what` with the client's `filter` (as given), of no one event.
    pub(crate) fn of(what: ReadField, filter: Option<Value>) -> Self {
        Self {
            what,
            filter,
            event_id: None,
        }
    }
}

impl ReadField {
    fn as_str(self) -> &'static str {
        match self {
            Self::List => "auditEvents",
            Self::Permalink => "auditEvent",
            Self::Facets => "auditEventFacets",
            Self::Subscription => "auditEventRecorded",
        }
    }
}

/// One read of the log, as its view event describes it.
#[derive(Clone, Debug)]
pub(crate) struct View {
    pub what: ReadField,
    /// The client's filter as given (`None`: no filter).
    pub filter: Option<Value>,
    /// The permalink read (`auditEvent`).
    pub event_id: Option<Uuid>,
}

/// Records views (held in the schemas' `Services`, one per process: clones
/// share the cache, so the HTTP and WebSocket schemas see the same windows).
#[derive(Clone)]
pub(crate) struct ViewAudit {
    db: DatabaseConnection,
    live: Hub,
    interval: Duration,
    machine_reads: bool,
    /// `(tenant, reader key)` → the instant until which no view of that reader
    /// needs recording, as this process last learnt from the database.
    fresh: Option<moka::sync::Cache<(Uuid, String), DateTime<Utc>>>,
}

impl ViewAudit {
    pub(crate) fn new(db: DatabaseConnection, live: Hub, config: &ViewAuditConfig) -> Self {
        let interval = config.interval();
        let fresh = (!interval.is_zero()).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(MAX_REMEMBERED)
                .time_to_live(interval)
                .build()
        });
        Self {
            db,
            live,
            interval,
            machine_reads: config.audit_api_key_reads,
            fresh,
        }
    }

    /// Records `view` by `caller` unless its reader is not audited or was
    /// recorded within the window. An error means nothing was recorded: the
    /// caller must not answer the read.
    pub(crate) async fn viewed(&self, caller: &TenantCaller, view: View) -> ApiResult<()> {
        let Some(reader) = self.reader_key(caller) else {
            return Ok(());
        };
        let now = clock::now();
        let key = (caller.tenant_id, reader);
        if let Some(cache) = &self.fresh
            && cache.get(&key).is_some_and(|until| until > now)
        {
            count("within_window");
            return Ok(());
        }
        match self.record(caller, &key.1, view, now).await {
            Ok(fresh_until) => {
                if let (Some(cache), Some(until)) = (&self.fresh, fresh_until) {
                    cache.insert(key, until);
                }
                Ok(())
            }
            Err(error) => {
                count("failed");
                tracing::error!(tenant_id = %caller.tenant_id, error = %error,
                    "recording audit_log.view failed; the read is refused");
                Err(error)
            }
        }
    }

    /// Claims the reader's window and appends the event in one transaction;
    /// returns until when the reader's mark is now known fresh.
    async fn record(
        &self,
        caller: &TenantCaller,
        reader: &str,
        view: View,
        now: DateTime<Utc>,
    ) -> ApiResult<Option<DateTime<Utc>>> {
        let window = chrono::Duration::from_std(self.interval).unwrap_or(chrono::Duration::MAX);
        let txn = store::tenant_scope::begin(&self.db, caller.tenant_id).await?;
        if !window.is_zero() {
            let claim =
                view_marks::claim(&txn, caller.tenant_id, reader, now, now - window).await?;
            if let Claim::Held { last_recorded_at } = claim {
                txn.rollback().await?;
                count("within_window");
                return Ok(Some(last_recorded_at + window));
            }
        }
        let action = AdminAction {
            action: "audit_log.view",
            target_type: "audit_log",
            target_id: caller.tenant_id.to_string(),
            target_name: Some(caller.tenant_slug.clone()),
            payload: payload(caller, view),
        };
        let actor = AuditActor::of_caller(caller);
        let sequence = admin_audit::record(&txn, caller.tenant_id, &actor, action, now).await?;
        txn.commit().await?;
        count("recorded");
        self.live.published(caller.tenant_id, sequence).await;
        Ok((!window.is_zero()).then(|| now + window))
    }

    /// Who `caller` is for the window, if its reads are recorded at all.
    fn reader_key(&self, caller: &TenantCaller) -> Option<String> {
        match &caller.identity {
            CallerIdentity::Person(person) => Some(format!("user:{}", person.subject)),
            CallerIdentity::ViewerToken(viewer) => Some(format!("viewer:{}", viewer.subject_id)),
            CallerIdentity::ApiKey { id, .. } => {
                self.machine_reads.then(|| format!("api_key:{id}"))
            }
            CallerIdentity::PlatformKey(key) => self
                .machine_reads
                .then(|| format!("platform_key:{}", key.id)),
        }
    }
}

/// `{what, filter, eventId?, tokenId?}`; a viewer token is named by its id
/// (its scope is in the `viewer_token.create` event of that id), never itself.
fn payload(caller: &TenantCaller, view: View) -> Value {
    let mut payload = Map::new();
    payload.insert("what".into(), json!(view.what.as_str()));
    let filter = view.filter.unwrap_or(Value::Null);
    let size = filter.to_string().len();
    if size > MAX_FILTER_BYTES {
        payload.insert("filter".into(), Value::Null);
        payload.insert("filterOmittedBytes".into(), json!(size));
    } else {
        payload.insert("filter".into(), filter);
    }
    if let Some(id) = view.event_id {
        payload.insert("eventId".into(), json!(id));
    }
    if let CallerIdentity::ViewerToken(viewer) = &caller.identity {
        payload.insert("tokenId".into(), json!(viewer.token_id));
    }
    Value::Object(payload)
}

fn count(outcome: &'static str) {
    metrics::counter!("auditlog_view_audits_total", "outcome" => outcome).increment(1);
}
