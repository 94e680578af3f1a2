//! [`WsConnections`]: open WebSocket connections per credential
//! (`AUDITLOG_WS_MAX_CONNECTIONS_PER_CREDENTIAL`), counted while a
//! [`WsConnectionGuard`] lives (from `connection_ack` to the connection's end).

use super::{CredentialKey, OpenSlots, Scope, SlotGuard};

pub type WsConnections = OpenSlots<CredentialKey>;

/// Holds one connection's place; dropping it frees the place.
pub type WsConnectionGuard = SlotGuard<CredentialKey>;

/// The connections of `AUDITLOG_WS_MAX_CONNECTIONS_PER_CREDENTIAL` (`0`: unlimited).
pub fn ws_connections(max_per_credential: usize) -> WsConnections {
    OpenSlots::new(max_per_credential, Scope::WsConnections)
}
