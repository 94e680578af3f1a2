//! [`Changes`]: in-process news of credential and retention changes, for open
//! WebSockets.
//!
//! A WebSocket authenticates once, at `connection_init`; what it learned (the
//! key is valid, the tenant keeps events N days) can change while it stays
//! open. The services that make such a change announce it here after their
//! commit, so every socket of this process reacts at once: a revoked key's
//! socket closes, a new retention window applies to its subscriptions. Other
//! processes learn of the change by their periodic re-check
//! (`AUDITLOG_AUTH_RECHECK_SECS`); nothing here crosses a process boundary.
//!
//! It carries ids and a window, never a secret.

use tokio::sync::broadcast;
use uuid::Uuid;

use crate::domain::RetentionWindow;

/// Changes buffered per listening socket; one further behind misses some and
/// re-checks its credential instead (see [`broadcast::error::RecvError::Lagged`]).
const BUFFER: usize = 256;

/// One change that open sockets may have to act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// The API key `key_id` of `tenant_id` was revoked.
    KeyRevoked { tenant_id: Uuid, key_id: Uuid },
    /// `tenant_id`'s retention window is now `window` (period, legal hold or plan changed).
    RetentionChanged {
        tenant_id: Uuid,
        window: RetentionWindow,
    },
}

#[derive(Clone)]
pub struct Changes {
    sender: broadcast::Sender<Change>,
}

impl Default for Changes {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(BUFFER).0,
        }
    }
}

impl Changes {
    /// Announces `change` to every socket listening now (none listening is fine).
    pub fn announce(&self, change: Change) {
        let _ = self.sender.send(change);
    }

    /// Changes announced from now on.
    pub fn listen(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }
}
