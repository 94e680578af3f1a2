//! The events of the `reads` scenario: a big tenant's log shaped like the one
//! issue 15 measured (40 actions with a skewed distribution, 2,000 actors of
//! three types, 50,000 targets of five types, a few addresses per actor, 5 %
//! failures), with search terms of known frequency:
//!
//! - [`COMMON_TERM`] is in every `entry.*` action (about a quarter of events);
//! - [`RARE_TERM`] is in the target name of one event in 100,000;
//! - [`ABSENT_TERM`] is in none.
//!
//! Each value a filter of the scenario uses ([`Probe`]) matches a known share,
//! so every read has enough rows to fill a page or, where it is rare by
//! design, few enough to test that the index stops early.

use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

pub(crate) const RESOURCES: [&str; 10] = [
    "entry", "user", "media", "api_key", "settings", "webhook", "role", "invoice", "project",
    "comment",
];
pub(crate) const VERBS: [&str; 4] = ["update", "create", "delete", "view"];
const TARGET_TYPES: [&str; 5] = ["article", "user", "file", "invoice", "project"];
pub(crate) const ACTORS: u64 = 2_000;
const TARGETS: u64 = 50_000;

pub(crate) const COMMON_TERM: &str = "entry";
pub(crate) const RARE_TERM: &str = "incident zq";
pub(crate) const ABSENT_TERM: &str = "no-such-term-42";

/// The filter values the scenario uses (each field of `AuditEventFilter` once).
pub(crate) struct Probe;

impl Probe {
    pub(crate) const ACTION: &'static str = "entry.update";
    pub(crate) const ACTION_PREFIX: &'static str = "user.";
    pub(crate) const ACTOR: &'static str = "user-42";
    /// About 2 % of events.
    pub(crate) const ACTOR_TYPE: &'static str = "SYSTEM";
    pub(crate) const TARGET_TYPE: &'static str = "invoice";
    pub(crate) const TARGET_ID: &'static str = "invoice-1234";
    /// About 5 % of events.
    pub(crate) const OUTCOME: &'static str = "FAILURE";

    /// One of actor 42's addresses.
    pub(crate) fn ip_address() -> String {
        address(42, 0)
    }
}

/// splitmix64: a cheap deterministic mix, so the log is reproducible.
fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn address(actor: u64, slot: u64) -> String {
    format!("10.{}.{}.{}", actor / 250, actor % 250, 1 + slot)
}

/// One event of the big tenant's log, number `n`.
pub(crate) struct ReadEvent {
    action: String,
    actor: u64,
    actor_type: &'static str,
    target_type: &'static str,
    target: u64,
    target_name: String,
    outcome: &'static str,
    ip: String,
}

impl ReadEvent {
    pub(crate) fn new(n: u64) -> ReadEvent {
        let r = mix(n);
        // Resources weighted 25 % for `entry`, the rest spread; verbs 40/30/20/10.
        let resource = match r % 100 {
            0..25 => 0,
            pick => 1 + (pick as usize - 25) % (RESOURCES.len() - 1),
        };
        let verb = match (r >> 8) % 10 {
            0..4 => 0,
            4..7 => 1,
            7..9 => 2,
            _ => 3,
        };
        let actor = (r >> 16) % ACTORS;
        let actor_type = match (r >> 28) % 100 {
            0..2 => "system",
            2..10 => "api_key",
            _ => "user",
        };
        let target_kind = ((r >> 36) % TARGET_TYPES.len() as u64) as usize;
        let target = (r >> 40) % TARGETS;
        let target_type = TARGET_TYPES[target_kind];
        let target_name = if n % 100_000 == 77 {
            format!("Incident ZQ-{n} post-mortem")
        } else {
            format!("{} {target}", capitalized(target_type))
        };
        ReadEvent {
            action: format!("{}.{}", RESOURCES[resource], VERBS[verb]),
            actor,
            actor_type,
            target_type,
            target,
            target_name,
            outcome: if (r >> 52).is_multiple_of(20) {
                "failure"
            } else {
                "success"
            },
            ip: address(actor, (r >> 56) % 8),
        }
    }

    /// One `COPY` text line in `super::events::COLUMNS` order.
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
            "{tenant}\t{id}\t{sequence}\t{action}\t{actor_type}\t{actor_id}\tUser {a}\t\
             user{a}@example.test\t{target_type}\t{target_type}-{t}\t{target_name}\t{outcome}\t\
             {ip}\tMozilla/5.0 (X11; Linux x86_64) bench/1.0\t\\N\t\
             {{\"title\":\"{target_name}\",\"locale\":\"en-GB\",\"version\":{v}}}\t{at}\t{at}",
            action = self.action,
            actor_type = self.actor_type,
            actor_id = self.actor_id(),
            a = self.actor,
            target_type = self.target_type,
            t = self.target,
            target_name = self.target_name,
            outcome = self.outcome,
            ip = self.ip,
            v = self.target % 97,
        );
    }

    fn actor_id(&self) -> String {
        format!("user-{}", self.actor)
    }

    /// The same event as SQLite `INSERT` values (the text columns in COLUMNS
    /// order after the tenant, id and sequence; `None` for NULL).
    pub(crate) fn sqlite_values(&self) -> [Option<String>; 13] {
        [
            self.action.clone(),
            self.actor_type.to_owned(),
            self.actor_id(),
            format!("User {}", self.actor),
            format!("user{}@example.test", self.actor),
            self.target_type.to_owned(),
            format!("{}-{}", self.target_type, self.target),
            self.target_name.clone(),
            self.outcome.to_owned(),
            self.ip.clone(),
            "Mozilla/5.0 (X11; Linux x86_64) bench/1.0".to_owned(),
            // request_id
            String::new(),
            format!(
                "{{\"title\":\"{}\",\"locale\":\"en-GB\",\"version\":{}}}",
                self.target_name,
                self.target % 97
            ),
        ]
        .map(|value| (!value.is_empty()).then_some(value))
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probes_match_their_intended_shares() {
        let events: Vec<ReadEvent> = (0..200_000).map(ReadEvent::new).collect();
        let share = |f: &dyn Fn(&ReadEvent) -> bool| {
            events.iter().filter(|e| f(e)).count() as f64 / events.len() as f64
        };
        let entries = share(&|e| e.action.starts_with("entry."));
        assert!((0.2..0.3).contains(&entries), "entry.* share {entries}");
        let system = share(&|e| e.actor_type == "system");
        assert!((0.01..0.03).contains(&system), "system share {system}");
        let failures = share(&|e| e.outcome == "failure");
        assert!((0.03..0.07).contains(&failures), "failure share {failures}");
        let rare = events
            .iter()
            .filter(|e| e.target_name.to_lowercase().contains(RARE_TERM))
            .count();
        assert_eq!(rare, 2);
        assert!(events.iter().any(|e| e.ip == Probe::ip_address()));
        let mut line = String::new();
        events[0].copy_line(&mut line, Uuid::nil(), Uuid::nil(), 1, Utc::now());
        assert_eq!(
            line.trim_end().split('\t').count(),
            super::super::events::COLUMNS.split(',').count()
        );
    }
}
