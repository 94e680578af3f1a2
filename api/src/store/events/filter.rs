//! `EventFilter`: the validated form of GraphQL's `AuditEventFilter`, and its
//! translation into one SQL condition. Every field narrows; absent fields don't.

use chrono::{DateTime, Utc};
use entity::audit_events::Column;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
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
    /// Case-insensitive substring of action, actor name or email, target name.
    pub search: Option<String>,
}

impl EventFilter {
    /// The tenant scope plus every filter field, as one condition.
    pub fn condition(&self, backend: DbBackend, tenant_id: Uuid) -> Condition {
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
        if let Some(search) = &self.search {
            all = all.add(search_condition(search));
        }
        all
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

fn search_condition(search: &str) -> Condition {
    let pattern = format!("%{}%", escape_like(&search.to_lowercase()));
    let contains = |column: Column| {
        Expr::expr(Func::lower(Expr::col(column))).like(LikeExpr::new(pattern.clone()).escape('\\'))
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
}
