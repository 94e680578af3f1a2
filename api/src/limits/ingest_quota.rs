//! [`IngestQuota`]: events per minute per tenant, by plan
//! (`AUDITLOG_TEAM_INGEST_PER_MINUTE`, `AUDITLOG_ENTERPRISE_INGEST_PER_MINUTE`;
//! `0` is unlimited).
//!
//! A plan limit, so it holds across replicas: unlike the rate limits it is not
//! counted in this process but on the tenant's counter row, by the ingest
//! transaction that locks that row anyway (`store::events::append_metered`,
//! the window in `store::events::ingest_window`: a sliding-window
//! approximation over minute-aligned windows). Here are only the plan's
//! limits and the client-facing refusal. A batch is checked once it is valid
//! and its idempotent replays are known: an invalid batch and replays cost
//! nothing; a batch over what is left is refused whole, nothing written and
//! nothing taken; one larger than a whole minute never fits (`batch_too_large`).

use std::num::NonZeroU32;
use std::time::Duration;

use super::{Rejection, Scope};
use crate::domain::Plan;
use crate::error::ApiError;
use crate::store::events::QuotaRefusal;

/// Events per minute per plan.
#[derive(Clone, Copy, Debug)]
pub struct IngestQuota {
    team_per_minute: Option<NonZeroU32>,
    enterprise_per_minute: Option<NonZeroU32>,
}

impl IngestQuota {
    /// Events per minute per plan; `0` is unlimited.
    pub fn new(team_per_minute: u32, enterprise_per_minute: u32) -> Self {
        Self {
            team_per_minute: NonZeroU32::new(team_per_minute),
            enterprise_per_minute: NonZeroU32::new(enterprise_per_minute),
        }
    }

    /// The plan's events per minute; `None`: unlimited.
    pub fn per_minute(&self, plan: Plan) -> Option<NonZeroU32> {
        match plan {
            Plan::Team => self.team_per_minute,
            Plan::Enterprise => self.enterprise_per_minute,
        }
    }
}

/// The client's `QUOTA_EXCEEDED` for a refused batch (and one rejection
/// counted in `auditlog_rate_limit_rejections_total{scope="ingest_quota"}`).
pub(crate) fn exceeded(refusal: &QuotaRefusal) -> ApiError {
    let wait = if refusal.batch_too_large {
        Duration::from_secs(60)
    } else {
        refusal.retry_after
    };
    let rejection = Rejection::new(Scope::IngestQuota, wait);
    let message = if refusal.batch_too_large {
        format!(
            "the batch is larger than this tenant's ingest quota of {} events per minute; \
             send smaller batches",
            refusal.per_minute
        )
    } else {
        format!(
            "this tenant's ingest quota of {} events per minute is used up; nothing was \
             recorded; retry the whole batch after {} s",
            refusal.per_minute, rejection.retry_after_secs
        )
    };
    ApiError::QuotaExceeded {
        message,
        retry_after_secs: rejection.retry_after_secs,
    }
}
