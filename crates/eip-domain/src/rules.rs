//! The rules of rules.md as pure functions over small views of the rows.
//! The controller loads the rows inside a write transaction, asks these
//! functions, and writes what they return; the order of checks here is the
//! order in which Alibaba reports errors, so the same bad request gets the
//! same code.

use crate::cidr::Cidr;
use eip_types::{ChargeType, EipStatus, Error, InstanceNetworkType, InstanceStatus, InternetChargeType, Result};

/// Events that move an EIP through its lifecycle (GEN-04).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EipEvent {
    /// AssociateEipAddress accepted.
    Associate,
    /// The association took effect.
    AssociateDone,
    /// UnassociateEipAddress accepted.
    Unassociate,
    /// The unassociation took effect.
    UnassociateDone,
    /// The associated resource disappeared (instance deleted): unbind at once.
    TargetGone,
    /// ReleaseEipAddress accepted.
    Release,
}

/// What an event does to an EIP in a status. `Ok(None)` for `Release`'s
/// completion is not modelled: a released EIP is deleted, not a status.
pub fn eip_transition(status: EipStatus, event: EipEvent) -> Result<EipStatus> {
    use EipEvent as E;
    use EipStatus as S;
    match (status, event) {
        // Writes during a task in flight are refused as retryable conflicts (GEN-04).
        (S::Associating | S::Unassociating | S::Releasing, E::Associate | E::Unassociate | E::Release) => {
            Err(Error::TaskConflict)
        }
        (S::Available, E::Associate) => Ok(S::Associating),
        (S::Available, E::Release) => Ok(S::Releasing),
        // Nothing to unassociate.
        (S::Available, E::Unassociate) => Err(Error::IncorrectEipStatus(status)),
        // ECS-06: no in-place swap; an InUse EIP must be unassociated first.
        (S::InUse, E::Associate | E::Release) => Err(Error::IncorrectEipStatus(status)),
        (S::InUse, E::Unassociate) => Ok(S::Unassociating),
        // Task completions only apply to the status that scheduled them;
        // anything else is a stale task and is ignored by the caller.
        (S::Associating, E::AssociateDone) => Ok(S::InUse),
        (S::Unassociating, E::UnassociateDone) => Ok(S::Available),
        (S::Available | S::InUse | S::Unassociating | S::Releasing, E::AssociateDone) => {
            Err(Error::IncorrectEipStatus(status))
        }
        (S::Available | S::InUse | S::Associating | S::Releasing, E::UnassociateDone) => {
            Err(Error::IncorrectEipStatus(status))
        }
        (S::Associating | S::InUse | S::Unassociating, E::TargetGone) => Ok(S::Available),
        (S::Available | S::Releasing, E::TargetGone) => Err(Error::IncorrectEipStatus(status)),
    }
}

/// What the association check needs to know about an EIP.
#[derive(Clone, Copy, Debug)]
pub struct EipFacts<'a> {
    /// Current status.
    pub status: EipStatus,
    /// Region of the EIP.
    pub region: &'a str,
}

/// The checks every association starts with, in Alibaba's order: the EIP's
/// status (GEN-04, ECS-06), then the region of the target (GEN-01). Returns
/// the EIP's next status.
pub fn check_eip_side(eip: EipFacts<'_>, target_region: &str) -> Result<EipStatus> {
    let next = eip_transition(eip.status, EipEvent::Associate)?;
    if eip.region != target_region {
        return Err(Error::RegionMismatch);
    }
    Ok(next)
}

/// What the association check needs to know about an ECS instance.
#[derive(Clone, Copy, Debug)]
pub struct InstanceFacts<'a> {
    /// Region of the instance.
    pub region: &'a str,
    /// Current status.
    pub status: InstanceStatus,
    /// VPC or classic.
    pub network_type: InstanceNetworkType,
    /// Whether it holds a static public IP.
    pub has_public_ip: bool,
    /// Whether an EIP is already associated with it directly (any status but gone).
    pub has_eip: bool,
}

/// Checks AssociateEipAddress with `InstanceType=EcsInstance`, in Alibaba's
/// order: EIP status first, then region (GEN-01, ECS-01), network (ECS-01),
/// instance status (ECS-03), public IP (ECS-04), existing EIP (ECS-02/06).
pub fn check_associate_ecs(eip: EipFacts<'_>, inst: InstanceFacts<'_>) -> Result<EipStatus> {
    let next = check_eip_side(eip, inst.region)?;
    match inst.network_type {
        InstanceNetworkType::Vpc => {}
        InstanceNetworkType::Classic => return Err(Error::InstanceNotInVpc),
    }
    match inst.status {
        InstanceStatus::Running | InstanceStatus::Stopped => {}
        InstanceStatus::Pending | InstanceStatus::Starting | InstanceStatus::Stopping => {
            return Err(Error::IncorrectInstanceStatus(inst.status));
        }
    }
    if inst.has_public_ip {
        return Err(Error::InstanceHasPublicIp);
    }
    if inst.has_eip {
        return Err(Error::AssociationDuplicated);
    }
    Ok(next)
}

/// Checks that an instance may have its EIP unassociated: transitional
/// instances refuse (`InvalidStatus.EcsStatusNotSupport`).
pub fn check_unassociate_ecs(inst_status: InstanceStatus) -> Result<()> {
    match inst_status {
        InstanceStatus::Running | InstanceStatus::Stopped => Ok(()),
        InstanceStatus::Pending | InstanceStatus::Starting | InstanceStatus::Stopping => {
            Err(Error::EcsStatusNotSupport(inst_status))
        }
    }
}

/// Checks ReleaseEipAddress: only Available, only pay-as-you-go, not protected.
pub fn check_release(status: EipStatus, charge: ChargeType, deletion_protection: bool) -> Result<EipStatus> {
    let next = eip_transition(status, EipEvent::Release)?;
    match charge {
        ChargeType::PostPaid => {}
        ChargeType::PrePaid => return Err(Error::ChargeTypeIsPrepaid),
    }
    if deletion_protection {
        return Err(Error::DeletionProtection);
    }
    Ok(next)
}

/// Allowed bandwidth range (Mbit/s) for an EIP's billing (AllocateEipAddress,
/// ModifyEipAddressAttribute).
pub fn bandwidth_range(charge: ChargeType, internet: InternetChargeType) -> (u32, u32) {
    match (charge, internet) {
        (ChargeType::PrePaid, _) => (1, 1000),
        (ChargeType::PostPaid, InternetChargeType::PayByBandwidth) => (1, 500),
        (ChargeType::PostPaid, InternetChargeType::PayByTraffic) => (1, 200),
    }
}

/// Checks a bandwidth value against [`bandwidth_range`].
pub fn check_bandwidth(bw: u32, charge: ChargeType, internet: InternetChargeType) -> Result<()> {
    let (lo, hi) = bandwidth_range(charge, internet);
    if (lo..=hi).contains(&bw) {
        Ok(())
    } else {
        Err(Error::invalid("Bandwidth", format!("must be {lo} to {hi} for {charge}/{internet}")))
    }
}

/// Name rule shared by EIPs, VPCs and friends: up to `max` characters, not
/// starting with `http://` or `https://` (the SDK's wording; the empty
/// string clears the name).
/// Most secondary IPv4 CIDR blocks a VPC may have.
pub const MAX_SECONDARY_CIDRS: usize = 5;

/// VIS-03: a VPC secondary IPv4 CIDR block (AssociateVpcCidrBlock). Private
/// blocks and public ones are both allowed, which is what lets a public block
/// hold an EIP's address as an ENI's private IP; the blocks the cloud keeps
/// for itself (100.64.0.0/10, 224.0.0.0/4, 127.0.0.0/8, 169.254.0.0/16) and
/// anything starting with 0 are not. The mask is 8 to 28; the block may not
/// overlap the primary block or another secondary; five at most.
pub fn check_secondary_cidr(primary: &Cidr, existing: &[Cidr], new: &Cidr) -> Result<()> {
    let reserved = ["100.64.0.0/10", "224.0.0.0/4", "127.0.0.0/8", "169.254.0.0/16", "0.0.0.0/8"];
    if !(8..=28).contains(&new.len) {
        return Err(Error::InvalidCidrBlock(format!("{new}: the mask must be 8 to 28")));
    }
    if reserved.iter().filter_map(|r| Cidr::parse(r)).any(|r| r.overlaps(new)) {
        return Err(Error::InvalidCidrBlock(format!("{new} is inside a reserved block")));
    }
    if primary.overlaps(new) || existing.iter().any(|c| c.overlaps(new)) {
        return Err(Error::CidrOverlapped);
    }
    if existing.len() >= MAX_SECONDARY_CIDRS {
        return Err(Error::SecondaryCidrQuotaExceeded);
    }
    Ok(())
}

pub fn check_name(param: &str, value: &str, max: usize) -> Result<()> {
    let n = value.chars().count();
    if n > max {
        return Err(Error::invalid(param, format!("must be at most {max} characters")));
    }
    if value.starts_with("http://") || value.starts_with("https://") {
        return Err(Error::invalid(param, "must not start with http:// or https://"));
    }
    Ok(())
}

/// Instance lifecycle: what a completed task moves an instance to, and
/// whether another step follows. `want_running` is the goal of the task chain.
pub fn instance_task_step(status: InstanceStatus, want_running: bool) -> (InstanceStatus, bool) {
    use InstanceStatus as S;
    match status {
        S::Pending if want_running => (S::Starting, true),
        S::Pending => (S::Stopped, false),
        S::Starting => (S::Running, false),
        S::Stopping => (S::Stopped, false),
        // A stale task for a settled instance changes nothing.
        S::Running | S::Stopped => (status, false),
    }
}

/// StartInstance: only a Stopped instance starts.
pub fn check_start(status: InstanceStatus) -> Result<InstanceStatus> {
    match status {
        InstanceStatus::Stopped => Ok(InstanceStatus::Starting),
        InstanceStatus::Pending | InstanceStatus::Starting | InstanceStatus::Running | InstanceStatus::Stopping => {
            Err(Error::IncorrectInstanceStatus(status))
        }
    }
}

/// StopInstance: only a Running instance stops.
pub fn check_stop(status: InstanceStatus) -> Result<InstanceStatus> {
    match status {
        InstanceStatus::Running => Ok(InstanceStatus::Stopping),
        InstanceStatus::Pending | InstanceStatus::Starting | InstanceStatus::Stopped | InstanceStatus::Stopping => {
            Err(Error::IncorrectInstanceStatus(status))
        }
    }
}

/// DeleteInstance: Stopped, or Running with `Force`.
pub fn check_delete_instance(status: InstanceStatus, force: bool) -> Result<()> {
    match (status, force) {
        (InstanceStatus::Stopped, _) | (InstanceStatus::Running, true) => Ok(()),
        (InstanceStatus::Running, false)
        | (InstanceStatus::Pending | InstanceStatus::Starting | InstanceStatus::Stopping, _) => {
            Err(Error::IncorrectInstanceStatus(status))
        }
    }
}

/// GEN-03: an address can be retrieved only by the account that held it last,
/// within 7 days of its release, and only while nobody holds it.
pub fn check_retrieve(
    account: &str,
    held_now: bool,
    last_holder: Option<&str>,
    released_at_ms: Option<i64>,
    now_ms: i64,
) -> Result<()> {
    if held_now {
        return Err(Error::IpAllocated);
    }
    match (last_holder, released_at_ms) {
        (Some(holder), Some(at)) if holder == account && now_ms - at <= 7 * eip_types::time::DAY_MS => Ok(()),
        _ => Err(Error::AllocateUnfamiliarIp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn inst(status: InstanceStatus) -> InstanceFacts<'static> {
        InstanceFacts {
            region: "cn-hangzhou",
            status,
            network_type: InstanceNetworkType::Vpc,
            has_public_ip: false,
            has_eip: false,
        }
    }
    const EIP: EipFacts<'static> = EipFacts { status: EipStatus::Available, region: "cn-hangzhou" };

    #[test]
    fn gen_01_same_region_only() {
        let other = InstanceFacts { region: "cn-beijing", ..inst(InstanceStatus::Running) };
        assert_eq!(check_associate_ecs(EIP, other), Err(Error::RegionMismatch));
    }

    #[test]
    fn ecs_01_vpc_only() {
        let classic = InstanceFacts { network_type: InstanceNetworkType::Classic, ..inst(InstanceStatus::Running) };
        assert_eq!(check_associate_ecs(EIP, classic), Err(Error::InstanceNotInVpc));
    }

    #[test]
    fn ecs_02_one_eip_per_instance() {
        let taken = InstanceFacts { has_eip: true, ..inst(InstanceStatus::Running) };
        assert_eq!(check_associate_ecs(EIP, taken), Err(Error::AssociationDuplicated));
    }

    #[test]
    fn ecs_03_running_or_stopped() {
        for s in InstanceStatus::ALL {
            let r = check_associate_ecs(EIP, inst(*s));
            match s {
                InstanceStatus::Running | InstanceStatus::Stopped => {
                    assert_eq!(r, Ok(EipStatus::Associating))
                }
                _ => assert_eq!(r, Err(Error::IncorrectInstanceStatus(*s))),
            }
        }
    }

    #[test]
    fn ecs_04_no_public_ip() {
        let public = InstanceFacts { has_public_ip: true, ..inst(InstanceStatus::Running) };
        assert_eq!(check_associate_ecs(EIP, public), Err(Error::InstanceHasPublicIp));
    }

    #[test]
    fn ecs_06_no_in_place_swap() {
        let in_use = EipFacts { status: EipStatus::InUse, ..EIP };
        assert_eq!(
            check_associate_ecs(in_use, inst(InstanceStatus::Running)),
            Err(Error::IncorrectEipStatus(EipStatus::InUse))
        );
    }

    #[test]
    fn gen_04_transitional_refuses_writes() {
        for s in [EipStatus::Associating, EipStatus::Unassociating, EipStatus::Releasing] {
            for e in [EipEvent::Associate, EipEvent::Unassociate, EipEvent::Release] {
                assert_eq!(eip_transition(s, e), Err(Error::TaskConflict));
            }
        }
        assert_eq!(eip_transition(EipStatus::Associating, EipEvent::AssociateDone), Ok(EipStatus::InUse));
        assert_eq!(eip_transition(EipStatus::Unassociating, EipEvent::UnassociateDone), Ok(EipStatus::Available));
    }

    #[test]
    fn release_rules() {
        assert_eq!(check_release(EipStatus::Available, ChargeType::PostPaid, false), Ok(EipStatus::Releasing));
        assert_eq!(check_release(EipStatus::Available, ChargeType::PrePaid, false), Err(Error::ChargeTypeIsPrepaid));
        assert_eq!(check_release(EipStatus::Available, ChargeType::PostPaid, true), Err(Error::DeletionProtection));
        assert_eq!(
            check_release(EipStatus::InUse, ChargeType::PostPaid, false),
            Err(Error::IncorrectEipStatus(EipStatus::InUse))
        );
    }

    #[test]
    fn gen_03_retrieval_window() {
        let day = eip_types::time::DAY_MS;
        assert_eq!(check_retrieve("a", false, Some("a"), Some(0), 7 * day), Ok(()));
        assert_eq!(check_retrieve("a", false, Some("a"), Some(0), 7 * day + 1), Err(Error::AllocateUnfamiliarIp));
        assert_eq!(check_retrieve("a", false, Some("b"), Some(0), day), Err(Error::AllocateUnfamiliarIp));
        assert_eq!(check_retrieve("a", false, None, None, day), Err(Error::AllocateUnfamiliarIp));
        assert_eq!(check_retrieve("a", true, Some("a"), Some(0), day), Err(Error::IpAllocated));
    }

    #[test]
    fn bandwidth_ranges() {
        assert!(check_bandwidth(500, ChargeType::PostPaid, InternetChargeType::PayByBandwidth).is_ok());
        assert!(check_bandwidth(501, ChargeType::PostPaid, InternetChargeType::PayByBandwidth).is_err());
        assert!(check_bandwidth(201, ChargeType::PostPaid, InternetChargeType::PayByTraffic).is_err());
        assert!(check_bandwidth(0, ChargeType::PrePaid, InternetChargeType::PayByBandwidth).is_err());
        assert!(check_bandwidth(1000, ChargeType::PrePaid, InternetChargeType::PayByBandwidth).is_ok());
    }

    fn any_status() -> impl Strategy<Value = EipStatus> {
        proptest::sample::select(EipStatus::ALL.to_vec())
    }
    fn any_event() -> impl Strategy<Value = EipEvent> {
        proptest::sample::select(vec![
            EipEvent::Associate,
            EipEvent::AssociateDone,
            EipEvent::Unassociate,
            EipEvent::UnassociateDone,
            EipEvent::TargetGone,
            EipEvent::Release,
        ])
    }

    proptest! {
        /// GEN-04 as a property: from any status, any event sequence keeps the
        /// machine inside its five statuses, a transitional status is only ever
        /// left by its own completion (or the target vanishing), and InUse is
        /// reached only through Associating.
        #[test]
        fn gen_04_machine_properties(start in any_status(), events in proptest::collection::vec(any_event(), 0..40)) {
            let mut s = start;
            for e in events {
                if let Ok(next) = eip_transition(s, e) {
                    if next == EipStatus::InUse {
                        prop_assert_eq!(s, EipStatus::Associating);
                    }
                    if next == EipStatus::Releasing {
                        prop_assert_eq!((s, e), (EipStatus::Available, EipEvent::Release));
                    }
                    if s.is_transitional() {
                        prop_assert!(matches!(e, EipEvent::AssociateDone | EipEvent::UnassociateDone | EipEvent::TargetGone));
                    }
                    s = next;
                } else if s.is_transitional() && matches!(e, EipEvent::Associate | EipEvent::Unassociate | EipEvent::Release) {
                    prop_assert_eq!(eip_transition(s, e), Err(Error::TaskConflict));
                }
            }
        }

        /// Instance task chains always settle in at most two steps.
        #[test]
        fn instance_tasks_settle(start in proptest::sample::select(InstanceStatus::ALL.to_vec()), want in any::<bool>()) {
            let (s1, more) = instance_task_step(start, want);
            if more {
                let (s2, more2) = instance_task_step(s1, want);
                prop_assert!(!more2);
                prop_assert!(matches!(s2, InstanceStatus::Running | InstanceStatus::Stopped));
            }
        }
    }

    #[test]
    fn vis_03_secondary_cidr_blocks_may_be_public() {
        let c = |s: &str| Cidr::parse(s).unwrap();
        let primary = c("192.168.0.0/16");
        assert_eq!(check_secondary_cidr(&primary, &[], &c("198.18.5.0/24")), Ok(()));
        assert_eq!(check_secondary_cidr(&primary, &[], &c("10.0.0.0/8")), Ok(()));
        assert_eq!(check_secondary_cidr(&primary, &[], &c("192.168.4.0/24")), Err(Error::CidrOverlapped));
        assert_eq!(
            check_secondary_cidr(&primary, &[c("198.18.0.0/16")], &c("198.18.5.0/24")),
            Err(Error::CidrOverlapped)
        );
        for bad in
            ["100.64.0.0/16", "224.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "0.0.0.0/8", "198.18.5.0/29", "8.0.0.0/7"]
        {
            assert!(matches!(check_secondary_cidr(&primary, &[], &c(bad)), Err(Error::InvalidCidrBlock(_))), "{bad}");
        }
        let five: Vec<Cidr> = (1..=5).map(|i| c(&format!("10.{i}.0.0/16"))).collect();
        assert_eq!(check_secondary_cidr(&primary, &five, &c("10.9.0.0/16")), Err(Error::SecondaryCidrQuotaExceeded));
    }
}
