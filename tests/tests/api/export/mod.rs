//! Issue 17, the HTTP export (`/export.ndjson`, `/export.csv`): what a
//! consumer reads back (`round_trip`), the snapshot bound, resuming and
//! truncation (`snapshot`), who may export what (`access`), the per-tenant
//! limit and `audit_log.export` (`limits`), and the service's memory while a
//! slow client reads a large export (`memory`).
//!
//! The helpers read an export as a consumer would: the headers, then the
//! body parsed with `serde_json` (NDJSON) or the `csv` crate (CSV), the
//! manifest split off.

mod access;
mod limits;
mod memory;
mod round_trip;
mod snapshot;

use auditlog_tests::Client;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

pub(crate) const NDJSON: &str = "/export.ndjson";
pub(crate) const CSV: &str = "/export.csv";
pub(crate) const UNTIL: &str = "auditlog-export-until-sequence";
pub(crate) const AFTER: &str = "auditlog-export-after-sequence";

/// `GET path?params` with `bearer` and extra headers; the response with its
/// body unread.
pub(crate) async fn request(
    client: &Client,
    path: &str,
    params: &[(&str, &str)],
    bearer: Option<&str>,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let url = reqwest::Url::parse_with_params(&client.url(path), params)
        .unwrap_or_else(|e| panic!("cannot build the export URL: {e}"));
    let mut request = client.client.get(url);
    if let Some(secret) = bearer {
        request = request.bearer_auth(secret);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path} failed: {e}"))
}

/// A whole export as received.
pub(crate) struct Export {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Export {
    /// The bound a header says.
    #[track_caller]
    pub(crate) fn sequence_header(&self, name: &str) -> i64 {
        header_sequence(&self.headers, name)
    }

    /// The JSON problem body of a refusal.
    pub(crate) fn problem(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// `extensions.code` of a refusal.
    pub(crate) fn code(&self) -> String {
        self.problem()["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

#[track_caller]
pub(crate) fn header_sequence(headers: &HeaderMap, name: &str) -> i64 {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| panic!("no {name} header: {headers:?}"))
}

/// `GET path?params`, read to the end.
pub(crate) async fn export(
    client: &Client,
    path: &str,
    params: &[(&str, &str)],
    bearer: Option<&str>,
) -> Export {
    export_with(client, path, params, bearer, &[]).await
}

pub(crate) async fn export_with(
    client: &Client,
    path: &str,
    params: &[(&str, &str)],
    bearer: Option<&str>,
    headers: &[(&str, &str)],
) -> Export {
    let response = request(client, path, params, bearer, headers).await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .bytes()
        .await
        .unwrap_or_else(|e| panic!("reading the body of {path} failed: {e}"))
        .to_vec();
    Export {
        status,
        headers,
        body,
    }
}

/// [`export`] that must succeed.
#[track_caller]
pub(crate) fn ok(export: Export) -> Export {
    assert_eq!(
        export.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&export.body)
    );
    export
}

/// An NDJSON body: its event lines, and its manifest if it has one (the last line).
pub(crate) fn ndjson(body: &[u8]) -> (Vec<Value>, Option<Value>) {
    let text = std::str::from_utf8(body).unwrap_or_else(|e| panic!("not UTF-8: {e}"));
    let mut lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let manifest = match lines.last() {
        Some(last) if last.get("manifest").is_some() => lines.pop().map(|m| m["manifest"].clone()),
        _ => None,
    };
    (lines, manifest)
}

/// A CSV body, parsed with the `csv` crate: its header, its event records,
/// and the manifest (the `payload` cell of the `#manifest` record) if any.
pub(crate) fn csv(body: &[u8]) -> (Vec<String>, Vec<Vec<String>>, Option<Value>) {
    let mut reader = csv::ReaderBuilder::new().from_reader(body);
    let header = reader
        .headers()
        .unwrap_or_else(|e| panic!("no CSV header: {e}"))
        .iter()
        .map(str::to_owned)
        .collect();
    let mut records: Vec<Vec<String>> = reader
        .records()
        .map(|record| {
            record
                .unwrap_or_else(|e| panic!("a bad CSV record: {e}"))
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect();
    let manifest = match records.last() {
        Some(last) if last[0] == "#manifest" => records.pop().map(|record| {
            assert!(
                record[1..record.len() - 1].iter().all(String::is_empty),
                "a manifest record has only `id` and `payload`: {record:?}"
            );
            let payload = record.last().cloned().unwrap_or_default();
            serde_json::from_str::<Value>(&payload).unwrap_or_else(|e| panic!("{e}: {payload}"))
                ["manifest"]
                .clone()
        }),
        _ => None,
    };
    (header, records, manifest)
}

/// The sequences of NDJSON event lines.
pub(crate) fn sequences(events: &[Value]) -> Vec<i64> {
    events
        .iter()
        .map(|event| {
            event["sequence"]
                .as_i64()
                .unwrap_or_else(|| panic!("no sequence: {event}"))
        })
        .collect()
}
