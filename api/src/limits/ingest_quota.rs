//! [`IngestQuota`]: events per minute per tenant, by plan
//! (`AUDITLOG_TEAM_INGEST_PER_MINUTE`, `AUDITLOG_ENTERPRISE_INGEST_PER_MINUTE`).
//!
//! A batch takes one cell per event, all or none (`governor`'s `check_n`): a
//! batch over what is left is refused whole, before anything is written. The
//! bucket holds one minute's worth, so a tenant may send its whole minute at
//! once. The quota is taken once the batch is valid, before its transaction:
//! an invalid batch costs nothing, but idempotent replays count like new events
//! (the store tells them apart only inside the transaction), and so does a
//! batch refused there (an idempotency conflict).

use uuid::Uuid;

use super::{KeyedLimiter, NRefusal, Rate, Rejection, Scope};
use crate::domain::Plan;

#[derive(Clone)]
pub struct IngestQuota {
    team: KeyedLimiter<Uuid>,
    enterprise: KeyedLimiter<Uuid>,
    team_per_minute: u32,
    enterprise_per_minute: u32,
}

/// A batch the tenant's quota does not allow now.
#[derive(Clone, Copy, Debug)]
pub struct QuotaExceeded {
    pub rejection: Rejection,
    /// Events per minute of the tenant's plan.
    pub per_minute: u32,
    /// The batch is larger than a whole minute's quota (it never fits).
    pub batch_too_large: bool,
}

impl IngestQuota {
    /// Events per minute per plan; `0` is unlimited.
    pub fn new(team_per_minute: u32, enterprise_per_minute: u32) -> Self {
        Self {
            team: KeyedLimiter::new(Rate::per_minute(team_per_minute).quota(0)),
            enterprise: KeyedLimiter::new(Rate::per_minute(enterprise_per_minute).quota(0)),
            team_per_minute,
            enterprise_per_minute,
        }
    }

    pub fn unlimited() -> Self {
        Self {
            team: KeyedLimiter::off(),
            enterprise: KeyedLimiter::off(),
            team_per_minute: 0,
            enterprise_per_minute: 0,
        }
    }

    /// Takes `events` from `tenant_id`'s quota, or refuses the whole batch.
    pub fn take(&self, tenant_id: Uuid, plan: Plan, events: usize) -> Result<(), QuotaExceeded> {
        let (limiter, per_minute) = match plan {
            Plan::Team => (&self.team, self.team_per_minute),
            Plan::Enterprise => (&self.enterprise, self.enterprise_per_minute),
        };
        let events = u32::try_from(events).unwrap_or(u32::MAX);
        match limiter.check_n(&tenant_id, events) {
            Ok(()) => Ok(()),
            Err(NRefusal::Later(wait)) => Err(QuotaExceeded {
                rejection: Rejection::new(Scope::IngestQuota, wait),
                per_minute,
                batch_too_large: false,
            }),
            Err(NRefusal::Never) => Err(QuotaExceeded {
                rejection: Rejection::new(Scope::IngestQuota, std::time::Duration::from_secs(60)),
                per_minute,
                batch_too_large: true,
            }),
        }
    }
}

impl QuotaExceeded {
    /// The client-facing explanation.
    pub fn message(&self) -> String {
        if self.batch_too_large {
            format!(
                "the batch is larger than this tenant's ingest quota of {} events per minute; \
                 send smaller batches",
                self.per_minute
            )
        } else {
            format!(
                "this tenant's ingest quota of {} events per minute is used up; nothing was \
                 recorded; retry the whole batch after {} s",
                self.per_minute, self.rejection.retry_after_secs
            )
        }
    }
}
