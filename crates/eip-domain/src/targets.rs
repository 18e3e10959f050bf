//! The association rules of every target other than an ECS instance, and the
//! lifecycle rules of the targets themselves (ENIs, NAT gateways, HaVips,
//! load balancers). Each `check_*` takes small fact views the controller
//! gathers inside its write transaction; the order of checks inside each
//! function is the order in which errors are reported. The EIP side of an
//! association (status, then region) is [`crate::rules::check_eip_side`],
//! always called first.

use eip_types::{
    AssociatedInstanceType, EipMode, EniStatus, EniType, Error, HaVipStatus, InstanceStatus, InternetChargeType,
    LbAddressType, NatEipBindMode, NatGatewayStatus, NatNetworkType, Result,
};

/// An ENI that is not attached holds at most this many secondary private IPs.
pub const UNATTACHED_SECONDARY_IPS_MAX: usize = 10;
/// Of the EIPs on one NAT gateway (NAT-02, quota `nat_gateway_eips`), at most
/// this many pay-by-traffic.
pub const NAT_GATEWAY_TRAFFIC_EIPS_MAX: usize = 10;
/// NAT-03: gateways created at or after this instant (2022-09-19T00:00:00Z)
/// give each EIP a private IP of their vSwitch (in EIP bind mode NAT).
pub const NAT_PRIVATE_IP_CUTOFF_MS: i64 = 1_663_545_600_000;

/// LB-02 and the target kinds AssociateEipAddress can reach: ALB and NLB take
/// their EIPs only through their own APIs.
pub fn check_target_kind(t: AssociatedInstanceType) -> Result<()> {
    match t {
        AssociatedInstanceType::Alb | AssociatedInstanceType::Nlb => {
            Err(Error::BindInstanceNotSupported(t.as_str().to_owned()))
        }
        AssociatedInstanceType::EcsInstance
        | AssociatedInstanceType::SlbInstance
        | AssociatedInstanceType::Nat
        | AssociatedInstanceType::HaVip
        | AssociatedInstanceType::NetworkInterface
        | AssociatedInstanceType::IpAddress => Ok(()),
    }
}

/// Visible modes exist only on ENIs (`Invalid.DirectEip.BindType`).
pub fn check_mode_for_target(t: AssociatedInstanceType, mode: EipMode) -> Result<()> {
    match (t, mode) {
        (_, EipMode::Nat) | (AssociatedInstanceType::NetworkInterface, _) => Ok(()),
        (
            AssociatedInstanceType::EcsInstance
            | AssociatedInstanceType::SlbInstance
            | AssociatedInstanceType::Nat
            | AssociatedInstanceType::HaVip
            | AssociatedInstanceType::IpAddress
            | AssociatedInstanceType::Alb
            | AssociatedInstanceType::Nlb,
            EipMode::Binded | EipMode::MultiBinded,
        ) => Err(Error::DirectEipBindType),
    }
}

// ---------------------------------------------------------------- ENIs

/// What an ENI association needs to know about the ENI.
#[derive(Clone, Copy, Debug)]
pub struct EniFacts {
    /// Primary or secondary.
    pub kind: EniType,
    /// Current status.
    pub status: EniStatus,
    /// Whether it is attached to an instance (or attaching/detaching).
    pub attached: bool,
    /// Secondary private IPs it holds.
    pub secondary_ips: usize,
    /// EIPs on it per mode (any status but gone).
    pub nat_eips: usize,
    /// BINDED EIPs on it.
    pub binded_eips: usize,
    /// MULTI_BINDED EIPs on it.
    pub multi_binded_eips: usize,
    /// Most MULTI_BINDED EIPs it may hold (the account's quota `eni_multi_binded_eips`).
    pub multi_binded_max: usize,
}

/// The private IP a NAT-mode (or MULTI_BINDED) EIP would map to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrivateIpChoice {
    /// None asked for (MULTI_BINDED without `PrivateIpAddress`).
    None,
    /// The address is not one of the ENI's.
    NotOwned,
    /// The ENI's address, and a NAT-mode EIP already maps to it (ENI-03).
    Taken,
    /// The ENI's address, free.
    Free,
}

/// AssociateEipAddress with `InstanceType=NetworkInterface` in `mode`
/// (ENI-03, VIS-01, and the mode table of the docs).
pub fn check_associate_eni(eni: &EniFacts, mode: EipMode, ip: PrivateIpChoice) -> Result<()> {
    if eni.status.is_transitional() {
        return Err(Error::EniStatusNotSupport);
    }
    if ip == PrivateIpChoice::NotOwned {
        return Err(Error::invalid("PrivateIpAddress", "is not a private IP address of the network interface"));
    }
    match mode {
        EipMode::Nat => {
            if eni.binded_eips > 0 {
                return Err(Error::ModeConflict);
            }
            if eni.multi_binded_eips > 0 {
                return Err(Error::EipBindModeConflict);
            }
            match ip {
                PrivateIpChoice::Taken => Err(Error::AssociationDuplicated),
                PrivateIpChoice::Free => Ok(()),
                // The controller always resolves a NAT-mode address.
                PrivateIpChoice::None | PrivateIpChoice::NotOwned => {
                    Err(Error::invalid("PrivateIpAddress", "names no private IP address of the network interface"))
                }
            }
        }
        EipMode::Binded => {
            check_detached_secondary(eni)?;
            if eni.secondary_ips > 0 {
                return Err(Error::EniHasSubIp);
            }
            if eni.binded_eips > 0 {
                return Err(Error::AssociationDuplicated);
            }
            if eni.nat_eips > 0 || eni.multi_binded_eips > 0 {
                return Err(Error::ModeConflict);
            }
            Ok(())
        }
        EipMode::MultiBinded => {
            check_detached_secondary(eni)?;
            if eni.binded_eips > 0 {
                return Err(Error::ModeConflict);
            }
            if eni.nat_eips > 0 {
                return Err(Error::EipBindModeConflict);
            }
            if eni.multi_binded_eips >= eni.multi_binded_max {
                return Err(Error::MultiBindedQuotaExceeded);
            }
            Ok(())
        }
    }
}

/// Visible modes need a secondary ENI that is not attached (`Eni.Attached`).
fn check_detached_secondary(eni: &EniFacts) -> Result<()> {
    match eni.kind {
        EniType::Primary => Err(Error::EniAttached),
        EniType::Secondary if eni.attached => Err(Error::EniAttached),
        EniType::Secondary => Ok(()),
    }
}

/// UnassociateEipAddress from an ENI: a BINDED EIP leaves only a detached ENI.
pub fn check_unassociate_eni(mode: EipMode, eni_status: EniStatus, attached: bool) -> Result<()> {
    if eni_status.is_transitional() {
        return Err(Error::EniStatusNotSupport);
    }
    match mode {
        EipMode::Binded if attached => Err(Error::EniAttached),
        EipMode::Binded | EipMode::Nat | EipMode::MultiBinded => Ok(()),
    }
}

/// What AttachNetworkInterface needs to know.
#[derive(Clone, Copy, Debug)]
pub struct AttachFacts {
    /// The ENI's kind.
    pub kind: EniType,
    /// The ENI's status.
    pub eni_status: EniStatus,
    /// The instance's status.
    pub instance_status: InstanceStatus,
    /// Same VPC.
    pub same_vpc: bool,
    /// Same zone.
    pub same_zone: bool,
    /// ENIs the instance holds now (primary included, attaching ones too).
    pub instance_enis: i64,
    /// The type's `EniQuantity`.
    pub eni_quantity: i64,
    /// Secondary private IPs on the ENI.
    pub secondary_ips: usize,
    /// The type's `EniPrivateIpAddressQuantity`.
    pub eni_private_ips: i64,
}

/// AttachNetworkInterface (ENI-02). Returns the ENI's next status.
pub fn check_attach(f: &AttachFacts) -> Result<EniStatus> {
    match (f.kind, f.eni_status) {
        (EniType::Secondary, EniStatus::Available) => {}
        (EniType::Primary, _)
        | (EniType::Secondary, EniStatus::Attaching | EniStatus::InUse | EniStatus::Detaching) => {
            return Err(Error::InvalidEniState);
        }
    }
    match f.instance_status {
        InstanceStatus::Running | InstanceStatus::Stopped => {}
        InstanceStatus::Pending | InstanceStatus::Starting | InstanceStatus::Stopping => {
            return Err(Error::IncorrectInstanceStatus(f.instance_status));
        }
    }
    if !f.same_vpc {
        return Err(Error::EniVpcMismatch);
    }
    if !f.same_zone {
        return Err(Error::EniZoneMismatch);
    }
    if f.instance_enis >= f.eni_quantity {
        return Err(Error::EniPerInstanceLimitExceeded);
    }
    check_private_ip_count(true, f.secondary_ips, 0, f.eni_private_ips)?;
    Ok(EniStatus::Attaching)
}

/// DetachNetworkInterface. Returns the ENI's next status.
pub fn check_detach(kind: EniType, status: EniStatus) -> Result<EniStatus> {
    match (kind, status) {
        (EniType::Primary, _) => Err(Error::DetachPrimaryEni),
        (EniType::Secondary, EniStatus::InUse) => Ok(EniStatus::Detaching),
        (EniType::Secondary, EniStatus::Available | EniStatus::Attaching | EniStatus::Detaching) => {
            Err(Error::InvalidEniState)
        }
    }
}

/// DeleteNetworkInterface: only an Available secondary ENI without EIPs.
pub fn check_delete_eni(kind: EniType, status: EniStatus, has_eip: bool) -> Result<()> {
    match (kind, status) {
        (EniType::Secondary, EniStatus::Available) => {}
        (EniType::Primary, _)
        | (EniType::Secondary, EniStatus::Attaching | EniStatus::InUse | EniStatus::Detaching) => {
            return Err(Error::InvalidEniState);
        }
    }
    if has_eip {
        return Err(Error::EniHasEip);
    }
    Ok(())
}

/// Whether an ENI may hold `current + adding` secondary private IPs: at most
/// [`UNATTACHED_SECONDARY_IPS_MAX`] unattached, the type's quantity minus the
/// primary address when attached.
pub fn check_private_ip_count(attached: bool, current: usize, adding: usize, eni_private_ips: i64) -> Result<()> {
    let max = if attached { (eni_private_ips - 1).max(0) as usize } else { UNATTACHED_SECONDARY_IPS_MAX };
    if current + adding > max { Err(Error::Ipv4CountExceeded) } else { Ok(()) }
}

// ---------------------------------------------------------------- NAT gateways

/// NAT-03: whether a gateway gives each EIP a private IP of its vSwitch.
pub fn nat_takes_private_ip(mode: NatEipBindMode, created_at_ms: i64) -> bool {
    match mode {
        NatEipBindMode::Nat => created_at_ms >= NAT_PRIVATE_IP_CUTOFF_MS,
        NatEipBindMode::MultiBinded => false,
    }
}

/// What an association with a NAT gateway needs to know.
#[derive(Clone, Copy, Debug)]
pub struct NatFacts {
    /// Gateway status.
    pub status: NatGatewayStatus,
    /// internet or intranet.
    pub network: NatNetworkType,
    /// EIPs on it now (any status but gone).
    pub eips: usize,
    /// Most EIPs it may hold (the account's quota `nat_gateway_eips`).
    pub eips_max: usize,
    /// Of which pay-by-traffic.
    pub traffic_eips: usize,
    /// Whether this association needs a private IP (NAT-03).
    pub needs_private_ip: bool,
    /// Whether the vSwitch has one free.
    pub free_private_ip: bool,
}

/// AssociateEipAddress with `InstanceType=Nat` (NAT-02, NAT-03).
pub fn check_associate_nat(nat: &NatFacts, eip_billing: InternetChargeType) -> Result<()> {
    match nat.status {
        NatGatewayStatus::Available => {}
        NatGatewayStatus::Creating => return Err(Error::IncorrectNatGatewayStatus),
    }
    match nat.network {
        NatNetworkType::Internet => {}
        NatNetworkType::Intranet => return Err(Error::UnsupportedEipBindMode),
    }
    if nat.eips >= nat.eips_max {
        return Err(Error::NatEipQuotaExceeded);
    }
    match eip_billing {
        InternetChargeType::PayByTraffic if nat.traffic_eips >= NAT_GATEWAY_TRAFFIC_EIPS_MAX => {
            return Err(Error::NatTrafficEipQuotaExceeded);
        }
        InternetChargeType::PayByTraffic | InternetChargeType::PayByBandwidth => {}
    }
    if nat.needs_private_ip && !nat.free_private_ip {
        return Err(Error::NoAvailablePrivateIp);
    }
    Ok(())
}

/// UnassociateEipAddress from a NAT gateway: entries that use the EIP block it
/// unless `force` (which deletes them).
pub fn check_unassociate_nat(used_by_snat: bool, used_by_forward: bool, force: bool) -> Result<()> {
    if force {
        return Ok(());
    }
    if used_by_snat {
        return Err(Error::EipUsedBySnat);
    }
    if used_by_forward {
        return Err(Error::EipUsedByForward);
    }
    Ok(())
}

/// DeleteNatGateway: dependants block it unless `force`: SNAT entries, then
/// DNAT entries, then EIPs.
pub fn check_delete_nat(status: NatGatewayStatus, eips: usize, snat: usize, forward: usize, force: bool) -> Result<()> {
    match status {
        NatGatewayStatus::Available => {}
        NatGatewayStatus::Creating => return Err(Error::IncorrectNatGatewayStatus),
    }
    if force {
        return Ok(());
    }
    // Entries use the EIPs, so they are reported first.
    if snat > 0 {
        return Err(Error::DependencyViolation(eip_types::DependencyKind::NatGatewayHasSnatEntry));
    }
    if forward > 0 {
        return Err(Error::DependencyViolation(eip_types::DependencyKind::NatGatewayHasForwardEntry));
    }
    if eips > 0 {
        return Err(Error::DependencyViolation(eip_types::DependencyKind::NatGatewayHasEip));
    }
    Ok(())
}

/// SNAT and DNAT entries need an Available gateway.
pub fn check_nat_entry_change(status: NatGatewayStatus) -> Result<()> {
    match status {
        NatGatewayStatus::Available => Ok(()),
        NatGatewayStatus::Creating => Err(Error::IncorrectNatGatewayStatus),
    }
}

// ---------------------------------------------------------------- HaVips

/// HA-04: a HaVip takes EIPs and instances while Available or InUse.
pub fn check_havip_usable(status: HaVipStatus) -> Result<()> {
    match status {
        HaVipStatus::Available | HaVipStatus::InUse => Ok(()),
        HaVipStatus::Creating => Err(Error::IncorrectHaVipStatus),
    }
}

/// AssociateEipAddress with `InstanceType=HaVip` (HA-03, HA-04).
pub fn check_associate_havip(status: HaVipStatus, has_eip: bool) -> Result<()> {
    check_havip_usable(status)?;
    if has_eip {
        return Err(Error::AssociationDuplicated);
    }
    Ok(())
}

/// CreateHaVip (HA-02): permission quota first, then the count quota.
pub fn check_create_havip(permission: i64, count: i64, limit: i64) -> Result<()> {
    if permission < 1 {
        return Err(Error::HaVipNotEnabled);
    }
    if count >= limit {
        return Err(Error::HaVipQuotaExceeded);
    }
    Ok(())
}

/// DeleteHaVip: nothing may be attached.
pub fn check_delete_havip(status: HaVipStatus, has_eip: bool, instances: usize) -> Result<()> {
    check_havip_usable(status)?;
    if has_eip || instances > 0 {
        return Err(Error::DependencyViolation(eip_types::DependencyKind::HaVipInUse));
    }
    Ok(())
}

// ---------------------------------------------------------------- load balancers

/// AssociateEipAddress with `InstanceType=SlbInstance` (LB-03): an
/// internal-facing CLB in a VPC, one EIP.
pub fn check_associate_clb(address_type: LbAddressType, in_vpc: bool, has_eip: bool) -> Result<()> {
    match address_type {
        LbAddressType::Intranet => {}
        LbAddressType::Internet => return Err(Error::InternetLoadBalancer),
    }
    if !in_vpc {
        return Err(Error::InstanceNotInVpc);
    }
    if has_eip {
        return Err(Error::AssociationDuplicated);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn eni(kind: EniType) -> EniFacts {
        EniFacts {
            kind,
            status: EniStatus::Available,
            attached: false,
            secondary_ips: 0,
            nat_eips: 0,
            binded_eips: 0,
            multi_binded_eips: 0,
            multi_binded_max: 10,
        }
    }

    #[test]
    fn eni_03_one_eip_per_private_ip() {
        let e = eni(EniType::Secondary);
        assert_eq!(check_associate_eni(&e, EipMode::Nat, PrivateIpChoice::Free), Ok(()));
        assert_eq!(check_associate_eni(&e, EipMode::Nat, PrivateIpChoice::Taken), Err(Error::AssociationDuplicated));
        assert!(matches!(
            check_associate_eni(&e, EipMode::Nat, PrivateIpChoice::NotOwned),
            Err(Error::InvalidParameter { name, .. }) if name == "PrivateIpAddress"
        ));
    }

    #[test]
    fn eni_03_primary_enis_take_nat_eips_attached_or_not() {
        let e = EniFacts { attached: true, status: EniStatus::InUse, ..eni(EniType::Primary) };
        assert_eq!(check_associate_eni(&e, EipMode::Nat, PrivateIpChoice::Free), Ok(()));
    }

    #[test]
    fn vis_01_binded_needs_a_detached_secondary_without_sub_ips() {
        let primary = eni(EniType::Primary);
        assert_eq!(check_associate_eni(&primary, EipMode::Binded, PrivateIpChoice::None), Err(Error::EniAttached));
        let attached = EniFacts { attached: true, status: EniStatus::InUse, ..eni(EniType::Secondary) };
        assert_eq!(check_associate_eni(&attached, EipMode::Binded, PrivateIpChoice::None), Err(Error::EniAttached));
        let sub = EniFacts { secondary_ips: 1, ..eni(EniType::Secondary) };
        assert_eq!(check_associate_eni(&sub, EipMode::Binded, PrivateIpChoice::None), Err(Error::EniHasSubIp));
        let one = EniFacts { binded_eips: 1, ..eni(EniType::Secondary) };
        assert_eq!(
            check_associate_eni(&one, EipMode::Binded, PrivateIpChoice::None),
            Err(Error::AssociationDuplicated)
        );
        let nat = EniFacts { nat_eips: 1, ..eni(EniType::Secondary) };
        assert_eq!(check_associate_eni(&nat, EipMode::Binded, PrivateIpChoice::None), Err(Error::ModeConflict));
        assert_eq!(check_associate_eni(&one, EipMode::Nat, PrivateIpChoice::Free), Err(Error::ModeConflict));
    }

    #[test]
    fn vis_01_multi_binded_limits_and_conflicts() {
        let full = EniFacts { multi_binded_eips: 10, ..eni(EniType::Secondary) };
        assert_eq!(
            check_associate_eni(&full, EipMode::MultiBinded, PrivateIpChoice::None),
            Err(Error::MultiBindedQuotaExceeded)
        );
        let nat = EniFacts { nat_eips: 1, ..eni(EniType::Secondary) };
        assert_eq!(
            check_associate_eni(&nat, EipMode::MultiBinded, PrivateIpChoice::None),
            Err(Error::EipBindModeConflict)
        );
        let multi = EniFacts { multi_binded_eips: 1, ..eni(EniType::Secondary) };
        assert_eq!(check_associate_eni(&multi, EipMode::Nat, PrivateIpChoice::Free), Err(Error::EipBindModeConflict));
        let binded = EniFacts { binded_eips: 1, ..eni(EniType::Secondary) };
        assert_eq!(check_associate_eni(&binded, EipMode::MultiBinded, PrivateIpChoice::None), Err(Error::ModeConflict));
        let attached = EniFacts { attached: true, status: EniStatus::InUse, ..eni(EniType::Secondary) };
        assert_eq!(
            check_associate_eni(&attached, EipMode::MultiBinded, PrivateIpChoice::None),
            Err(Error::EniAttached)
        );
    }

    #[test]
    fn vis_01_binded_cannot_leave_an_attached_eni() {
        assert_eq!(check_unassociate_eni(EipMode::Binded, EniStatus::InUse, true), Err(Error::EniAttached));
        assert_eq!(check_unassociate_eni(EipMode::Binded, EniStatus::Available, false), Ok(()));
        assert_eq!(check_unassociate_eni(EipMode::Nat, EniStatus::InUse, true), Ok(()));
    }

    #[test]
    fn visible_modes_only_on_enis() {
        assert_eq!(
            check_mode_for_target(AssociatedInstanceType::EcsInstance, EipMode::Binded),
            Err(Error::DirectEipBindType)
        );
        assert_eq!(check_mode_for_target(AssociatedInstanceType::NetworkInterface, EipMode::Binded), Ok(()));
        assert_eq!(check_mode_for_target(AssociatedInstanceType::Nat, EipMode::Nat), Ok(()));
    }

    fn attach() -> AttachFacts {
        AttachFacts {
            kind: EniType::Secondary,
            eni_status: EniStatus::Available,
            instance_status: InstanceStatus::Running,
            same_vpc: true,
            same_zone: true,
            instance_enis: 1,
            eni_quantity: 3,
            secondary_ips: 0,
            eni_private_ips: 6,
        }
    }

    #[test]
    fn eni_02_instance_type_bounds_the_enis() {
        assert_eq!(check_attach(&attach()), Ok(EniStatus::Attaching));
        let full = AttachFacts { instance_enis: 3, ..attach() };
        assert_eq!(check_attach(&full), Err(Error::EniPerInstanceLimitExceeded));
        assert_eq!(check_attach(&AttachFacts { same_vpc: false, ..attach() }), Err(Error::EniVpcMismatch));
        assert_eq!(check_attach(&AttachFacts { same_zone: false, ..attach() }), Err(Error::EniZoneMismatch));
        assert_eq!(
            check_attach(&AttachFacts { eni_status: EniStatus::InUse, ..attach() }),
            Err(Error::InvalidEniState)
        );
        assert_eq!(
            check_attach(&AttachFacts { instance_status: InstanceStatus::Pending, ..attach() }),
            Err(Error::IncorrectInstanceStatus(InstanceStatus::Pending))
        );
        assert_eq!(check_attach(&AttachFacts { secondary_ips: 6, ..attach() }), Err(Error::Ipv4CountExceeded));
    }

    #[test]
    fn eni_detach_and_delete() {
        assert_eq!(check_detach(EniType::Primary, EniStatus::InUse), Err(Error::DetachPrimaryEni));
        assert_eq!(check_detach(EniType::Secondary, EniStatus::InUse), Ok(EniStatus::Detaching));
        assert_eq!(check_detach(EniType::Secondary, EniStatus::Available), Err(Error::InvalidEniState));
        assert_eq!(check_delete_eni(EniType::Secondary, EniStatus::Available, false), Ok(()));
        assert_eq!(check_delete_eni(EniType::Secondary, EniStatus::Available, true), Err(Error::EniHasEip));
        assert_eq!(check_delete_eni(EniType::Secondary, EniStatus::InUse, false), Err(Error::InvalidEniState));
        assert_eq!(check_delete_eni(EniType::Primary, EniStatus::InUse, false), Err(Error::InvalidEniState));
    }

    #[test]
    fn eni_05_private_ip_counts() {
        assert_eq!(check_private_ip_count(false, 9, 1, 6), Ok(()));
        assert_eq!(check_private_ip_count(false, 10, 1, 6), Err(Error::Ipv4CountExceeded));
        assert_eq!(check_private_ip_count(true, 4, 1, 6), Ok(()));
        assert_eq!(check_private_ip_count(true, 5, 1, 6), Err(Error::Ipv4CountExceeded));
    }

    fn nat() -> NatFacts {
        NatFacts {
            status: NatGatewayStatus::Available,
            network: NatNetworkType::Internet,
            eips: 0,
            eips_max: 20,
            traffic_eips: 0,
            needs_private_ip: false,
            free_private_ip: false,
        }
    }

    #[test]
    fn nat_02_at_most_twenty_eips() {
        let b = InternetChargeType::PayByBandwidth;
        assert_eq!(check_associate_nat(&NatFacts { eips: 19, ..nat() }, b), Ok(()));
        assert_eq!(check_associate_nat(&NatFacts { eips: 20, ..nat() }, b), Err(Error::NatEipQuotaExceeded));
        let t = InternetChargeType::PayByTraffic;
        assert_eq!(
            check_associate_nat(&NatFacts { eips: 10, traffic_eips: 10, ..nat() }, t),
            Err(Error::NatTrafficEipQuotaExceeded)
        );
        assert_eq!(check_associate_nat(&NatFacts { eips: 10, traffic_eips: 10, ..nat() }, b), Ok(()));
    }

    #[test]
    fn nat_status_and_network_type() {
        let b = InternetChargeType::PayByBandwidth;
        assert_eq!(
            check_associate_nat(&NatFacts { status: NatGatewayStatus::Creating, ..nat() }, b),
            Err(Error::IncorrectNatGatewayStatus)
        );
        assert_eq!(
            check_associate_nat(&NatFacts { network: NatNetworkType::Intranet, ..nat() }, b),
            Err(Error::UnsupportedEipBindMode)
        );
    }

    #[test]
    fn nat_03_private_ips_after_the_cutoff() {
        assert!(nat_takes_private_ip(NatEipBindMode::Nat, NAT_PRIVATE_IP_CUTOFF_MS));
        assert!(!nat_takes_private_ip(NatEipBindMode::Nat, NAT_PRIVATE_IP_CUTOFF_MS - 1));
        assert!(!nat_takes_private_ip(NatEipBindMode::MultiBinded, NAT_PRIVATE_IP_CUTOFF_MS + 1));
        let b = InternetChargeType::PayByBandwidth;
        assert_eq!(
            check_associate_nat(&NatFacts { needs_private_ip: true, ..nat() }, b),
            Err(Error::NoAvailablePrivateIp)
        );
        assert_eq!(
            check_associate_nat(&NatFacts { needs_private_ip: true, free_private_ip: true, ..nat() }, b),
            Ok(())
        );
        assert_eq!(eip_types::time::format_iso(NAT_PRIVATE_IP_CUTOFF_MS), "2022-09-19T00:00:00Z");
    }

    #[test]
    fn nat_01_entries_block_unassociation_unless_forced() {
        assert_eq!(check_unassociate_nat(true, true, false), Err(Error::EipUsedBySnat));
        assert_eq!(check_unassociate_nat(false, true, false), Err(Error::EipUsedByForward));
        assert_eq!(check_unassociate_nat(true, true, true), Ok(()));
        use eip_types::DependencyKind as D;
        let a = NatGatewayStatus::Available;
        assert_eq!(check_delete_nat(a, 1, 0, 0, false), Err(Error::DependencyViolation(D::NatGatewayHasEip)));
        assert_eq!(check_delete_nat(a, 1, 1, 1, false), Err(Error::DependencyViolation(D::NatGatewayHasSnatEntry)));
        assert_eq!(check_delete_nat(a, 1, 0, 1, false), Err(Error::DependencyViolation(D::NatGatewayHasForwardEntry)));
        assert_eq!(check_delete_nat(a, 1, 1, 1, true), Ok(()));
    }

    #[test]
    fn ha_02_permission_then_count() {
        assert_eq!(check_create_havip(0, 0, 50), Err(Error::HaVipNotEnabled));
        assert_eq!(check_create_havip(1, 50, 50), Err(Error::HaVipQuotaExceeded));
        assert_eq!(check_create_havip(1, 49, 50), Ok(()));
    }

    #[test]
    fn ha_03_ha_04_one_eip_on_a_usable_havip() {
        assert_eq!(check_associate_havip(HaVipStatus::Creating, false), Err(Error::IncorrectHaVipStatus));
        assert_eq!(check_associate_havip(HaVipStatus::InUse, false), Ok(()));
        assert_eq!(check_associate_havip(HaVipStatus::Available, true), Err(Error::AssociationDuplicated));
        assert!(check_delete_havip(HaVipStatus::Available, true, 0).is_err());
        assert!(check_delete_havip(HaVipStatus::InUse, false, 1).is_err());
        assert_eq!(check_delete_havip(HaVipStatus::Available, false, 0), Ok(()));
    }

    #[test]
    fn lb_02_lb_03_load_balancers() {
        assert!(matches!(check_target_kind(AssociatedInstanceType::Alb), Err(Error::BindInstanceNotSupported(_))));
        assert_eq!(check_target_kind(AssociatedInstanceType::SlbInstance), Ok(()));
        assert_eq!(check_associate_clb(LbAddressType::Internet, true, false), Err(Error::InternetLoadBalancer));
        assert_eq!(check_associate_clb(LbAddressType::Intranet, true, true), Err(Error::AssociationDuplicated));
        assert_eq!(check_associate_clb(LbAddressType::Intranet, true, false), Ok(()));
    }

    fn any_mode() -> impl Strategy<Value = EipMode> {
        proptest::sample::select(EipMode::ALL.to_vec())
    }
    fn any_eni() -> impl Strategy<Value = EniFacts> {
        (
            proptest::sample::select(EniType::ALL.to_vec()),
            proptest::sample::select(EniStatus::ALL.to_vec()),
            any::<bool>(),
            0usize..12,
            0usize..4,
            0usize..3,
            0usize..12,
        )
            .prop_map(|(kind, status, attached, secondary_ips, nat_eips, binded_eips, multi_binded_eips)| {
                EniFacts {
                    kind,
                    status,
                    attached,
                    secondary_ips,
                    nat_eips,
                    binded_eips,
                    multi_binded_eips,
                    multi_binded_max: 10,
                }
            })
    }

    proptest! {
        /// VIS-01 / ENI-03 as properties: whatever the ENI holds, an accepted
        /// association never mixes BINDED with anything, never mixes NAT with
        /// MULTI_BINDED, never puts a visible mode on a primary or attached
        /// ENI, never exceeds the MULTI_BINDED quota, and never maps a NAT EIP
        /// to a taken address.
        #[test]
        fn vis_01_eni_03_accepted_associations_keep_the_invariants(
            e in any_eni(),
            mode in any_mode(),
            ip in proptest::sample::select(vec![PrivateIpChoice::None, PrivateIpChoice::NotOwned, PrivateIpChoice::Taken, PrivateIpChoice::Free]),
        ) {
            if check_associate_eni(&e, mode, ip).is_ok() {
                prop_assert!(!e.status.is_transitional());
                match mode {
                    EipMode::Nat => {
                        prop_assert_eq!(ip, PrivateIpChoice::Free);
                        prop_assert_eq!(e.binded_eips + e.multi_binded_eips, 0);
                    }
                    EipMode::Binded => {
                        prop_assert_eq!(e.kind, EniType::Secondary);
                        prop_assert!(!e.attached);
                        prop_assert_eq!(e.nat_eips + e.binded_eips + e.multi_binded_eips + e.secondary_ips, 0);
                    }
                    EipMode::MultiBinded => {
                        prop_assert_eq!(e.kind, EniType::Secondary);
                        prop_assert!(!e.attached);
                        prop_assert_eq!(e.nat_eips + e.binded_eips, 0);
                        prop_assert!(e.multi_binded_eips < e.multi_binded_max);
                    }
                }
            }
        }

        /// NAT-02 as a property: an accepted association never takes a gateway past 20 EIPs
        /// or 10 pay-by-traffic ones.
        #[test]
        fn nat_02_accepted_associations_stay_under_the_caps(eips in 0usize..30, traffic in 0usize..15, by_traffic in any::<bool>()) {
            let traffic = traffic.min(eips);
            let billing = if by_traffic { InternetChargeType::PayByTraffic } else { InternetChargeType::PayByBandwidth };
            if check_associate_nat(&NatFacts { eips, traffic_eips: traffic, ..nat() }, billing).is_ok() {
                prop_assert!(eips < 20);
                prop_assert!(!by_traffic || traffic < NAT_GATEWAY_TRAFFIC_EIPS_MAX);
            }
        }
    }
}
