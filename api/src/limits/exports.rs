//! [`ExportSlots`]: exports running at once per tenant
//! (`AUDITLOG_EXPORT_MAX_CONCURRENT_PER_TENANT`). An export holds its
//! [`ExportSlot`] inside its response body, so the place is freed when the body
//! ends or is dropped (a client that disconnects frees it at once).

use uuid::Uuid;

use super::{OpenSlots, Scope, SlotGuard};

pub type ExportSlots = OpenSlots<Uuid>;

/// One running export's place, by tenant id.
pub type ExportSlot = SlotGuard<Uuid>;

/// The slots of `AUDITLOG_EXPORT_MAX_CONCURRENT_PER_TENANT` (`0`: unlimited).
pub fn export_slots(max_per_tenant: usize) -> ExportSlots {
    OpenSlots::new(max_per_tenant, Scope::Exports)
}
