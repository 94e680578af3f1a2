//! The one place where the schema differs between PostgreSQL and SQLite.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

/// A column holding an IP address: `inet` on PostgreSQL (validated, compact,
/// comparable), text on SQLite.
pub(crate) fn ip_address(backend: DatabaseBackend, name: impl IntoIden) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    match backend {
        DatabaseBackend::Postgres => column.custom(Alias::new("inet")),
        _ => column.text(),
    };
    column.null();
    column
}

/// A short identifier compared byte by byte (actions, slugs, key prefixes).
/// On PostgreSQL the `C` collation makes `ORDER BY`, range scans and prefix
/// matches byte-ordered and index-friendly whatever the database's locale;
/// SQLite's default `BINARY` collation already is.
pub(crate) fn identifier(backend: DatabaseBackend, name: impl IntoIden) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    column.text().not_null();
    if backend == DatabaseBackend::Postgres {
        column.extra("COLLATE \"C\"");
    }
    column
}
