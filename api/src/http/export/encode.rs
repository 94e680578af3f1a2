//! The two export formats, written batch by batch into bytes for the body.
//!
//! - NDJSON (`application/x-ndjson`): one event per line, the shape and
//!   spelling of the GraphQL `AuditEvent` (its scalars and enums encoded as in
//!   a GraphQL answer, through their own types), then a manifest line.
//! - CSV (`text/csv`, RFC 4180 via the `csv` crate, CRLF, UTF-8): a header
//!   row of [`CSV_COLUMNS`], one record per event with the nested fields
//!   flattened and `payload` as JSON text, then a manifest record.
//!
//! Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` (and some a
//! tab or carriage return first) as a formula, and every string of an event
//! is the recording application's users' input (OWASP "CSV injection"). Such
//! a cell, and one starting with `'` so that the rule stays reversible, is
//! written with a leading `'`: a reader restores the value by dropping one
//! leading `'` from any cell that has one.

use std::borrow::Cow;

use async_graphql::{InputType, ScalarType};
use axum::body::Bytes;
use entity::audit_events;
use serde::Serialize;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::graphql::types::AuditEvent;
use crate::store::tree::InclusionProof;

/// The CSV header row, in order. The manifest record puts [`MANIFEST_ID`] in
/// `id` and the manifest's JSON in `payload`, and leaves every other cell empty.
pub(crate) const CSV_COLUMNS: [&str; 17] = [
    "id",
    "sequence",
    "action",
    "occurredAt",
    "receivedAt",
    "actor.type",
    "actor.id",
    "actor.name",
    "actor.email",
    "target.type",
    "target.id",
    "target.name",
    "outcome",
    "context.ipAddress",
    "context.userAgent",
    "context.requestId",
    "payload",
];

/// The `id` cell of the CSV manifest record (no event id starts with `#`:
/// they are UUIDs).
pub(crate) const MANIFEST_ID: &str = "#manifest";

/// What a cell may not start with unescaped, and the escape.
const FORMULA_STARTS: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\''];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Ndjson,
    Csv,
}

impl Format {
    /// The name in the manifest and in `audit_log.export`, and the file extension.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Ndjson => "ndjson",
            Self::Csv => "csv",
        }
    }

    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Self::Ndjson => "application/x-ndjson",
            Self::Csv => "text/csv; charset=utf-8; header=present",
        }
    }
}

/// The last record of a complete export: the consumer's proof that nothing
/// was cut off. A body without it is truncated.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Manifest<'a> {
    pub complete: bool,
    pub format: &'static str,
    /// Events in the body.
    pub count: u64,
    pub after_sequence: i64,
    pub until_sequence: i64,
    /// The `filter` parameter as sent (`null` if none).
    pub filter: &'a Value,
    /// The sequence of the last event in the body (`null` if none).
    pub last_sequence: Option<i64>,
    /// The tenant (bound into every tree head's signature).
    pub tenant_id: String,
    /// The signed tree head whose last leaf is the event at `untilSequence`
    /// (`null` for an empty log, or when every event up to it predates the
    /// tree).
    pub tree_head: Option<&'a TreeHead>,
}

/// A signed tree head as `auditLogTreeHead` returns it, for the manifest.
pub(crate) use auditlog_worker::tree_heads::HeadJson as TreeHead;

/// One batch written out.
pub(crate) struct Chunk {
    pub bytes: Bytes,
    pub events: u64,
    pub last_sequence: Option<i64>,
}

/// Writes one export's body in `format`.
pub(crate) struct Encoder {
    format: Format,
    /// CSV only: how each batch's writer is set up (a writer per batch, as
    /// it hands its bytes over only when consumed).
    csv: csv::WriterBuilder,
}

impl Encoder {
    pub(crate) fn new(format: Format) -> Self {
        let mut csv = csv::WriterBuilder::new();
        csv.terminator(csv::Terminator::CRLF);
        Self { format, csv }
    }

    /// What comes before the first event: the CSV header row.
    pub(crate) fn start(&mut self) -> ApiResult<Bytes> {
        match self.format {
            Format::Ndjson => Ok(Bytes::new()),
            Format::Csv => self.csv_records([CSV_COLUMNS.map(Cow::Borrowed)]),
        }
    }

    /// The batch's events, in its order, each with its inclusion proof when
    /// `proofs` holds them (one per row, `None` for an event that predates
    /// the tree; NDJSON only).
    pub(crate) fn batch(
        &mut self,
        rows: Vec<audit_events::Model>,
        proofs: Option<Vec<Option<InclusionProof>>>,
    ) -> ApiResult<Chunk> {
        let events = rows.len() as u64;
        let last_sequence = rows.last().map(|row| row.sequence);
        let events_of = |rows: Vec<audit_events::Model>| {
            rows.into_iter()
                .map(AuditEvent::try_from)
                .collect::<ApiResult<Vec<_>>>()
        };
        let events_read = events_of(rows)?;
        let bytes = match self.format {
            Format::Ndjson => {
                let mut ndjson = Vec::new();
                let mut proofs = proofs.map(Vec::into_iter);
                for event in &events_read {
                    let mut line = EventLine::of(event);
                    line.inclusion_proof = proofs
                        .as_mut()
                        .and_then(Iterator::next)
                        .flatten()
                        .map(ProofLine::of);
                    serde_json::to_writer(&mut ndjson, &line).map_err(json_failed)?;
                    ndjson.push(b'\n');
                }
                Bytes::from(ndjson)
            }
            Format::Csv => {
                let records = events_read
                    .iter()
                    .map(|event| EventLine::of(event).csv_cells())
                    .collect::<ApiResult<Vec<_>>>()?;
                let neutral = records
                    .iter()
                    .map(|cells| cells.each_ref().map(|cell| neutralised(cell)));
                self.csv_records(neutral)?
            }
        };
        Ok(Chunk {
            bytes,
            events,
            last_sequence,
        })
    }

    /// The manifest line (NDJSON) or record (CSV): `{"manifest":{...}}`.
    pub(crate) fn manifest(&mut self, manifest: &Manifest<'_>) -> ApiResult<Bytes> {
        #[derive(Serialize)]
        struct Line<'a> {
            manifest: &'a Manifest<'a>,
        }
        let json = serde_json::to_string(&Line { manifest }).map_err(json_failed)?;
        match self.format {
            Format::Ndjson => Ok(Bytes::from(json + "\n")),
            Format::Csv => {
                let mut cells = [""; CSV_COLUMNS.len()].map(Cow::Borrowed);
                cells[0] = Cow::Borrowed(MANIFEST_ID);
                cells[CSV_COLUMNS.len() - 1] = Cow::Borrowed(&json);
                self.csv_records([cells])
            }
        }
    }

    /// `records` as CSV (RFC 4180 quoting by the `csv` crate).
    fn csv_records<'c>(
        &self,
        records: impl IntoIterator<Item = [Cow<'c, str>; 17]>,
    ) -> ApiResult<Bytes> {
        let mut writer = self.csv.from_writer(Vec::new());
        for record in records {
            writer
                .write_record(record.iter().map(|cell| cell.as_bytes()))
                .map_err(csv_failed)?;
        }
        let bytes = writer
            .into_inner()
            .map_err(|error| csv_failed(error.into_error().into()))?;
        Ok(Bytes::from(bytes))
    }
}

fn csv_failed(error: csv::Error) -> ApiError {
    ApiError::Internal(anyhow::Error::new(error).context("writing an export's CSV"))
}

fn json_failed(error: serde_json::Error) -> ApiError {
    ApiError::Internal(anyhow::Error::new(error).context("writing an export's JSON"))
}

/// `cell`, with a leading `'` if a spreadsheet could take it for a formula
/// (or it starts with `'` itself).
pub(crate) fn neutralised(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A GraphQL scalar or enum value as the text a GraphQL answer holds.
fn text(value: async_graphql::Value) -> String {
    match value {
        async_graphql::Value::String(text) => text,
        async_graphql::Value::Enum(name) => name.to_string(),
        other => other.to_string(),
    }
}

/// One NDJSON line: the fields of the GraphQL `AuditEvent` (the deprecated
/// `actor.id` and `target.id` aliases left out), with GraphQL's names.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventLine<'a> {
    id: &'a str,
    /// A number, or a string above 2^53 − 1, as the `Sequence` scalar says.
    sequence: async_graphql::Value,
    action: &'a str,
    occurred_at: String,
    received_at: String,
    actor: ActorLine<'a>,
    target: Option<TargetLine<'a>>,
    outcome: String,
    context: ContextLine<'a>,
    payload: Option<&'a Value>,
    /// With `proofs=true`: as `AuditEvent.inclusionProof` returns it.
    #[serde(skip_serializing_if = "Option::is_none")]
    inclusion_proof: Option<ProofLine>,
}

/// An inclusion proof as GraphQL's `InclusionProof` (hex hashes).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProofLine {
    leaf_index: u64,
    tree_size: u64,
    leaf_hash: String,
    audit_path: Vec<String>,
}

impl ProofLine {
    fn of(proof: InclusionProof) -> Self {
        Self {
            leaf_index: proof.leaf_index,
            tree_size: proof.tree_size,
            leaf_hash: hex::encode(proof.leaf_hash),
            audit_path: proof.audit_path.iter().map(hex::encode).collect(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ActorLine<'a> {
    #[serde(rename = "type")]
    actor_type: String,
    actor_id: &'a str,
    name: Option<&'a str>,
    email: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TargetLine<'a> {
    #[serde(rename = "type")]
    target_type: &'a str,
    target_id: Option<&'a str>,
    name: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContextLine<'a> {
    ip_address: Option<&'a str>,
    user_agent: Option<&'a str>,
    request_id: Option<&'a str>,
}

impl<'a> EventLine<'a> {
    fn of(event: &'a AuditEvent) -> Self {
        Self {
            id: event.id.as_str(),
            sequence: ScalarType::to_value(&event.sequence),
            action: &event.action,
            occurred_at: text(ScalarType::to_value(&event.occurred_at)),
            received_at: text(ScalarType::to_value(&event.received_at)),
            actor: ActorLine {
                actor_type: text(InputType::to_value(&event.actor.actor_type)),
                actor_id: &event.actor.actor_id,
                name: event.actor.name.as_deref(),
                email: event.actor.email.as_deref(),
            },
            target: event.target.as_ref().map(|target| TargetLine {
                target_type: &target.target_type,
                target_id: target.target_id.as_deref(),
                name: target.name.as_deref(),
            }),
            outcome: text(InputType::to_value(&event.outcome)),
            context: ContextLine {
                ip_address: event.context.ip_address.as_deref(),
                user_agent: event.context.user_agent.as_deref(),
                request_id: event.context.request_id.as_deref(),
            },
            payload: event.payload.as_ref().map(|json| &json.0),
            inclusion_proof: None,
        }
    }

    /// The cells of [`CSV_COLUMNS`], before neutralisation; an absent value
    /// is an empty cell.
    fn csv_cells(&self) -> ApiResult<[Cow<'a, str>; 17]> {
        let optional = |value: Option<&'a str>| Cow::Borrowed(value.unwrap_or(""));
        let target = self.target.as_ref();
        let payload = match self.payload {
            Some(payload) => Cow::Owned(serde_json::to_string(payload).map_err(json_failed)?),
            None => Cow::Borrowed(""),
        };
        Ok([
            Cow::Borrowed(self.id),
            Cow::Owned(text(self.sequence.clone())),
            Cow::Borrowed(self.action),
            Cow::Owned(self.occurred_at.clone()),
            Cow::Owned(self.received_at.clone()),
            Cow::Owned(self.actor.actor_type.clone()),
            Cow::Borrowed(self.actor.actor_id),
            optional(self.actor.name),
            optional(self.actor.email),
            optional(target.map(|target| target.target_type)),
            optional(target.and_then(|target| target.target_id)),
            optional(target.and_then(|target| target.name)),
            Cow::Owned(self.outcome.clone()),
            optional(self.context.ip_address),
            optional(self.context.user_agent),
            optional(self.context.request_id),
            payload,
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::neutralised;

    #[test]
    fn neutralises_formula_starts_reversibly() {
        for (cell, written) in [
            ("=1+1", "'=1+1"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@x", "'@x"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(neutralised(cell), written);
            let restored = written.strip_prefix('\'').unwrap_or(written);
            assert_eq!(restored, cell);
        }
    }
}
