//! `EventFilter`: the validated form of GraphQL's `AuditEventFilter`, and its
//! translation into one SQL condition. Every field narrows; absent fields don't.
//!
//! `retained_since` is not client input: resolvers set it from the caller's
//! retention window, so expired events are hidden by every read built on a
//! filter (pages, replay, live delivery) even before the purge has run.

use chrono::{DateTime, Utc};
use entity::audit_events::Column;
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{ColumnTrait, Condition, DbBackend};
use uuid::Uuid;

use crate::domain::{ActorType, IpAddress, Outcome};
use crate::store::dialect;

#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    pub actions: Option<Vec<String>>,
    pub action_prefix: Option<String>,
    pub actor_ids: Option<Vec<String>>,
    pub actor_type: Option<ActorType>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub outcome: Option<Outcome>,
    /// Inclusive.
    pub occurred_after: Option<DateTime<Utc>>,
    /// Exclusive.
    pub occurred_before: Option<DateTime<Utc>>,
    pub ip_address: Option<IpAddress>,
    /// Substring of action, actor name or email, or target name, ignoring the
    /// case of ASCII letters only (see [`fold_case`]).
    pub search: Option<String>,
    /// The retention cutoff: only events with `occurred_at >= retained_since`
    /// (`None`: no cutoff, e.g. on legal hold).
    pub retained_since: Option<DateTime<Utc>>,
}

impl EventFilter {
    /// The tenant scope plus every filter field, as one condition.
    pub fn condition(&self, backend: DbBackend, tenant_id: Uuid) -> Condition {
        let all = self.condition_without_search(backend, tenant_id);
        match &self.search {
            Some(search) => all.add(search_condition(backend, search)),
            None => all,
        }
    }

    /// `search` alone (everything matches without it).
    pub(crate) fn search_condition(&self, backend: DbBackend) -> Condition {
        match &self.search {
            Some(search) => search_condition(backend, search),
            None => Condition::all(),
        }
    }

    /// [`EventFilter::condition`] but for `search`: what a search page scans
    /// in order before it checks the term (`store::events::search`).
    pub(crate) fn condition_without_search(
        &self,
        backend: DbBackend,
        tenant_id: Uuid,
    ) -> Condition {
        let mut all = Condition::all().add(Column::TenantId.eq(tenant_id));
        if let Some(actions) = &self.actions {
            all = all.add(Column::Action.is_in(actions.clone()));
        }
        if let Some(prefix) = &self.action_prefix {
            all = all.add(action_prefix_condition(prefix));
        }
        if let Some(actor_ids) = &self.actor_ids {
            all = all.add(Column::ActorId.is_in(actor_ids.clone()));
        }
        if let Some(actor_type) = self.actor_type {
            all = all.add(Column::ActorType.eq(actor_type.as_db()));
        }
        if let Some(target_type) = &self.target_type {
            all = all.add(Column::TargetType.eq(target_type.clone()));
        }
        if let Some(target_id) = &self.target_id {
            all = all.add(Column::TargetId.eq(target_id.clone()));
        }
        if let Some(outcome) = self.outcome {
            all = all.add(Column::Outcome.eq(outcome.as_db()));
        }
        if let Some(after) = self.occurred_after {
            all = all.add(Column::OccurredAt.gte(after));
        }
        if let Some(before) = self.occurred_before {
            all = all.add(Column::OccurredAt.lt(before));
        }
        if let Some(ip) = &self.ip_address {
            all = all.add(dialect::ip_equals(backend, Column::IpAddress, ip));
        }
        if let Some(since) = self.retained_since {
            all = all.add(Column::OccurredAt.gte(since));
        }
        all
    }
}

impl EventFilter {
    /// The events both `self` and `scope` match, as one filter: what a read
    /// through a scoped credential (a viewer token) asks, so a client's filter
    /// can narrow its scope but never widen it. Fields given by one side are
    /// kept; fields given by both are intersected (lists, time bounds,
    /// prefixes), and a contradiction (two different outcomes, disjoint
    /// lists, unrelated prefixes) yields a filter that matches nothing.
    ///
    /// `search` is a single term: two different terms cannot be expressed, so
    /// a scope with `search` is refused where scopes are made (see
    /// `auth::viewer_token::scope`); here the scope's term wins only if the
    /// client gave none or a term the scope's contains.
    pub fn and(mut self, scope: &EventFilter) -> EventFilter {
        let mut empty = false;
        self.actions = intersect_lists(self.actions, scope.actions.as_ref());
        self.actor_ids = intersect_lists(self.actor_ids, scope.actor_ids.as_ref());
        self.action_prefix = match (self.action_prefix.take(), &scope.action_prefix) {
            (None, theirs) => theirs.clone(),
            (Some(ours), None) => Some(ours),
            (Some(ours), Some(theirs)) if ours.starts_with(theirs.as_str()) => Some(ours),
            (Some(ours), Some(theirs)) if theirs.starts_with(ours.as_str()) => Some(theirs.clone()),
            (Some(ours), Some(_)) => {
                empty = true;
                Some(ours)
            }
        };
        empty |= !both_equal(&mut self.actor_type, scope.actor_type);
        empty |= !both_equal(&mut self.outcome, scope.outcome);
        empty |= !both_equal(&mut self.target_type, scope.target_type.clone());
        empty |= !both_equal(&mut self.target_id, scope.target_id.clone());
        empty |= !both_equal(&mut self.ip_address, scope.ip_address.clone());
        self.occurred_after = Ord::max(self.occurred_after, scope.occurred_after);
        self.occurred_before = match (self.occurred_before, scope.occurred_before) {
            (Some(ours), Some(theirs)) => Some(Ord::min(ours, theirs)),
            (ours, theirs) => ours.or(theirs),
        };
        self.retained_since = Ord::max(self.retained_since, scope.retained_since);
        self.search = match (self.search.take(), &scope.search) {
            (None, theirs) => theirs.clone(),
            (Some(ours), None) => Some(ours),
            (Some(ours), Some(theirs)) if fold_case(&ours).contains(&fold_case(theirs)) => {
                Some(ours)
            }
            (Some(_), Some(theirs)) => Some(theirs.clone()),
        };
        if empty {
            // No event has an action in the empty list: every read path
            // (SQL, live matching, facets) already answers that with nothing.
            self.actions = Some(Vec::new());
        }
        self
    }
}

/// Both lists' common values (either list if only one is given).
fn intersect_lists(ours: Option<Vec<String>>, theirs: Option<&Vec<String>>) -> Option<Vec<String>> {
    match (ours, theirs) {
        (Some(ours), Some(theirs)) => Some(
            ours.into_iter()
                .filter(|value| theirs.contains(value))
                .collect(),
        ),
        (ours, theirs) => ours.or_else(|| theirs.cloned()),
    }
}

/// Sets `ours` to `theirs` if only `theirs` is given; `false` if both are
/// given and differ (no event can match both).
fn both_equal<T: PartialEq>(ours: &mut Option<T>, theirs: Option<T>) -> bool {
    match (ours.as_ref(), theirs) {
        (Some(ours), Some(theirs)) => *ours == theirs,
        (None, theirs) => {
            *ours = theirs;
            true
        }
        (Some(_), None) => true,
    }
}

impl EventFilter {
    /// The same predicate as [`EventFilter::condition`], evaluated in memory for
    /// live delivery (the tenant is already matched by the feed).
    pub fn matches(&self, event: &entity::audit_events::Model) -> bool {
        let opt_eq = |wanted: &Option<String>, actual: &Option<String>| {
            wanted
                .as_ref()
                .is_none_or(|wanted| actual.as_deref() == Some(wanted.as_str()))
        };
        self.actions
            .as_ref()
            .is_none_or(|actions| actions.contains(&event.action))
            && self
                .action_prefix
                .as_ref()
                .is_none_or(|prefix| event.action.starts_with(prefix.as_str()))
            && self
                .actor_ids
                .as_ref()
                .is_none_or(|ids| ids.contains(&event.actor_id))
            && self
                .actor_type
                .is_none_or(|actor_type| actor_type.as_db() == event.actor_type)
            && opt_eq(&self.target_type, &event.target_type)
            && opt_eq(&self.target_id, &event.target_id)
            && self
                .outcome
                .is_none_or(|outcome| outcome.as_db() == event.outcome)
            && self
                .occurred_after
                .is_none_or(|after| event.occurred_at >= after)
            && self
                .occurred_before
                .is_none_or(|before| event.occurred_at < before)
            && self
                .retained_since
                .is_none_or(|since| event.occurred_at >= since)
            && self.ip_address.as_ref().is_none_or(|ip| {
                event
                    .ip_address
                    .as_deref()
                    .and_then(IpAddress::from_stored)
                    .as_ref()
                    == Some(ip)
            })
            && self.search.as_ref().is_none_or(|search| {
                let needle = fold_case(search);
                [
                    Some(&event.action),
                    event.actor_name.as_ref(),
                    event.actor_email.as_ref(),
                    event.target_name.as_ref(),
                ]
                .into_iter()
                .flatten()
                .any(|haystack| fold_case(haystack).contains(&needle))
            })
    }
}

/// `action` starts with `prefix`, as a byte range (`prefix <= action < successor`)
/// so the `(tenant_id, action, ...)` index serves it; actions are ASCII and the
/// column is byte-ordered (`C` collation on PostgreSQL, `BINARY` on SQLite).
fn action_prefix_condition(prefix: &str) -> Condition {
    match ascii_successor(prefix) {
        Some(upper) => Condition::all()
            .add(Column::Action.gte(prefix))
            .add(Column::Action.lt(upper)),
        // Empty prefix matches everything; a non-ASCII one matches no valid action.
        None if prefix.is_empty() => Condition::all(),
        None => Condition::all().add(Expr::val(1).eq(0)),
    }
}

/// The smallest string greater than every string starting with `prefix`.
fn ascii_successor(prefix: &str) -> Option<String> {
    let mut bytes = prefix.as_bytes().to_vec();
    let last = bytes.pop()?;
    if !prefix.is_ascii() || last >= 0x7f {
        return None;
    }
    bytes.push(last + 1);
    String::from_utf8(bytes).ok()
}

/// How `search` folds case: ASCII letters only, so `É` and `é` stay apart.
/// It is the one folding all three evaluations share exactly: SQLite's
/// `lower()` and `LIKE`, PostgreSQL's `lower()` under `COLLATE "C"` (chosen so
/// that the database's locale does not matter) and this crate's
/// [`EventFilter::matches`]; Unicode lowercasing differs between them (and
/// between PostgreSQL locales), so it would not give one answer.
pub fn fold_case(text: &str) -> String {
    text.to_ascii_lowercase()
}

/// The `LIKE` pattern (escape character `\`) of a search term: its folded
/// text as a literal substring.
pub(crate) fn like_pattern(search: &str) -> String {
    format!("%{}%", escape_like(&fold_case(search)))
}

/// `search` as SQL: each column folded like [`fold_case`], then matched.
fn search_condition(backend: DbBackend, search: &str) -> Condition {
    let pattern = like_pattern(search);
    let contains = |column: Column| {
        dialect::fold_case(backend, column).like(LikeExpr::new(pattern.clone()).escape('\\'))
    };
    Condition::any()
        .add(contains(Column::Action))
        .add(contains(Column::ActorName))
        .add(contains(Column::ActorEmail))
        .add(contains(Column::TargetName))
}

fn escape_like(raw: &str) -> String {
    let mut escaped = String::with_capacity(raw.len());
    for c in raw.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successor_bounds_the_prefix_range() {
        assert_eq!(ascii_successor("entry."), Some("entry/".to_owned()));
        assert_eq!(ascii_successor(""), None);
        assert_eq!(ascii_successor("é"), None);
    }

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }

    #[test]
    fn search_folds_ascii_letters_only() {
        assert_eq!(like_pattern("AbÉ%"), "%abÉ\\%%");
        let event = entity::audit_events::Model {
            actor_name: Some("ÉMILE Zoë".into()),
            ..blank_event()
        };
        let search = |term: &str| EventFilter {
            search: Some(term.into()),
            ..EventFilter::default()
        };
        assert!(search("Émile").matches(&event));
        assert!(search("zoë").matches(&event));
        assert!(!search("émile").matches(&event));
        assert!(!search("ZOË").matches(&event));
    }

    #[test]
    fn a_scope_narrows_and_never_widens() {
        let scope = EventFilter {
            actions: Some(vec!["doc.read".into(), "doc.update".into()]),
            action_prefix: Some("doc.".into()),
            outcome: Some(Outcome::Success),
            ..EventFilter::default()
        };
        let client = EventFilter {
            actions: Some(vec!["doc.update".into(), "user.login".into()]),
            ..EventFilter::default()
        };
        let both = client.and(&scope);
        assert_eq!(both.actions, Some(vec!["doc.update".to_owned()]));
        assert_eq!(both.action_prefix.as_deref(), Some("doc."));
        assert_eq!(both.outcome, Some(Outcome::Success));
        let event = entity::audit_events::Model {
            action: "doc.update".into(),
            ..blank_event()
        };
        assert!(both.matches(&event));
        let unfiltered = EventFilter::default().and(&scope);
        assert!(unfiltered.matches(&event));
        let login = entity::audit_events::Model {
            action: "user.login".into(),
            ..blank_event()
        };
        assert!(!unfiltered.matches(&login));
    }

    #[test]
    fn contradictions_match_nothing() {
        let scope = EventFilter {
            outcome: Some(Outcome::Failure),
            ..EventFilter::default()
        };
        let client = EventFilter {
            outcome: Some(Outcome::Success),
            ..EventFilter::default()
        };
        assert_eq!(client.and(&scope).actions, Some(Vec::new()));
        let prefixes = EventFilter {
            action_prefix: Some("user.".into()),
            ..EventFilter::default()
        }
        .and(&EventFilter {
            action_prefix: Some("doc.".into()),
            ..EventFilter::default()
        });
        assert_eq!(prefixes.actions, Some(Vec::new()));
        assert!(!prefixes.matches(&blank_event()));
    }

    #[test]
    fn time_bounds_take_the_narrower_side() {
        let at = |secs| chrono::DateTime::<Utc>::from_timestamp(secs, 0);
        let scope = EventFilter {
            occurred_after: at(100),
            occurred_before: at(200),
            ..EventFilter::default()
        };
        let client = EventFilter {
            occurred_after: at(50),
            occurred_before: at(150),
            ..EventFilter::default()
        };
        let both = client.and(&scope);
        assert_eq!(
            (both.occurred_after, both.occurred_before),
            (at(100), at(150))
        );
    }

    fn blank_event() -> entity::audit_events::Model {
        let at = chrono::DateTime::<Utc>::UNIX_EPOCH;
        entity::audit_events::Model {
            tenant_id: Uuid::nil(),
            id: Uuid::nil(),
            sequence: 1,
            action: "user.login".into(),
            actor_type: "user".into(),
            actor_id: "u1".into(),
            actor_name: None,
            actor_email: None,
            target_type: None,
            target_id: None,
            target_name: None,
            outcome: "success".into(),
            ip_address: None,
            user_agent: None,
            request_id: None,
            payload: None,
            occurred_at: at,
            received_at: at,
            idempotency_key: None,
            request_hash: None,
        }
    }
}
