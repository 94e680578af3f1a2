//! The one place where queries differ between PostgreSQL and SQLite.
//!
//! IP addresses are `inet` on PostgreSQL: values must be cast on the way in and
//! for comparisons. On SQLite they are canonical text (see `domain::IpAddress`).
//! `search` folds case and reaches its index differently on each backend.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, IntoColumnRef};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};
use uuid::Uuid;

use crate::domain::IpAddress;

/// The value to store in an IP-address column.
pub fn ip_value(backend: DbBackend, ip: Option<&IpAddress>) -> Expr {
    let text = Expr::val(ip.map(IpAddress::canonical));
    match backend {
        // Parameters are bound as text; even a NULL needs the cast to fit `inet`.
        DbBackend::Postgres => text.cast_as(Alias::new("inet")),
        _ => text,
    }
}

/// `column = ip`, comparing addresses rather than spellings.
pub fn ip_equals(backend: DbBackend, column: impl IntoColumnRef, ip: &IpAddress) -> Expr {
    Expr::col(column).eq(ip_value(backend, Some(ip)))
}

/// `column` compared byte by byte: `COLLATE "C"` on PostgreSQL (whatever the
/// database's locale), as is on SQLite (whose default, `BINARY`, already is).
pub fn byte_ordered(backend: DbBackend, column: impl IntoColumnRef) -> Expr {
    match backend {
        DbBackend::Postgres => Expr::cust_with_expr("$1 COLLATE \"C\"", Expr::col(column)),
        _ => Expr::col(column),
    }
}

/// `column` folded for `search` (ASCII letters only, as
/// [`fold_case`](crate::store::events::fold_case)): on PostgreSQL `lower()`
/// under `COLLATE "C"`, whatever the database's locale; SQLite's `lower()`
/// folds only ASCII (no ICU).
pub fn fold_case(backend: DbBackend, column: impl IntoColumnRef) -> Expr {
    match backend {
        DbBackend::Postgres => Expr::cust_with_expr("lower($1 COLLATE \"C\")", Expr::col(column)),
        _ => Func::lower(Expr::col(column)).into(),
    }
}

/// Whether the search index can serve `term`. SQLite's trigram tokenizer
/// indexes every character, so any term of 3 or more; PostgreSQL's `pg_trgm`
/// takes trigrams from words (runs of letters and digits) only, so a term
/// needs 3 of them in a row.
pub fn search_uses_index(backend: DbBackend, term: &str) -> bool {
    match backend {
        DbBackend::Postgres => {
            let mut run = 0;
            term.chars().any(|c| {
                run = if c.is_alphanumeric() { run + 1 } else { 0 };
                run >= 3
            })
        }
        _ => term.chars().count() >= 3,
    }
}

/// The search index's candidates for a term, as [`search_candidates`]
/// lists them: the tenant's events that may match (a superset: a page still
/// checks every column), by the key each backend finds them by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SearchCandidates {
    /// PostgreSQL: event ids.
    Ids(Vec<Uuid>),
    /// SQLite: `rowid`s of `audit_events` (those of its FTS5 table).
    RowIds(Vec<i64>),
}

impl SearchCandidates {
    pub fn len(&self) -> usize {
        match self {
            Self::Ids(ids) => ids.len(),
            Self::RowIds(rows) => rows.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `audit_events` rows among these candidates. One parameter either
    /// way (an array literal, a JSON array), whatever their number.
    pub fn condition(&self) -> Expr {
        match self {
            Self::Ids(ids) => {
                let list = ids.iter().map(Uuid::to_string).collect::<Vec<_>>();
                Expr::cust_with_values(
                    "\"audit_events\".\"id\" = ANY(CAST($1 AS uuid[]))",
                    [Value::from(format!("{{{}}}", list.join(",")))],
                )
            }
            Self::RowIds(rows) => Expr::cust_with_values(
                "\"audit_events\".\"rowid\" IN (SELECT \"value\" FROM json_each(?))",
                [Value::from(
                    serde_json::Value::from(rows.clone()).to_string(),
                )],
            ),
        }
    }
}

/// The statement listing at most `limit` of the tenant's events that the
/// search index has as candidates for `term` (read them with
/// [`read_search_candidates`]). PostgreSQL reads its trigram index through
/// the owner's `auditlog_search_candidates`, as row-level security keeps a
/// `LIKE` of the service's own query from using it (migrations
/// `m20261203_000009_index_search_and_ip`, `m20261204_000017_bound_search_candidates`);
/// SQLite matches its FTS5 table with the term as one quoted phrase, so
/// nothing in it is an operator, and keeps the tenant's rows.
pub fn search_candidates(backend: DbBackend, tenant_id: Uuid, term: &str, limit: u64) -> Statement {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    match backend {
        DbBackend::Postgres => Statement::from_sql_and_values(
            backend,
            "SELECT auditlog_search_candidates($1, $2, $3) AS \"key\"",
            [
                Value::from(tenant_id),
                Value::from(crate::store::events::like_pattern(term)),
                Value::from(limit),
            ],
        ),
        _ => Statement::from_sql_and_values(
            backend,
            "SELECT \"audit_events_search\".\"rowid\" AS \"key\" FROM \"audit_events_search\" \
             JOIN \"audit_events\" ON \"audit_events\".\"rowid\" = \"audit_events_search\".\"rowid\" \
             WHERE \"audit_events_search\" MATCH ? AND \"audit_events\".\"tenant_id\" = ? LIMIT ?",
            [
                Value::from(fts_phrase(term)),
                Value::from(tenant_id),
                Value::from(limit),
            ],
        ),
    }
}

/// Runs a [`search_candidates`] statement.
pub async fn read_search_candidates(
    db: &impl ConnectionTrait,
    statement: Statement,
) -> Result<SearchCandidates, DbErr> {
    let backend = db.get_database_backend();
    let rows = db.query_all_raw(statement).await?;
    Ok(match backend {
        DbBackend::Postgres => SearchCandidates::Ids(
            rows.iter()
                .map(|row| row.try_get::<Uuid>("", "key"))
                .collect::<Result<_, _>>()?,
        ),
        _ => SearchCandidates::RowIds(
            rows.iter()
                .map(|row| row.try_get::<i64>("", "key"))
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// `term` as one FTS5 string: in double quotes, each `"` doubled. Inside a
/// string FTS5 knows no operators (`OR`, `*`, `^`, `NEAR`, column filters).
fn fts_phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_phrases_are_quoted_literals() {
        assert_eq!(fts_phrase(r#""a" OR b*"#), r#""""a"" OR b*""#);
        assert_eq!(fts_phrase("plain"), "\"plain\"");
    }

    #[test]
    fn which_terms_the_index_serves() {
        assert!(search_uses_index(DbBackend::Sqlite, "a.b"));
        assert!(!search_uses_index(DbBackend::Sqlite, "ab"));
        assert!(search_uses_index(DbBackend::Postgres, "x-abc"));
        assert!(search_uses_index(DbBackend::Postgres, "Zoë"));
        assert!(!search_uses_index(DbBackend::Postgres, "a.b.c"));
        assert!(!search_uses_index(DbBackend::Postgres, "@@@"));
    }
}
