//! Telling other processes that events were committed (PostgreSQL
//! `LISTEN`/`NOTIFY` on [`CHANNEL`]).
//!
//! Every writer — the service's ingest, its self-audit, the purge's
//! `retention.purge` report in `auditlog-worker` — notifies after COMMIT, so a
//! notification never holds up other tenants' commits. The payload is only
//! `<tenant uuid>:<last sequence>`: listeners read the rows themselves, so
//! NOTIFY's 8000-byte limit never matters, and a lost notification is repaired
//! by the listeners' periodic resync. SQLite has one process: nothing to do.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

/// The channel every process `LISTEN`s on.
pub const CHANNEL: &str = "auditlog_events";

/// The payload of a notification: `<tenant uuid>:<last sequence>`.
pub fn payload(tenant_id: Uuid, last_sequence: i64) -> String {
    format!("{tenant_id}:{last_sequence}")
}

/// The tenant and sequence of a notification's payload.
pub fn parse_payload(payload: &str) -> Option<(Uuid, i64)> {
    let (tenant, sequence) = payload.split_once(':')?;
    Some((Uuid::parse_str(tenant).ok()?, sequence.parse().ok()?))
}

/// Notifies the other processes that `tenant_id`'s events up to
/// `last_sequence` are committed. Failure is only logged by the caller's
/// choice: it is returned, and delivery falls back to the periodic resync.
pub async fn committed(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    last_sequence: i64,
) -> Result<(), sea_orm::DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let statement = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANNEL.into(), payload(tenant_id, last_sequence).into()],
    );
    db.execute_raw(statement).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips_and_stays_small() {
        let tenant = Uuid::now_v7();
        let text = payload(tenant, i64::MAX);
        assert!(text.len() < 100, "far below NOTIFY's 8000-byte limit");
        assert_eq!(parse_payload(&text), Some((tenant, i64::MAX)));
        assert_eq!(parse_payload("garbage"), None);
    }
}
