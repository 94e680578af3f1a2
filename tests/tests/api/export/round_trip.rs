//! Events with every field and hostile text (unicode, quotes, commas, line
//! breaks, formula-like values, nested payloads) exported in both formats,
//! parsed back (serde_json; the `csv` crate, and Python's `csv` module when
//! `python3` is there) and compared field by field with the GraphQL
//! `auditEvents` answer; gzip and zstd decode to the plain bytes.

use std::io::{Read, Write};

use auditlog_tests::{Backend, TestApp, backend_tests};
use serde_json::{Value, json};

use super::{CSV, NDJSON, UNTIL, csv, export, export_with, ndjson, ok};
use crate::helpers::{base_time, rfc3339};

/// Text a spreadsheet or a naive parser would trip on.
const HOSTILE: [&str; 8] = [
    "=1+1",
    "@x",
    "-2",
    "+1",
    "'=quoted formula",
    "Zoë, \"the\" 🦀 日本語",
    "line one\nline two\r\nline three",
    "\ttabbed",
];

fn hostile_events() -> Value {
    let events: Vec<Value> = HOSTILE
        .iter()
        .enumerate()
        .map(|(i, text)| {
            json!({
                "action": format!("doc.update{i}"),
                "actor": { "type": "USER", "id": text, "name": text, "email": "a@example.com" },
                "target": { "type": "document", "id": text, "name": text },
                "outcome": if i % 2 == 0 { "SUCCESS" } else { "FAILURE" },
                "context": { "ipAddress": "2001:db8::1", "userAgent": text, "requestId": text },
                "payload": { "text": text, "nested": { "list": [1, "=2", null, { "deep": text }] }, "n": -2 },
                "occurredAt": rfc3339(base_time(i as i64)),
            })
        })
        // And one with nothing optional.
        .chain([json!({ "action": "bare.event", "actor": { "type": "SYSTEM", "id": "cron" } })])
        .collect();
    Value::Array(events)
}

/// The GraphQL answer for every event up to `until`, in sequence order, without
/// the deprecated `id` aliases the export leaves out.
async fn graphql_events(app: &TestApp, key: &str, until: i64) -> Vec<Value> {
    let mut events = app.all_events(key, Value::Null).await;
    events.retain(|event| event["sequence"].as_i64().is_some_and(|s| s <= until));
    events.sort_by_key(|event| event["sequence"].as_i64());
    for event in &mut events {
        if let Some(actor) = event["actor"].as_object_mut() {
            actor.remove("id");
        }
        if let Some(target) = event["target"].as_object_mut() {
            target.remove("id");
        }
    }
    events
}

/// A GraphQL event as the CSV columns say, before neutralisation.
fn flattened(event: &Value) -> Vec<String> {
    let text = |value: &Value| match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let mut cells: Vec<String> = [
        &event["id"],
        &event["sequence"],
        &event["action"],
        &event["occurredAt"],
        &event["receivedAt"],
        &event["actor"]["type"],
        &event["actor"]["actorId"],
        &event["actor"]["name"],
        &event["actor"]["email"],
        &event["target"]["type"],
        &event["target"]["targetId"],
        &event["target"]["name"],
        &event["outcome"],
        &event["context"]["ipAddress"],
        &event["context"]["userAgent"],
        &event["context"]["requestId"],
    ]
    .into_iter()
    .map(text)
    .collect();
    cells.push(String::new()); // payload: compared as JSON
    cells
}

/// The documented rule: one leading `'` is the neutralisation, dropped.
fn restored(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

async fn both_formats_round_trip_every_field(backend: Backend) {
    let app = auditlog_tests::spawn_app(backend).await;
    let acme = app.create_tenant("acme", "TEAM").await;
    app.record_ok(&acme.admin_key, hostile_events()).await;
    let key = Some(acme.admin_key.as_str());

    let exported = ok(export(&app, NDJSON, &[], key).await);
    let until = exported.sequence_header(UNTIL);
    assert_eq!(
        exported.headers["content-type"], "application/x-ndjson",
        "{:?}",
        exported.headers
    );
    let expected = graphql_events(&app, &acme.admin_key, until).await;
    let (lines, manifest) = ndjson(&exported.body);
    assert_eq!(lines, expected, "NDJSON lines are the GraphQL events");
    let manifest = manifest.expect("a complete NDJSON export ends with its manifest");
    assert_eq!(manifest["complete"], true);
    assert_eq!(manifest["count"], expected.len());
    assert_eq!(manifest["untilSequence"], until);
    assert_eq!(manifest["afterSequence"], 0);
    assert_eq!(manifest["lastSequence"], until);

    // The same events as CSV (the NDJSON export's own record comes after `until`).
    let params = [("untilSequence", until.to_string())];
    let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let exported = ok(export(&app, CSV, &params, key).await);
    let (header, records, manifest) = csv(&exported.body);
    assert_eq!(
        header,
        [
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
            "payload"
        ]
    );
    assert_eq!(records.len(), expected.len());
    for (record, event) in records.iter().zip(&expected) {
        let mut cells: Vec<&str> = record.iter().map(|cell| restored(cell)).collect();
        let payload = cells.pop().unwrap_or_default();
        let mut wanted = flattened(event);
        wanted.pop();
        assert_eq!(cells, wanted, "the CSV record of {event}");
        let payload: Value = if payload.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(payload).unwrap_or_else(|e| panic!("{e}: {payload}"))
        };
        assert_eq!(payload, event["payload"]);
        // No cell a spreadsheet would run.
        for cell in record {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?}"
            );
        }
    }
    let manifest = manifest.expect("a complete CSV export ends with its manifest record");
    assert_eq!(manifest["complete"], true);
    assert_eq!(manifest["format"], "csv");
    assert_eq!(manifest["count"], expected.len());
    python_reads_the_same_csv(&exported.body, &records);

    // Compressed on request, the same bytes decoded.
    let plain = ok(export(&app, NDJSON, &params, key).await).body;
    let gzip = ok(export_with(&app, NDJSON, &params, key, &[("accept-encoding", "gzip")]).await);
    assert_eq!(gzip.headers["content-encoding"], "gzip");
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&gzip.body[..])
        .read_to_end(&mut decoded)
        .expect("gzip");
    assert_eq!(decoded, plain, "gzip decodes to the plain export");
    let zstd = ok(export_with(&app, NDJSON, &params, key, &[("accept-encoding", "zstd")]).await);
    assert_eq!(zstd.headers["content-encoding"], "zstd");
    let decoded = zstd::decode_all(&zstd.body[..]).expect("zstd");
    assert_eq!(decoded, plain, "zstd decodes to the plain export");
}

/// Python's `csv` module (a second, independent parser) reads `body` into
/// `records` plus the manifest record; skipped without `python3`.
fn python_reads_the_same_csv(body: &[u8], records: &[Vec<String>]) {
    let script = "import csv, io, json, sys\n\
                  rows = list(csv.reader(io.TextIOWrapper(sys.stdin.buffer, encoding='utf-8', newline='')))\n\
                  json.dump(rows, sys.stdout)\n";
    let child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        eprintln!("python3 not found: the Python csv check is skipped");
        return;
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(body)
        .expect("writing to python3");
    let output = child.wait_with_output().expect("python3 runs");
    assert!(output.status.success(), "python3 failed");
    let rows: Vec<Vec<String>> = serde_json::from_slice(&output.stdout).expect("python's JSON");
    assert_eq!(rows.len(), records.len() + 2, "header, events, manifest");
    assert_eq!(
        &rows[1..=records.len()],
        records,
        "Python reads what Rust reads"
    );
    assert_eq!(rows[records.len() + 1][0], "#manifest");
}

backend_tests!(both_formats_round_trip_every_field);
