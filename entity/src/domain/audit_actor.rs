//! [`AuditActor`]: who did an administrative action, as the tenant's own log
//! records it (the actor of a self-audit event).

use super::ActorType;

/// Who did an administrative action, for the tenant's own log.
#[derive(Clone, Debug)]
pub struct AuditActor {
    pub actor_type: ActorType,
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
}

impl AuditActor {
    pub fn operator() -> Self {
        Self {
            actor_type: ActorType::System,
            id: "operator".into(),
            name: Some("platform operator".into()),
            email: None,
        }
    }

    pub fn command_line() -> Self {
        Self {
            actor_type: ActorType::System,
            id: "cli".into(),
            name: Some("auditlog command line".into()),
            email: None,
        }
    }

    /// The retention purge (in `auditlog-worker` or in-process in the service).
    pub fn retention_worker() -> Self {
        Self {
            actor_type: ActorType::System,
            id: "retention-worker".into(),
            name: Some("retention worker".into()),
            email: None,
        }
    }

    /// Log-stream delivery (in `auditlog-worker` or in-process in the service).
    pub fn stream_worker() -> Self {
        Self {
            actor_type: ActorType::System,
            id: "stream-worker".into(),
            name: Some("stream worker".into()),
            email: None,
        }
    }
}
