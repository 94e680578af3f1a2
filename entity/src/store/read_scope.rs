//! [`ReadScope`]: a read-only, tenant-scoped transaction that costs one round
//! trip to open.
//!
//! [`crate::store::tenant_scope::begin`] opens a transaction with `BEGIN` and
//! then scopes it with `SELECT set_config(...)`: two round trips before the
//! query, on every read. On PostgreSQL a read opens its transaction with one
//! simple-query message instead, `BEGIN READ ONLY; SELECT set_config(
//! 'app.tenant_id', '<uuid>', true)`, through sqlx's `begin_with`; the same
//! transaction-local setting, so row-level security binds exactly as before.
//! The tenant id is the only value in that text, and it is a [`Uuid`] rendered
//! by its `Display` (hex digits and hyphens): no client-supplied text is ever
//! written into SQL. Queries inside the scope are bound statements as usual.
//!
//! The same message sets `plan_cache_mode = force_custom_plan` for the
//! transaction. sqlx prepares every statement, and after five executions
//! PostgreSQL may switch a prepared statement to its generic plan, planned
//! for an unknown `tenant_id`, that is for an average tenant. Tenants are
//! skewed (one may hold most of the rows): a generic plan that suits a small
//! tenant (read an action's index range, then sort) reads tens of thousands of
//! rows for a big one, where walking the time index and filtering stops after
//! a page. Planning each read for its tenant costs a fraction of a
//! millisecond; the wrong plan cost 50 ms and more on the bench's big tenant.
//!
//! `READ ONLY` also makes a write through a read scope an error, and is what a
//! hot standby requires. On SQLite the scope is an ordinary transaction (it has
//! no row-level security; the store's `tenant_id = ?` filters are the boundary).

use std::pin::Pin;

use futures::{Stream, StreamExt, TryStreamExt};
use sea_orm::sqlx::{self, Postgres};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, RuntimeErr, Statement, StreamTrait, TransactionTrait,
};
use sea_query_sqlx::SqlxValues;
use tokio::sync::Mutex;
use uuid::Uuid;

use super::tenant_scope;

/// A read-only transaction scoped to one tenant; see the module docs.
pub enum ReadScope {
    /// PostgreSQL: sqlx's transaction, opened with the scoping `BEGIN`.
    Postgres(Mutex<sqlx::Transaction<'static, Postgres>>),
    /// SQLite (and anything else): SeaORM's transaction.
    Other(DatabaseTransaction),
}

/// Opens a read-only transaction scoped to `tenant_id`.
pub async fn begin_read(db: &DatabaseConnection, tenant_id: Uuid) -> Result<ReadScope, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(ReadScope::Other(db.begin().await?));
    }
    let begin = format!(
        "BEGIN READ ONLY; SELECT set_config('{setting}', '{tenant}', true), \
         set_config('plan_cache_mode', 'force_custom_plan', true)",
        setting = tenant_scope::TENANT_SETTING,
        tenant = tenant_id.hyphenated(),
    );
    let txn = db
        .get_postgres_connection_pool()
        .begin_with(sqlx::AssertSqlSafe(begin))
        .await
        .map_err(connection_error)?;
    Ok(ReadScope::Postgres(Mutex::new(txn)))
}

impl ReadScope {
    /// Ends the transaction. A read-only transaction has nothing to commit,
    /// so on PostgreSQL it is dropped instead: sqlx queues its `ROLLBACK` on
    /// the connection, and the pool flushes it with the ping it sends anyway
    /// when the connection comes back (off the request's path), which saves
    /// the request the `COMMIT` round trip. A connection that fails that ping
    /// is closed, never reused mid-transaction.
    pub async fn commit(self) -> Result<(), DbErr> {
        match self {
            ReadScope::Postgres(txn) => {
                drop(txn);
                Ok(())
            }
            ReadScope::Other(txn) => txn.commit().await,
        }
    }
}

fn connection_error(error: sqlx::Error) -> DbErr {
    DbErr::Conn(RuntimeErr::SqlxError(error.into()))
}

fn query_error(error: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(error.into()))
}

/// `statement` as an sqlx query with its bound values.
fn bound(statement: &Statement) -> sqlx::query::Query<'_, Postgres, SqlxValues> {
    let values = statement
        .values
        .clone()
        .unwrap_or(sea_orm::Values(Vec::new()));
    sqlx::query_with(
        sqlx::AssertSqlSafe(statement.sql.as_str()),
        SqlxValues(values),
    )
}

#[async_trait::async_trait]
impl ConnectionTrait for ReadScope {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            ReadScope::Postgres(_) => DbBackend::Postgres,
            ReadScope::Other(txn) => ConnectionTrait::get_database_backend(txn),
        }
    }

    async fn execute_raw(&self, statement: Statement) -> Result<ExecResult, DbErr> {
        match self {
            ReadScope::Postgres(txn) => {
                let mut txn = txn.lock().await;
                let done = bound(&statement)
                    .execute(&mut **txn)
                    .await
                    .map_err(query_error)?;
                Ok(done.into())
            }
            ReadScope::Other(txn) => txn.execute_raw(statement).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            ReadScope::Postgres(txn) => {
                let mut txn = txn.lock().await;
                let done = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(&mut **txn)
                    .await
                    .map_err(query_error)?;
                Ok(done.into())
            }
            ReadScope::Other(txn) => txn.execute_unprepared(sql).await,
        }
    }

    async fn query_one_raw(&self, statement: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            ReadScope::Postgres(txn) => {
                let mut txn = txn.lock().await;
                let row = bound(&statement)
                    .fetch_optional(&mut **txn)
                    .await
                    .map_err(query_error)?;
                Ok(row.map(QueryResult::from))
            }
            ReadScope::Other(txn) => txn.query_one_raw(statement).await,
        }
    }

    async fn query_all_raw(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            ReadScope::Postgres(txn) => {
                let mut txn = txn.lock().await;
                let rows = bound(&statement)
                    .fetch_all(&mut **txn)
                    .await
                    .map_err(query_error)?;
                Ok(rows.into_iter().map(QueryResult::from).collect())
            }
            ReadScope::Other(txn) => txn.query_all_raw(statement).await,
        }
    }
}

/// Rows as they arrive: the caller charges each to its budget and may stop early.
pub type RowStream<'a> = Pin<Box<dyn Stream<Item = Result<QueryResult, DbErr>> + Send + 'a>>;

impl StreamTrait for ReadScope {
    type Stream<'a> = RowStream<'a>;

    fn get_database_backend(&self) -> DbBackend {
        ConnectionTrait::get_database_backend(self)
    }

    fn stream_raw<'a>(
        &'a self,
        statement: Statement,
    ) -> Pin<Box<dyn Future<Output = Result<Self::Stream<'a>, DbErr>> + 'a + Send>> {
        Box::pin(async move {
            let stream: RowStream<'a> = match self {
                ReadScope::Postgres(txn) => Box::pin(async_stream::try_stream! {
                    let mut txn = txn.lock().await;
                    let mut rows = bound(&statement).fetch(&mut **txn);
                    while let Some(row) = rows.try_next().await.map_err(query_error)? {
                        yield QueryResult::from(row);
                    }
                }),
                ReadScope::Other(txn) => txn.stream_raw(statement).await?.boxed(),
            };
            Ok(stream)
        })
    }
}
