//! The standby's health, checked in the background once a second (never per
//! request): [`StandbyHealth`] holds the latest [`StandbyStatus`], which
//! `ReadPool` consults before each read and `/readyz` reports.
//!
//! A check samples the primary's WAL position, then the standby's recovery
//! state and replay position, and turns them into a lag (see `lag`). The
//! standby serves reads only while it answers, is in recovery, and lags at
//! most `AUDITLOG_READ_MAX_LAG_MS`. On its first answer its role is checked
//! like the primary's: one that could bypass row-level security is refused
//! (in production, without `AUDITLOG_ALLOW_RLS_BYPASS`) and never read from.

use std::sync::{Arc, Weak};
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::sync::watch;

use super::lag::LagClock;
use crate::store::{replication, role_check};

/// How often the standby is checked.
const CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// Longest one probe of a server may take; a standby slower than that is
/// as good as down for reads.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StandbyState {
    /// In recovery and at most the allowed lag behind: serves reads.
    Ok,
    /// Further behind than allowed, or its lag is not known yet.
    Lagging,
    /// Did not answer (or not in time), or failed a read with a connection error.
    Unreachable,
    /// Answers but is not a standby (promoted, or the URL names a primary).
    NotInRecovery,
    /// Its role could bypass row-level security (see the module docs).
    Refused,
}

impl StandbyState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Lagging => "lagging",
            Self::Unreachable => "unreachable",
            Self::NotInRecovery => "not_in_recovery",
            Self::Refused => "refused",
        }
    }
}

/// The outcome of the latest check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StandbyStatus {
    pub(crate) state: StandbyState,
    /// The measured lag, when the standby answered and it is known.
    pub(crate) lag: Option<Duration>,
}

impl StandbyStatus {
    fn unreachable() -> Self {
        Self {
            state: StandbyState::Unreachable,
            lag: None,
        }
    }
}

/// The latest status, shared by the reads, `/readyz` and the checking task
/// (which holds it weakly and ends when the last handle is dropped).
#[derive(Clone)]
pub(crate) struct StandbyHealth(Arc<watch::Sender<StandbyStatus>>);

impl StandbyHealth {
    pub(crate) fn status(&self) -> StandbyStatus {
        *self.0.borrow()
    }

    /// A read found the standby unreachable: bypass it until the next check
    /// says otherwise, so later requests do not wait on it too.
    pub(crate) fn mark_unreachable(&self) {
        self.0.send_if_modified(|status| {
            let changed = status.state != StandbyState::Unreachable;
            *status = StandbyStatus::unreachable();
            changed
        });
    }
}

/// Whether the standby's role was found safe to read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RoleCheck {
    /// Not yet (the standby has not answered, or the check failed).
    Pending,
    Passed,
    /// It could bypass row-level security: never read from.
    Refused,
}

/// The background checks of one standby.
pub(crate) struct Checker {
    primary: DatabaseConnection,
    standby: DatabaseConnection,
    max_lag: Duration,
    /// Refuse a standby role that could bypass row-level security (production
    /// without `AUDITLOG_ALLOW_RLS_BYPASS`); else only warn.
    refuse_rls_bypass: bool,
    clock: LagClock,
    role: RoleCheck,
}

impl Checker {
    pub(crate) fn new(
        primary: DatabaseConnection,
        standby: DatabaseConnection,
        max_lag: Duration,
        refuse_rls_bypass: bool,
    ) -> Self {
        Self {
            primary,
            standby,
            max_lag,
            refuse_rls_bypass,
            clock: LagClock::default(),
            role: RoleCheck::Pending,
        }
    }

    /// Runs the first check now, and the others in a background task that
    /// ends when the last [`StandbyHealth`] is dropped.
    pub(crate) async fn start(mut self) -> StandbyHealth {
        let first = self.check().await;
        log_transition(None, first);
        let health = StandbyHealth(Arc::new(watch::Sender::new(first)));
        tokio::spawn(self.run(Arc::downgrade(&health.0)));
        health
    }

    async fn run(mut self, health: Weak<watch::Sender<StandbyStatus>>) {
        loop {
            tokio::time::sleep(CHECK_INTERVAL).await;
            let status = self.check().await;
            let Some(health) = health.upgrade() else {
                return;
            };
            let previous = health.send_replace(status);
            log_transition(Some(previous), status);
        }
    }

    async fn check(&mut self) -> StandbyStatus {
        // The primary first: the standby must then have replayed up to it.
        let sampled_at = std::time::Instant::now();
        match tokio::time::timeout(PROBE_TIMEOUT, replication::primary_position(&self.primary))
            .await
        {
            Ok(Ok(position)) => self.clock.primary_at(sampled_at, position),
            // No sample: the lag bound grows until the primary answers again.
            Ok(Err(error)) => {
                tracing::debug!(error = %error, "standby check: no primary WAL position");
            }
            Err(_) => tracing::debug!("standby check: the primary did not answer in time"),
        }
        let position =
            tokio::time::timeout(PROBE_TIMEOUT, replication::standby_position(&self.standby)).await;
        let position = match position {
            Ok(Ok(position)) => position,
            Ok(Err(error)) => {
                tracing::debug!(error = %error, "standby check: the standby did not answer");
                return self.unmeasured(StandbyState::Unreachable);
            }
            Err(_) => return self.unmeasured(StandbyState::Unreachable),
        };
        if self.role == RoleCheck::Pending {
            self.role = self.check_role().await;
        }
        match self.role {
            RoleCheck::Refused => return self.unmeasured(StandbyState::Refused),
            RoleCheck::Pending => return self.unmeasured(StandbyState::Unreachable),
            RoleCheck::Passed => {}
        }
        let Some(replayed) = position.replayed.filter(|_| position.in_recovery) else {
            return self.unmeasured(StandbyState::NotInRecovery);
        };
        let lag = self.clock.lag(replayed, std::time::Instant::now());
        metrics::gauge!("auditlog_db_standby_lag_seconds")
            .set(lag.map_or(f64::NAN, |lag| lag.as_secs_f64()));
        let state = if lag.is_some_and(|lag| lag <= self.max_lag) {
            StandbyState::Ok
        } else {
            StandbyState::Lagging
        };
        StandbyStatus { state, lag }
    }

    /// A status without a lag (the gauge says NaN: not measured).
    fn unmeasured(&self, state: StandbyState) -> StandbyStatus {
        metrics::gauge!("auditlog_db_standby_lag_seconds").set(f64::NAN);
        StandbyStatus { state, lag: None }
    }

    /// Whether the standby's role may be read as (like `db_roles::check` for
    /// the primary's: a physical standby has the primary's roles, but its URL
    /// may name another one).
    async fn check_role(&self) -> RoleCheck {
        match role_check::bypass_reasons(&self.standby).await {
            Ok((_, reasons)) if reasons.is_empty() => RoleCheck::Passed,
            Ok((role, reasons)) if !self.refuse_rls_bypass => {
                tracing::warn!(role = %role, reasons = ?reasons, "the read replica's role could bypass row-level security");
                RoleCheck::Passed
            }
            Ok((role, reasons)) => {
                tracing::error!(role = %role, reasons = ?reasons, "the read replica's role could bypass row-level security: no reads go to AUDITLOG_READ_DATABASE_URL; connect there as the service's own role");
                RoleCheck::Refused
            }
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "standby check: cannot read the role's attributes");
                RoleCheck::Pending
            }
        }
    }
}

/// Logs when the standby starts or stops serving reads (not every second).
fn log_transition(previous: Option<StandbyStatus>, now: StandbyStatus) {
    if previous.is_some_and(|previous| previous.state == now.state) {
        return;
    }
    let lag_ms = now.lag.map(|lag| lag.as_millis());
    if now.state == StandbyState::Ok {
        tracing::info!(lag_ms = ?lag_ms, "the read replica serves reads");
    } else {
        tracing::warn!(state = now.state.as_str(), lag_ms = ?lag_ms, "the read replica is bypassed: reads go to the primary");
    }
}
