//! The service's notion of "now": UTC truncated to microseconds, the precision
//! PostgreSQL stores, so a timestamp returned at write time equals the one read
//! back later, on either backend.

use chrono::{DateTime, SubsecRound, Utc};

pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
