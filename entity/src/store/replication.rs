//! Replication positions of PostgreSQL servers: how far the primary has
//! written its WAL, and how far a hot standby has replayed it. `api`'s
//! `replica` compares the two to decide whether reads may go to the standby.
//!
//! Positions are LSNs as byte offsets into the WAL (`pg_lsn - '0/0'`), which
//! only grow. Nothing here reads tenant data: these are server functions any
//! role may call, so they need no tenant scope. PostgreSQL only.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

/// Where the primary's WAL ends now: `pg_current_wal_insert_lsn()`, the end of
/// the last record inserted. Every transaction visible on the primary before
/// this call has its commit record at or below it. The insert position (not
/// the write or flush position) because with `synchronous_commit=off` a
/// commit is visible before its WAL is written, and a standby that has not
/// replayed it must not count as caught up.
pub async fn primary_position(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let row = db
        .query_one_raw(sql(
            "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint",
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("pg_current_wal_insert_lsn".into()))?;
    lsn(row.try_get_by_index::<i64>(0)?)
}

/// What a standby says of itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StandbyPosition {
    /// `pg_is_in_recovery()`: false on a primary (a promoted standby, or a
    /// read URL that names the primary).
    pub in_recovery: bool,
    /// `pg_last_wal_replay_lsn()`: the end of the last record replayed, so
    /// visible to its readers (`None` on a server not in recovery).
    pub replayed: Option<u64>,
}

/// The recovery state and replay position of the server `db` is connected to.
pub async fn standby_position(db: &impl ConnectionTrait) -> Result<StandbyPosition, DbErr> {
    let row = db
        .query_one_raw(sql(
            "SELECT pg_is_in_recovery(), (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint",
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("pg_last_wal_replay_lsn".into()))?;
    Ok(StandbyPosition {
        in_recovery: row.try_get_by_index::<bool>(0)?,
        replayed: row
            .try_get_by_index::<Option<i64>>(1)?
            .map(lsn)
            .transpose()?,
    })
}

fn sql(text: &str) -> Statement {
    Statement::from_string(DbBackend::Postgres, text)
}

/// An LSN read as `bigint` (never negative: the WAL would need 8 EiB first).
fn lsn(value: i64) -> Result<u64, DbErr> {
    u64::try_from(value).map_err(|_| DbErr::Type(format!("negative WAL position {value}")))
}
