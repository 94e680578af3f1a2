//! The tenant scope of a transaction: the one way tenant data is read or written.
//!
//! [`begin`] opens a transaction and, on PostgreSQL, makes its tenant known to
//! row-level security with `SELECT set_config('app.tenant_id', $1, true)` — one
//! statement, transaction-local, so it ends with the transaction (commit or
//! rollback) and a pooled connection never carries it into the next one. The
//! policies then admit only that tenant's rows, and a transaction that skipped
//! this fails with an error instead of seeing anything (see the migration
//! `m20261126_000007_row_level_security`). On SQLite there is no such layer:
//! the store's `tenant_id = ?` filters, kept on both backends, are the isolation.
//!
//! Before a tenant is known (an API key names its tenant by slug, the purge
//! walks all tenants), [`crate::store::registry`] resolves tenant ids; every
//! other read or write of tenant data runs inside a transaction from [`begin`].

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement,
    TransactionTrait,
};
use uuid::Uuid;

/// The PostgreSQL setting the row-level security policies compare with.
pub const TENANT_SETTING: &str = "app.tenant_id";

/// Begins a transaction scoped to `tenant_id`.
pub async fn begin(db: &DatabaseConnection, tenant_id: Uuid) -> Result<DatabaseTransaction, DbErr> {
    let txn = db.begin().await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT set_config('app.tenant_id', $1, true)",
            [tenant_id.to_string().into()],
        ))
        .await?;
    }
    Ok(txn)
}
