//! Realistic synthetic events, in the three shapes the systems take: the
//! service's `AuditEventInput` JSON, a PostgreSQL `COPY … FROM STDIN` text row
//! (also the column order of the raw inserts), and PostGraphile's `AuditEventInput`.
//!
//! An event has a dozen actions with a skewed distribution (`entry.update` is
//! about a quarter), 500 actors, 5,000 targets, an IPv4 address, a user agent and
//! a payload of about 400 bytes of JSON.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

/// Actions and their weights (out of 100).
const ACTIONS: [(&str, u32); 12] = [
    ("entry.update", 25),
    ("entry.create", 15),
    ("entry.publish", 10),
    ("entry.delete", 5),
    ("user.login", 15),
    ("user.logout", 8),
    ("user.login_failed", 4),
    ("media.upload", 7),
    ("media.delete", 3),
    ("api_key.create", 2),
    ("settings.update", 4),
    ("webhook.deliver", 2),
];

/// The action that the filtered-page scenario filters on.
pub(crate) const FILTER_ACTION: &str = "entry.update";

/// Column list of `audit_events` that every raw insert fills (the others stay NULL).
pub(crate) const COLUMNS: &str = "tenant_id, id, sequence, action, actor_type, actor_id, actor_name, \
     actor_email, target_type, target_id, target_name, outcome, ip_address, user_agent, \
     request_id, payload, occurred_at, received_at";

/// One synthetic event, number `n` of some stream.
#[derive(Clone, Debug)]
pub(crate) struct Event {
    pub action: &'static str,
    pub actor: u64,
    pub target: u64,
    pub payload: Value,
}

/// A cheap deterministic mix of `n` (splitmix64), so streams are reproducible.
fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Event {
    pub(crate) fn new(n: u64) -> Event {
        let r = mix(n);
        let mut pick = (r % 100) as u32;
        let mut action = ACTIONS[0].0;
        for (name, weight) in ACTIONS {
            if pick < weight {
                action = name;
                break;
            }
            pick -= weight;
        }
        let actor = (r >> 8) % 500;
        let target = (r >> 20) % 5000;
        let payload = json!({
            "title": format!("Quarterly report draft {target}"),
            "locale": "en-GB",
            "changes": [
                { "field": "body", "old": "Lorem ipsum dolor sit amet, consectetur adipiscing", "new": "Lorem ipsum dolor sit amet, sed do eiusmod tempor" },
                { "field": "status", "old": "draft", "new": "review" }
            ],
            "tags": ["finance", "q3", "internal"],
            "version": r % 97,
            "requestPath": format!("/api/entries/{target}/versions")
        });
        Event {
            action,
            actor,
            target,
            payload,
        }
    }

    fn ip(&self) -> String {
        format!(
            "10.{}.{}.{}",
            self.actor % 200,
            self.target % 250,
            1 + self.actor % 250
        )
    }

    /// The service's `AuditEventInput`.
    pub(crate) fn graphql_input(&self) -> Value {
        json!({
            "action": self.action,
            "actor": { "type": "USER", "id": format!("user-{}", self.actor),
                       "name": format!("User {}", self.actor),
                       "email": format!("user{}@example.test", self.actor) },
            "target": { "type": "article", "id": format!("a-{}", self.target),
                        "name": format!("Article {}", self.target) },
            "context": { "ipAddress": self.ip(), "userAgent": "Mozilla/5.0 (X11; Linux x86_64) bench/1.0" },
            "payload": self.payload,
        })
    }

    /// PostGraphile's `AuditEventInput` (every column, as the table stores it).
    pub(crate) fn postgraphile_input(
        &self,
        tenant: Uuid,
        id: Uuid,
        sequence: i64,
        at: DateTime<Utc>,
    ) -> Value {
        let at = at.to_rfc3339_opts(SecondsFormat::Micros, true);
        json!({
            "tenantId": tenant, "id": id, "sequence": sequence, "action": self.action,
            "actorType": "user", "actorId": format!("user-{}", self.actor),
            "actorName": format!("User {}", self.actor),
            "actorEmail": format!("user{}@example.test", self.actor),
            "targetType": "article", "targetId": format!("a-{}", self.target),
            "targetName": format!("Article {}", self.target), "outcome": "success",
            "ipAddress": self.ip(), "userAgent": "Mozilla/5.0 (X11; Linux x86_64) bench/1.0",
            "payload": self.payload, "occurredAt": at, "receivedAt": at,
        })
    }

    /// One `COPY` text-format line (tab-separated, `\N` for NULL) in [`COLUMNS`] order.
    /// No generated value contains a tab, newline or backslash.
    pub(crate) fn copy_line(
        &self,
        out: &mut String,
        tenant: Uuid,
        id: Uuid,
        sequence: i64,
        at: DateTime<Utc>,
    ) {
        use std::fmt::Write;
        let at = at.to_rfc3339_opts(SecondsFormat::Micros, true);
        let _ = writeln!(
            out,
            "{tenant}\t{id}\t{sequence}\t{}\tuser\tuser-{a}\tUser {a}\tuser{a}@example.test\t\
             article\ta-{t}\tArticle {t}\tsuccess\t{}\tMozilla/5.0 (X11; Linux x86_64) bench/1.0\t\
             \\N\t{}\t{at}\t{at}",
            self.action,
            self.ip(),
            self.payload,
            a = self.actor,
            t = self.target,
        );
    }
}

/// A UUIDv7 for an event that occurred at `at` (time-ordered keys, like the service's).
/// The time of event `k` of `count` spread evenly over the `span` before
/// `now`, oldest first. In 128-bit arithmetic: `span` in microseconds times
/// `k` overflows 64 bits from about 1.3 million events over 80 days.
pub(crate) fn spread_at(
    now: DateTime<Utc>,
    span: chrono::Duration,
    k: usize,
    count: usize,
) -> DateTime<Utc> {
    let span = i128::from(span.num_microseconds().unwrap_or(0));
    let back = span - span * k as i128 / (count.max(1) as i128);
    now - chrono::Duration::microseconds(i64::try_from(back).unwrap_or(0))
}

pub(crate) fn id_at(at: DateTime<Utc>) -> Uuid {
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        at.timestamp() as u64,
        at.timestamp_subsec_nanos(),
    );
    Uuid::new_v7(ts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_about_400_bytes_and_copy_lines_have_every_column() {
        let event = Event::new(7);
        let size = event.payload.to_string().len();
        assert!((300..500).contains(&size), "payload of {size} bytes");
        let mut line = String::new();
        let now = Utc::now();
        event.copy_line(&mut line, Uuid::nil(), id_at(now), 1, now);
        assert_eq!(
            line.trim_end().split('\t').count(),
            COLUMNS.split(',').count()
        );
    }
}
