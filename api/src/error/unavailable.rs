//! Which database failures mean "the database is unavailable, retry": the one
//! place that classifies them, for resolvers (`UNAVAILABLE`), the HTTP layer
//! (503 with `Retry-After`) and readiness.
//!
//! Unavailable is a property of the database, never of the request: the pool
//! could not get a connection in time (`AUDITLOG_DB_ACQUIRE_TIMEOUT_MS`), a
//! connection was refused, reset or closed mid-statement, or the server said it
//! is shutting down, starting up or out of connection slots. A request that
//! failed this way may be retried unchanged. For `recordAuditEvents` the outcome
//! of a commit that lost its connection is unknown, so the batch may or may not
//! be stored: a retry with the same idempotency keys is what makes that safe.
//! Everything else (constraint violations, bad SQL, decoding) stays internal.

use sea_orm::{DbErr, RuntimeErr};

/// PostgreSQL SQLSTATEs that mean the server cannot serve us right now:
/// `admin_shutdown`, `crash_shutdown`, `cannot_connect_now` (starting up or
/// shutting down) and `too_many_connections`. Class `08` (connection
/// exceptions) is matched by prefix.
const POSTGRES_UNAVAILABLE: [&str; 4] = ["57P01", "57P02", "57P03", "53300"];

/// SQLite primary result codes for a database another connection holds:
/// `SQLITE_BUSY` (after the busy timeout) and `SQLITE_LOCKED`.
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;

/// Whether `error` means the database is unreachable or refusing work for now.
pub(crate) fn is_unavailable(error: &DbErr) -> bool {
    match error {
        DbErr::ConnectionAcquire(_) => true,
        // sea-orm's own connection errors (a closed pool: "Disconnected").
        DbErr::Conn(RuntimeErr::Internal(_)) => true,
        DbErr::Conn(RuntimeErr::SqlxError(error))
        | DbErr::Exec(RuntimeErr::SqlxError(error))
        | DbErr::Query(RuntimeErr::SqlxError(error)) => sqlx_unavailable(error),
        _ => false,
    }
}

/// Whether any error in the chain of `error` is an unavailable database.
pub(crate) fn is_unavailable_chain(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<DbErr>())
        .any(is_unavailable)
}

fn sqlx_unavailable(error: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    match error {
        Error::Io(_)
        | Error::Tls(_)
        | Error::PoolTimedOut
        | Error::PoolClosed
        | Error::WorkerCrashed => true,
        Error::Database(database) => {
            let code = database.code().unwrap_or_default();
            if database
                .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
                .is_some()
            {
                // SQLite reports its extended result code as a number.
                return code
                    .parse::<i64>()
                    .is_ok_and(|code| matches!(code & 0xff, SQLITE_BUSY | SQLITE_LOCKED));
            }
            code.starts_with("08") || POSTGRES_UNAVAILABLE.contains(&code.as_ref())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ConnAcquireErr;
    use std::sync::Arc;

    fn sqlx(error: sea_orm::sqlx::Error) -> DbErr {
        DbErr::Exec(RuntimeErr::SqlxError(Arc::new(error)))
    }

    #[test]
    fn connection_failures_are_unavailable() {
        assert!(is_unavailable(&DbErr::ConnectionAcquire(
            ConnAcquireErr::Timeout
        )));
        assert!(is_unavailable(&sqlx(sea_orm::sqlx::Error::PoolTimedOut)));
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert!(is_unavailable(&sqlx(sea_orm::sqlx::Error::Io(reset))));
        let wrapped = anyhow::Error::new(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))
            .context("database error");
        assert!(is_unavailable_chain(&wrapped));
    }

    #[test]
    fn other_failures_are_not() {
        assert!(!is_unavailable(&DbErr::RecordNotFound("x".into())));
        assert!(!is_unavailable(&sqlx(sea_orm::sqlx::Error::RowNotFound)));
        assert!(!is_unavailable_chain(&anyhow::anyhow!("a bug")));
    }
}
