//! Managing a tenant's log streams (ADMIN): create, change, pause, resume,
//! replay, rotate the signing secret, delete, test. Each change is one
//! transaction with its self-audit event (`log_stream.create`, `.update`,
//! `.pause`, `.resume`, `.replay`, `.rotate_secret`, `.delete`, `.test`);
//! no secret or token ever enters an event, a log line or an answer but
//! the one that creates or rotates it. Delivery is the worker's
//! (`auditlog_worker::streams`).

use auditlog_worker::streams::{Deliverer, new_webhook_secret};
use chrono::TimeDelta;
use entity::{log_stream_deliveries, log_streams};
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::{ActorOfCaller, AuditActor, TenantCaller};
use crate::domain::clock;
use crate::domain::log_stream::{
    MAX_SPLUNK_FIELD_CHARS, StreamKind, StreamState, parse_batch_size, parse_destination,
    parse_name,
};
use crate::error::{ApiError, ApiResult};
use crate::live::Hub;
use crate::store;
use crate::store::admin_audit::{self, AdminAction};
use crate::store::events::EventFilter;
use crate::store::log_streams::settings::{
    self, MAX_STREAMS_PER_TENANT, NewStream, StreamSettings,
};
use crate::store::log_streams::{DeliveryPage, deliveries};

/// How long the previous signing secret keeps signing after a rotation
/// (deliveries carry both signatures meanwhile).
pub(crate) const ROTATION_OVERLAP: TimeDelta = TimeDelta::hours(24);

/// What an admin asks a stream to be, as sent.
#[derive(Clone, Debug)]
pub(crate) struct StreamRequest {
    pub name: String,
    pub kind: StreamKind,
    pub url: String,
    pub filter: Option<EventFilter>,
    pub splunk_token: Option<String>,
    pub splunk_index: Option<String>,
    pub splunk_sourcetype: Option<String>,
    pub batch_size: i32,
}

/// The handles stream management needs.
#[derive(Clone, Copy)]
pub(crate) struct Streams<'a> {
    pub db: &'a DatabaseConnection,
    pub live: &'a Hub,
    pub deliverer: &'a Deliverer,
    /// Plain `http://` destinations are acceptable (development mode, or
    /// private targets allowed).
    pub plain_http: bool,
}

/// A stream and its tenant's committed sequence (for its lag).
pub(crate) struct StreamView {
    pub row: log_streams::Model,
    pub committed: i64,
}

impl Streams<'_> {
    /// The box new secrets are sealed with (loaded on first use).
    async fn secrets(&self) -> ApiResult<&auditlog_worker::streams::SecretBox> {
        self.deliverer
            .secrets()
            .await
            .map_err(|error| ApiError::Internal(anyhow::anyhow!("log stream secrets: {error}")))
    }

    /// The tenant's streams.
    pub(crate) async fn list(&self, caller: &TenantCaller) -> ApiResult<Vec<StreamView>> {
        let scope = store::read_scope::begin_read(self.db, caller.tenant_id).await?;
        let rows = settings::list(&scope, caller.tenant_id).await?;
        let committed = store::events::committed_sequence(&scope, caller.tenant_id).await?;
        scope.commit().await?;
        Ok(rows
            .into_iter()
            .map(|row| StreamView { row, committed })
            .collect())
    }

    /// A page of a stream's delivery attempts, newest first.
    pub(crate) async fn deliveries(
        &self,
        caller: &TenantCaller,
        id: Uuid,
        first: u64,
        after: Option<Uuid>,
    ) -> ApiResult<DeliveryPage> {
        let scope = store::read_scope::begin_read(self.db, caller.tenant_id).await?;
        if settings::find(&scope, caller.tenant_id, id)
            .await?
            .is_none()
        {
            return Err(not_found(id));
        }
        let page = deliveries::page(&scope, caller.tenant_id, id, first, after).await?;
        scope.commit().await?;
        Ok(page)
    }

    /// Creates a stream starting after `start_after` (default: the tenant's
    /// last event, so it delivers what comes from now on); the signing secret
    /// of a WEBHOOK stream, shown this once.
    pub(crate) async fn create(
        &self,
        caller: &TenantCaller,
        request: StreamRequest,
        start_after: Option<i64>,
    ) -> ApiResult<(StreamView, Option<String>)> {
        let valid = self.validate(&request).await?;
        let id = Uuid::now_v7();
        let (secret_ciphertext, shown) = match request.kind {
            StreamKind::Webhook => {
                let secret = new_webhook_secret();
                let sealed = self.secrets().await?.seal(caller.tenant_id, id, &secret);
                (Some(sealed), Some(secret.to_string()))
            }
            StreamKind::SplunkHec => {
                let token = splunk_token(request.splunk_token.as_deref())?.ok_or_else(|| {
                    ApiError::bad_input("input.splunkToken is required for SPLUNK_HEC")
                })?;
                (
                    Some(self.secrets().await?.seal(caller.tenant_id, id, token)),
                    None,
                )
            }
        };
        let now = clock::now();
        let txn = store::tenant_scope::begin(self.db, caller.tenant_id).await?;
        settings::lock_tenant(&txn, caller.tenant_id).await?;
        if settings::count(&txn, caller.tenant_id).await? >= MAX_STREAMS_PER_TENANT {
            return Err(ApiError::bad_input(format!(
                "a tenant has at most {MAX_STREAMS_PER_TENANT} log streams"
            )));
        }
        let committed = store::events::committed_sequence(&txn, caller.tenant_id).await?;
        let start_after = match start_after {
            None => committed,
            Some(after) if (0..=committed).contains(&after) => after,
            Some(after) => {
                return Err(ApiError::bad_input(format!(
                    "startAfterSequence must be 0 to {committed} (the tenant's last sequence), not {after}"
                )));
            }
        };
        let new = NewStream {
            id,
            settings: valid,
            secret_ciphertext,
            start_after,
        };
        let row = settings::insert(&txn, caller.tenant_id, new, now).await?;
        let mut payload = describe(&row);
        payload["startAfterSequence"] = json!(start_after);
        let sequence = self
            .audit(&txn, caller, "log_stream.create", &row, payload, now)
            .await?;
        txn.commit().await?;
        self.live.published(caller.tenant_id, sequence).await;
        Ok((
            StreamView {
                row,
                committed: sequence,
            },
            shown,
        ))
    }

    /// Changes a stream's settings (not its kind). A Splunk token given
    /// replaces the stored one; omitted, the stored one stays.
    pub(crate) async fn update(
        &self,
        caller: &TenantCaller,
        id: Uuid,
        request: StreamRequest,
    ) -> ApiResult<StreamView> {
        let valid = self.validate(&request).await?;
        let token = match splunk_token(request.splunk_token.as_deref())? {
            Some(token) => Some(self.secrets().await?.seal(caller.tenant_id, id, token)),
            None => None,
        };
        self.change(caller, id, "log_stream.update", |row, now| {
            if row.kind != request.kind.as_db() {
                return Err(ApiError::bad_input(
                    "input.kind cannot change: create a new stream (and delete this one)",
                ));
            }
            if request.kind == StreamKind::Webhook && token.is_some() {
                return Err(ApiError::bad_input(
                    "input.splunkToken is for SPLUNK_HEC streams only",
                ));
            }
            settings::apply_settings(row, valid, now);
            if let Some(token) = token {
                row.secret_ciphertext = Some(token);
            }
            let mut payload = describe(row);
            payload["splunkTokenChanged"] = json!(request.splunk_token.is_some());
            Ok(payload)
        })
        .await
    }

    pub(crate) async fn pause(&self, caller: &TenantCaller, id: Uuid) -> ApiResult<StreamView> {
        self.change(caller, id, "log_stream.pause", |row, now| {
            settings::apply_state(row, StreamState::Paused, now);
            Ok(json!({}))
        })
        .await
    }

    pub(crate) async fn resume(&self, caller: &TenantCaller, id: Uuid) -> ApiResult<StreamView> {
        self.change(caller, id, "log_stream.resume", |row, now| {
            let before = row.state.clone();
            settings::apply_state(row, StreamState::Active, now);
            Ok(json!({ "previousState": before }))
        })
        .await
    }

    /// Moves the cursor to `after` (0 to the tenant's last sequence): the
    /// next batch starts at `after + 1`.
    pub(crate) async fn replay(
        &self,
        caller: &TenantCaller,
        id: Uuid,
        after: i64,
    ) -> ApiResult<StreamView> {
        let scope = store::read_scope::begin_read(self.db, caller.tenant_id).await?;
        let committed = store::events::committed_sequence(&scope, caller.tenant_id).await?;
        scope.commit().await?;
        if !(0..=committed).contains(&after) {
            return Err(ApiError::bad_input(format!(
                "afterSequence must be 0 to {committed} (the tenant's last sequence), not {after}"
            )));
        }
        self.change(caller, id, "log_stream.replay", |row, now| {
            let from = row.delivered_through;
            settings::apply_replay(row, after, now);
            Ok(json!({ "fromSequence": from, "afterSequence": after }))
        })
        .await
    }

    /// A new signing secret (shown once); the old one keeps signing too for
    /// [`ROTATION_OVERLAP`].
    pub(crate) async fn rotate_secret(
        &self,
        caller: &TenantCaller,
        id: Uuid,
    ) -> ApiResult<(StreamView, String)> {
        let secret = new_webhook_secret();
        let sealed = self.secrets().await?.seal(caller.tenant_id, id, &secret);
        let view = self
            .change(caller, id, "log_stream.rotate_secret", |row, now| {
                if row.kind != StreamKind::Webhook.as_db() {
                    return Err(ApiError::bad_input(
                        "only WEBHOOK streams have a signing secret (change a SPLUNK_HEC token with updateLogStream)",
                    ));
                }
                row.previous_secret_ciphertext = row.secret_ciphertext.take();
                row.previous_secret_until = Some(now + ROTATION_OVERLAP);
                row.secret_ciphertext = Some(sealed);
                row.updated_at = now;
                Ok(json!({ "previousSecretValidUntil": (now + ROTATION_OVERLAP).to_rfc3339() }))
            })
            .await?;
        Ok((view, secret.to_string()))
    }

    pub(crate) async fn delete(&self, caller: &TenantCaller, id: Uuid) -> ApiResult<bool> {
        let now = clock::now();
        let txn = store::tenant_scope::begin(self.db, caller.tenant_id).await?;
        let row = settings::find_for_update(&txn, caller.tenant_id, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        settings::delete(&txn, caller.tenant_id, id).await?;
        let sequence = self
            .audit(&txn, caller, "log_stream.delete", &row, describe(&row), now)
            .await?;
        txn.commit().await?;
        self.live.published(caller.tenant_id, sequence).await;
        Ok(true)
    }

    /// Sends one synthetic delivery now and records it.
    pub(crate) async fn test(
        &self,
        caller: &TenantCaller,
        id: Uuid,
    ) -> ApiResult<log_stream_deliveries::Model> {
        let scope = store::read_scope::begin_read(self.db, caller.tenant_id).await?;
        let row = settings::find(&scope, caller.tenant_id, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        scope.commit().await?;
        let attempt = self.deliverer.test_delivery(&row).await;
        let now = clock::now();
        let txn = store::tenant_scope::begin(self.db, caller.tenant_id).await?;
        if settings::find_for_update(&txn, caller.tenant_id, id)
            .await?
            .is_none()
        {
            return Err(not_found(id));
        }
        let payload = json!({
            "status": attempt.status.as_db(),
            "responseStatus": attempt.response_status,
        });
        let record = deliveries::insert(&txn, caller.tenant_id, attempt, now).await?;
        let sequence = self
            .audit(&txn, caller, "log_stream.test", &row, payload, now)
            .await?;
        txn.commit().await?;
        self.live.published(caller.tenant_id, sequence).await;
        Ok(record)
    }

    /// Loads the stream row-locked, lets `apply` change it (and say what
    /// the audit event records), saves it and records the event.
    async fn change(
        &self,
        caller: &TenantCaller,
        id: Uuid,
        action: &str,
        apply: impl FnOnce(&mut log_streams::Model, chrono::DateTime<chrono::Utc>) -> ApiResult<Value>,
    ) -> ApiResult<StreamView> {
        let now = clock::now();
        let txn = store::tenant_scope::begin(self.db, caller.tenant_id).await?;
        let mut row = settings::find_for_update(&txn, caller.tenant_id, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        let payload = apply(&mut row, now)?;
        let row = settings::save(&txn, row).await?;
        let sequence = self.audit(&txn, caller, action, &row, payload, now).await?;
        txn.commit().await?;
        self.live.published(caller.tenant_id, sequence).await;
        Ok(StreamView {
            row,
            committed: sequence,
        })
    }

    async fn audit(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        caller: &TenantCaller,
        action: &str,
        row: &log_streams::Model,
        payload: Value,
        now: chrono::DateTime<chrono::Utc>,
    ) -> ApiResult<i64> {
        let action = AdminAction {
            action,
            target_type: "log_stream",
            target_id: row.id.to_string(),
            target_name: Some(row.name.clone()),
            payload,
        };
        Ok(admin_audit::record(
            txn,
            caller.tenant_id,
            &AuditActor::of_caller(caller),
            action,
            now,
        )
        .await?)
    }

    /// The settings `request` asks for, or the first thing wrong with them.
    async fn validate(&self, request: &StreamRequest) -> ApiResult<StreamSettings> {
        let name = parse_name(&request.name)
            .map_err(|reason| ApiError::bad_input(format!("input.{reason}")))?;
        let url = parse_destination(&request.url, self.plain_http)
            .map_err(|reason| ApiError::bad_input(format!("input.{reason}")))?;
        self.deliverer
            .check_destination(&url)
            .await
            .map_err(|reason| ApiError::bad_input(format!("input.url: {reason}")))?;
        let batch_size = parse_batch_size(request.batch_size)
            .map_err(|reason| ApiError::bad_input(format!("input.{reason}")))?;
        let splunk_only = [
            ("splunkIndex", &request.splunk_index),
            ("splunkSourcetype", &request.splunk_sourcetype),
        ];
        for (field, value) in splunk_only {
            if let Some(value) = value {
                if request.kind != StreamKind::SplunkHec {
                    return Err(ApiError::bad_input(format!(
                        "input.{field} is for SPLUNK_HEC streams only"
                    )));
                }
                splunk_field(field, value)?;
            }
        }
        let filter = request
            .filter
            .as_ref()
            .and_then(EventFilter::to_json)
            .map(|json| json.to_string());
        Ok(StreamSettings {
            name: name.to_owned(),
            kind: request.kind,
            url: url.to_string(),
            filter,
            batch_size,
            splunk_index: request
                .splunk_index
                .clone()
                .filter(|value| !value.is_empty()),
            splunk_sourcetype: request
                .splunk_sourcetype
                .clone()
                .filter(|value| !value.is_empty()),
        })
    }
}

/// A Splunk token, checked (`None`: not given).
fn splunk_token(token: Option<&str>) -> ApiResult<Option<&str>> {
    match token {
        None => Ok(None),
        Some(token) => splunk_field("splunkToken", token).map(Some),
    }
}

fn splunk_field<'a>(field: &str, value: &'a str) -> ApiResult<&'a str> {
    let ok = !value.is_empty()
        && value.chars().count() <= MAX_SPLUNK_FIELD_CHARS
        && !value.chars().any(char::is_control);
    if ok {
        Ok(value)
    } else {
        Err(ApiError::bad_input(format!(
            "input.{field} must be 1 to {MAX_SPLUNK_FIELD_CHARS} characters, without control characters"
        )))
    }
}

/// What the audit events say about a stream: never a secret, and the URL
/// without its query (webhook URLs sometimes carry tokens there).
fn describe(row: &log_streams::Model) -> Value {
    let url = url::Url::parse(&row.url).map_or_else(
        |_| String::new(),
        |mut url| {
            if url.query().is_some() {
                url.set_query(Some("…"));
            }
            url.to_string()
        },
    );
    let filter = row
        .filter
        .as_deref()
        .and_then(|text| serde_json::from_str::<Value>(text).ok());
    json!({
        "kind": row.kind,
        "url": url,
        "batchSize": row.batch_size,
        "filter": filter,
        "splunkIndex": row.splunk_index,
        "splunkSourcetype": row.splunk_sourcetype,
    })
}

fn not_found(id: Uuid) -> ApiError {
    ApiError::NotFound(format!("no log stream {id} in this tenant"))
}
