//! Prometheus series of log-stream delivery:
//!
//! - `auditlog_stream_deliveries_total{kind,outcome}`: attempts by stream
//!   kind (`WEBHOOK`, `SPLUNK_HEC`) and `delivered`, `retrying` or `disabled`;
//! - `auditlog_stream_delivery_seconds{kind}`: how long receivers took;
//! - `auditlog_stream_lag_events{stream}` and
//!   `auditlog_stream_lag_seconds{stream}`: how far each stream is behind its
//!   tenant's log, in events and in the age of its oldest undelivered event,
//!   set after every claim. The label set is bounded: the first
//!   [`LABELLED_STREAMS`] streams a process delivers get their id as label,
//!   later ones share `stream="other"` (the largest lag among them at the
//!   moment of the update).

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use uuid::Uuid;

use super::http::Verdict;

/// Streams with a label of their own per process.
pub const LABELLED_STREAMS: usize = 200;

static LABELLED: Mutex<Option<HashSet<Uuid>>> = Mutex::new(None);

pub(super) fn delivery(kind: &str, verdict: &Verdict, latency: Duration) {
    let kind = if kind == "SPLUNK_HEC" {
        "SPLUNK_HEC"
    } else {
        "WEBHOOK"
    };
    let outcome = match verdict {
        Verdict::Delivered => "delivered",
        Verdict::Retry(_) => "retrying",
        Verdict::Disable => "disabled",
    };
    metrics::counter!("auditlog_stream_deliveries_total", "kind" => kind, "outcome" => outcome)
        .increment(1);
    metrics::histogram!("auditlog_stream_delivery_seconds", "kind" => kind)
        .record(latency.as_secs_f64());
}

/// The stream's lag after a claim.
pub(super) fn lag(stream_id: Uuid, events: i64, seconds: f64) {
    let label = {
        let mut guard = LABELLED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let labelled = guard.get_or_insert_with(HashSet::new);
        if labelled.contains(&stream_id) || labelled.len() < LABELLED_STREAMS {
            labelled.insert(stream_id);
            stream_id.to_string()
        } else {
            "other".to_owned()
        }
    };
    metrics::gauge!("auditlog_stream_lag_events", "stream" => label.clone()).set(events as f64);
    metrics::gauge!("auditlog_stream_lag_seconds", "stream" => label).set(seconds);
}
