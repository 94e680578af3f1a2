//! The one place where queries differ between PostgreSQL and SQLite.
//!
//! IP addresses are `inet` on PostgreSQL: values must be cast on the way in and
//! for comparisons. On SQLite they are canonical text (see `domain::IpAddress`).

use sea_orm::DbBackend;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, IntoColumnRef};

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
