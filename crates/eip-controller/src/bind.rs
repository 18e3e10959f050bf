//! What an association writes on the EIP row, shared by every target: the
//! target (kind, id, region), the mode, and the private address the EIP maps
//! to (the data plane's NAT rule needs it; ENI-03's unique index keys on it).
//! Clearing a binding also gives back a private IP the EIP itself held
//! (NAT-03: a NAT gateway in EIP bind mode NAT lends each EIP one).

use eip_domain::rules::{EipEvent, eip_transition};
use eip_store::{EipRow, Tx};
use eip_types::{AssociatedInstanceType, EipMode, EipStatus, Result};

/// The target an EIP is being associated with.
#[derive(Clone, Debug)]
pub(crate) struct Binding {
    /// Target kind.
    pub kind: AssociatedInstanceType,
    /// Target id.
    pub instance_id: String,
    /// Target region.
    pub region: String,
    /// Association mode.
    pub mode: EipMode,
    /// (vSwitch, address) the EIP maps to, when it maps to one.
    pub private: Option<(String, String)>,
}

/// Records `b` on the EIP with its next status (the caller updates the row
/// and schedules the completion).
pub(crate) fn record(eip: &mut EipRow, next: EipStatus, b: Binding) {
    eip.status = next;
    eip.instance_type = Some(b.kind);
    eip.instance_id = Some(b.instance_id);
    eip.instance_region_id = Some(b.region);
    eip.mode = Some(b.mode);
    match b.private {
        Some((vsw, ip)) => {
            eip.private_vswitch_id = Some(vsw);
            eip.private_ip = Some(ip);
        }
        None => {
            eip.private_vswitch_id = None;
            eip.private_ip = None;
        }
    }
}

/// Forgets the target and returns a private IP the EIP held.
pub(crate) fn clear(tx: &mut dyn Tx, eip: &mut EipRow) -> Result<()> {
    tx.private_ip_delete_holder(&eip.id)?;
    eip.instance_type = None;
    eip.instance_id = None;
    eip.private_ip = None;
    eip.private_vswitch_id = None;
    eip.mode = None;
    eip.instance_region_id = None;
    Ok(())
}

/// The target disappeared (deleted, or the ENI left with its instance): the
/// EIP is unbound at once and stays allocated.
pub(crate) fn unbind_gone(tx: &mut dyn Tx, eip: &mut EipRow) -> Result<()> {
    eip.status = eip_transition(eip.status, EipEvent::TargetGone)?;
    clear(tx, eip)?;
    eip.version += 1;
    tx.eip_update(eip)?;
    Ok(())
}

/// Unbinds every EIP of a target that is going away.
pub(crate) fn unbind_all(tx: &mut dyn Tx, target: &str) -> Result<()> {
    for mut eip in tx.eip_list_by_target(target)? {
        unbind_gone(tx, &mut eip)?;
    }
    Ok(())
}
