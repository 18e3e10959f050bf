//! The reconciler: takes the kernel from whatever it holds to a desired
//! generation, and says when it got there.
//!
//! Exists to own the ordering rules that make `InUse` honest:
//!
//! - a generation is acknowledged ([`Reconciler::applied_generation`]) only
//!   after every gateway's batch succeeded and every pending conntrack flush
//!   is done; the caller then completes that generation's EIP transitions;
//! - an EIP that loses its translation has its conntrack entries deleted
//!   after the map change, never before (deleting first leaves a window in
//!   which a packet recreates the old binding), in both directions, so no
//!   established flow survives an unassociation (the OSSN-0020 lesson);
//! - a failed batch leaves the gateway "unknown": the next attempt is a full
//!   resync, which cannot fail on elements that are or are not there;
//! - [`Reconciler::repair`] reads each table back and resyncs a gateway whose
//!   chains or elements differ from what was applied (drift).

use crate::desired::{DesiredState, GatewayState};
use crate::gateway_ns;
use crate::kernel::{Kernel, KernelError};
use crate::render::{self, TableState};
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// Why a generation could not be acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReconcileError {
    /// A gateway's batch was refused.
    #[error("applying the table of {region}: {err}")]
    Apply {
        /// Region.
        region: String,
        /// The kernel's message.
        err: KernelError,
    },
    /// Deleting an address's conntrack entries failed (retried next time).
    #[error("deleting conntrack entries of {addr} in {ns}: {err}")]
    Flush {
        /// Namespace.
        ns: String,
        /// Address.
        addr: Ipv4Addr,
        /// The tool's message.
        err: KernelError,
    },
}

/// Why [`Reconciler::apply_patch`] did not finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The change needs a full [`Reconciler::apply`] (the reason says why).
    #[error("needs a full round: {0}")]
    NeedFull(String),
    /// The maps changed but deleting conntrack entries failed (retried by the
    /// next apply or patch before it acknowledges anything).
    #[error(transparent)]
    Flush(ReconcileError),
}

/// Whether a NAT gateway entry or a CLB listener of `g` uses `eip`.
fn other_uses(g: &GatewayState, eip: Ipv4Addr) -> bool {
    g.snat.iter().any(|r| r.eips.contains(&eip))
        || g.dnat.iter().any(|d| d.eip == eip)
        || g.clb.iter().any(|c| c.eip == eip)
}

/// What one [`Reconciler::apply`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// The generation now applied.
    pub generation: u64,
    /// Regions whose table was replaced whole.
    pub full: Vec<String>,
    /// Regions that got an element delta.
    pub delta: Vec<String>,
    /// Addresses whose conntrack entries were deleted.
    pub flushed: Vec<Ipv4Addr>,
}

/// Drives one kernel towards desired generations.
pub struct Reconciler<K: Kernel> {
    kernel: K,
    /// Region → the network namespace of its gateway, when an operator named
    /// them (regions not listed have no data plane here); `None`: the lab's
    /// `openeip-gw-<region>` for every region.
    namespaces: Option<BTreeMap<String, String>>,
    /// What each region's table holds, as far as known (`None`: unknown).
    applied: BTreeMap<String, Option<GatewayState>>,
    pending_flush: BTreeSet<(String, Ipv4Addr)>,
    applied_generation: u64,
}

fn removed_from(before: &TableState, g: &GatewayState) -> Vec<Ipv4Addr> {
    let m = g.mappings();
    let mut out: Vec<Ipv4Addr> = before.eip2priv.iter().filter(|(e, p)| m.get(e) != Some(p)).map(|(e, _)| *e).collect();
    out.extend(before.visible.difference(&g.visible));
    out
}

impl<K: Kernel> Reconciler<K> {
    /// A reconciler that knows nothing about the kernel yet (the first
    /// apply of each gateway is a full resync).
    pub fn new(kernel: K) -> Reconciler<K> {
        Reconciler {
            kernel,
            namespaces: None,
            applied: BTreeMap::new(),
            pending_flush: BTreeSet::new(),
            applied_generation: 0,
        }
    }

    /// A reconciler for gateways in namespaces an operator named, region by
    /// region; the other regions' gateways are left alone.
    pub fn with_namespaces(kernel: K, namespaces: BTreeMap<String, String>) -> Reconciler<K> {
        Reconciler { namespaces: Some(namespaces), ..Reconciler::new(kernel) }
    }

    /// The namespace of a region's gateway (`None`: not served here).
    pub fn namespace(&self, region: &str) -> Option<String> {
        match &self.namespaces {
            None => Some(gateway_ns(region)),
            Some(m) => m.get(region).cloned(),
        }
    }

    /// The kernel.
    pub fn kernel(&self) -> &K {
        &self.kernel
    }

    /// The last generation fully applied.
    pub fn applied_generation(&self) -> u64 {
        self.applied_generation
    }

    /// Applies `desired`; on success the generation is acknowledged.
    pub fn apply(&mut self, desired: &DesiredState) -> Result<Report, ReconcileError> {
        let mut report = Report { generation: desired.generation, ..Report::default() };
        // Gateways no longer desired belong to the lab, which removes them.
        self.applied.retain(|r, _| desired.gateways.contains_key(r));
        for (region, g) in &desired.gateways {
            let Some(ns) = self.namespace(region) else { continue };
            let prev = self.applied.get(region).cloned().flatten();
            let (batch, removed) = match &prev {
                Some(p) if render::delta_possible(p, g) => match render::delta(p, g) {
                    Some(b) => (b, render::unmapped(p, g)),
                    None => continue, // nothing changed
                },
                Some(p) => (render::full(g), render::unmapped(p, g)),
                None => {
                    // Unknown content (start, or after a failure): whatever
                    // the table holds that is not desired must lose its flows.
                    let before = self.kernel.read(&ns).ok().flatten().unwrap_or_default();
                    (render::full(g), removed_from(&before, g))
                }
            };
            let full = matches!(batch.effect, render::Effect::Full(_));
            if let Err(err) = self.kernel.apply(&ns, &batch) {
                self.applied.insert(region.clone(), None);
                return Err(ReconcileError::Apply { region: region.clone(), err });
            }
            self.applied.insert(region.clone(), Some(g.clone()));
            if full {
                report.full.push(region.clone())
            } else {
                report.delta.push(region.clone())
            }
            self.pending_flush.extend(removed.into_iter().map(|a| (ns.clone(), a)));
        }
        // Only now that the maps no longer translate them.
        self.flush_pending(&mut report)?;
        self.applied_generation = desired.generation;
        Ok(report)
    }

    fn flush_pending(&mut self, report: &mut Report) -> Result<(), ReconcileError> {
        while let Some((ns, addr)) = self.pending_flush.first().cloned() {
            self.kernel.flush_conntrack(&ns, addr).map_err(|err| ReconcileError::Flush {
                ns: ns.clone(),
                addr,
                err,
            })?;
            self.pending_flush.remove(&(ns, addr));
            report.flushed.push(addr);
        }
        Ok(())
    }

    /// The fast path: applies the 1:1 translations of a few EIPs (region, EIP,
    /// new private address or `None`) as one element delta per gateway,
    /// without building or comparing whole states, so its cost does not grow
    /// with the number of EIPs. The conntrack entries of every EIP that lost
    /// or changed its translation are deleted after the maps changed, as in
    /// [`Reconciler::apply`].
    ///
    /// Refuses with [`PatchError::NeedFull`] (the caller then runs a full
    /// [`Reconciler::apply`]) when a gateway's table is not known, when an EIP
    /// has a translation of another kind there (HaVip, visible, NAT gateway,
    /// CLB), or when the kernel refuses the delta (the gateway is then
    /// unknown, so the full apply resyncs it whole).
    pub fn apply_patch(
        &mut self,
        generation: u64,
        patches: &[(String, Ipv4Addr, Option<Ipv4Addr>)],
    ) -> Result<Report, PatchError> {
        let mut report = Report { generation, ..Report::default() };
        let mut by_region: BTreeMap<&str, Vec<(Ipv4Addr, Option<Ipv4Addr>)>> = BTreeMap::new();
        for (region, eip, private) in patches {
            by_region.entry(region.as_str()).or_default().push((*eip, *private));
        }
        for (region, changes) in by_region {
            let Some(ns) = self.namespace(region) else { continue };
            let Some(Some(g)) = self.applied.get_mut(region) else {
                return Err(PatchError::NeedFull(format!("the table of {region} is not known")));
            };
            let mut d = render::Delta::default();
            for (eip, private) in &changes {
                if g.havip.contains_key(eip) || g.visible.contains(eip) || other_uses(g, *eip) {
                    return Err(PatchError::NeedFull(format!("{eip} has a translation of another kind")));
                }
                let old = g.nat.get(eip).copied();
                if old == *private {
                    continue;
                }
                if let Some(p) = old {
                    d.unmap.push((*eip, p));
                }
                if let Some(p) = private {
                    d.map.push((*eip, *p));
                }
            }
            if d == render::Delta::default() {
                continue;
            }
            let removed: Vec<Ipv4Addr> = d.unmap.iter().map(|(e, _)| *e).collect();
            if let Err(err) = self.kernel.apply(&ns, &render::delta_batch(d)) {
                self.applied.insert(region.to_owned(), None);
                return Err(PatchError::NeedFull(format!("the kernel refused the delta for {region}: {err}")));
            }
            for (eip, private) in changes {
                match private {
                    Some(p) => g.nat.insert(eip, p),
                    None => g.nat.remove(&eip),
                };
            }
            report.delta.push(region.to_owned());
            self.pending_flush.extend(removed.into_iter().map(|a| (ns.clone(), a)));
        }
        self.flush_pending(&mut report).map_err(PatchError::Flush)?;
        self.applied_generation = generation;
        Ok(report)
    }

    /// Reads every applied table back; a gateway whose table differs from
    /// what was applied is marked unknown and resynced by applying `desired`.
    /// Returns the regions that had drifted, with the apply's report.
    pub fn repair(&mut self, desired: &DesiredState) -> (Vec<String>, Result<Report, ReconcileError>) {
        let mut drifted = Vec::new();
        let namespaces: BTreeMap<String, String> =
            self.applied.keys().filter_map(|r| Some((r.clone(), self.namespace(r)?))).collect();
        for (region, state) in self.applied.iter_mut() {
            let (Some(g), Some(ns)) = (state.as_ref(), namespaces.get(region)) else { continue };
            let ok = matches!(self.kernel.read(ns), Ok(Some(t)) if t == render::expected(g));
            if !ok {
                tracing::warn!(region = %region, namespace = %ns, "data-plane table drifted; resyncing");
                *state = None;
                drifted.push(region.clone());
            }
        }
        (drifted, self.apply(desired))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::{build, tests::sample};
    use crate::kernel::{FakeKernel, Op};
    use eip_types::EipStatus;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }
    const NS: &str = "openeip-gw-cn-hangzhou";

    /// One fast-path change in the sample's region: EIP → private (or none).
    fn p(eip: &str, private: Option<&str>) -> (String, Ipv4Addr, Option<Ipv4Addr>) {
        ("cn-hangzhou".to_string(), ip(eip), private.map(ip))
    }

    #[test]
    fn converges_from_empty_and_acknowledges_the_generation() {
        let d = build(4, &sample());
        let mut r = Reconciler::new(FakeKernel::new());
        let rep = r.apply(&d).unwrap();
        assert_eq!(rep.full, ["cn-hangzhou"]);
        assert_eq!(r.applied_generation(), 4);
        assert_eq!(r.kernel().table(NS), Some(render::expected(&d.gateways["cn-hangzhou"])));
    }

    #[test]
    fn applying_the_same_state_again_changes_nothing() {
        let d = build(1, &sample());
        let mut r = Reconciler::new(FakeKernel::new());
        r.apply(&d).unwrap();
        let ops = r.kernel().ops().len();
        let again = DesiredState { generation: 2, ..d };
        let rep = r.apply(&again).unwrap();
        assert!(rep.full.is_empty() && rep.delta.is_empty() && rep.flushed.is_empty());
        assert_eq!(r.kernel().ops().len(), ops);
        assert_eq!(r.applied_generation(), 2);
    }

    #[test]
    fn unassociation_removes_the_entries_then_flushes_conntrack() {
        let d1 = build(1, &sample());
        let mut r = Reconciler::new(FakeKernel::new());
        r.apply(&d1).unwrap();
        let mut d2 = d1.clone();
        d2.generation = 2;
        d2.gateways.get_mut("cn-hangzhou").unwrap().nat.remove(&ip("198.18.0.5"));
        let rep = r.apply(&d2).unwrap();
        assert_eq!(rep.delta, ["cn-hangzhou"]);
        assert_eq!(rep.flushed, [ip("198.18.0.5")]);
        let ops = r.kernel().ops();
        assert_eq!(&ops[ops.len() - 2..], [Op::Delta(NS.into()), Op::Flush(NS.into(), ip("198.18.0.5"))]);
        assert!(!r.kernel().table(NS).unwrap().eip2priv.contains_key(&ip("198.18.0.5")));
    }

    #[test]
    fn a_failed_batch_is_not_acknowledged_and_the_retry_resyncs_whole() {
        let d1 = build(1, &sample());
        let mut r = Reconciler::new(FakeKernel::new());
        r.apply(&d1).unwrap();
        let mut d2 = d1.clone();
        d2.generation = 2;
        d2.gateways.get_mut("cn-hangzhou").unwrap().nat.insert(ip("198.18.0.30"), ip("172.16.1.30"));
        r.kernel().fail_next(1);
        assert!(matches!(r.apply(&d2), Err(ReconcileError::Apply { .. })));
        assert_eq!(r.applied_generation(), 1);
        let rep = r.apply(&d2).unwrap();
        assert_eq!(rep.full, ["cn-hangzhou"], "after a failure the table is unknown: full resync");
        assert_eq!(r.applied_generation(), 2);
        assert_eq!(r.kernel().table(NS), Some(render::expected(&d2.gateways["cn-hangzhou"])));
    }

    #[test]
    fn a_failed_flush_is_retried_before_the_next_acknowledgement() {
        let d1 = build(1, &sample());
        let mut r = Reconciler::new(FakeKernel::new());
        r.apply(&d1).unwrap();
        let mut d2 = d1.clone();
        d2.generation = 2;
        d2.gateways.get_mut("cn-hangzhou").unwrap().nat.remove(&ip("198.18.0.5"));
        r.kernel().fail_flushes(1);
        assert!(matches!(r.apply(&d2), Err(ReconcileError::Flush { .. })));
        assert_eq!(r.applied_generation(), 1, "not acknowledged while a flow may survive");
        let rep = r.apply(&d2).unwrap();
        assert!(rep.delta.is_empty(), "the maps were already right");
        assert_eq!(rep.flushed, [ip("198.18.0.5")]);
        assert_eq!(r.applied_generation(), 2);
    }

    #[test]
    fn operator_namespaces_carry_their_regions_and_leave_the_others_alone() {
        let d = build(1, &sample());
        let k = FakeKernel::new();
        let mut r = Reconciler::with_namespaces(k, [("cn-hangzhou".to_string(), "edge-gw".to_string())].into());
        let rep = r.apply(&d).unwrap();
        assert_eq!(rep.full, ["cn-hangzhou"]);
        assert_eq!(r.kernel().table("edge-gw"), Some(render::expected(&d.gateways["cn-hangzhou"])));
        assert!(r.kernel().table(NS).is_none());
        assert_eq!(r.applied_generation(), 1);
        let mut r = Reconciler::with_namespaces(FakeKernel::new(), BTreeMap::new());
        let rep = r.apply(&d).unwrap();
        assert!(rep.full.is_empty(), "no region served: nothing applied, the generation still acknowledged");
        assert_eq!(r.applied_generation(), 1);
    }

    #[test]
    fn a_patch_changes_only_the_patched_elements_and_flushes_after() {
        let d1 = build(1, &sample());
        let mut r = Reconciler::new(FakeKernel::new());
        assert!(r.apply_patch(1, &[]).is_ok());
        assert!(
            matches!(r.apply_patch(2, &[p("198.18.0.30", Some("172.16.1.30"))]), Err(PatchError::NeedFull(_))),
            "the table is not known before the first full apply"
        );
        r.apply(&d1).unwrap();
        let ops = r.kernel().ops().len();
        // associate one, unassociate another, re-map a third, and a no-op
        let rep = r
            .apply_patch(
                3,
                &[
                    p("198.18.0.30", Some("172.16.1.30")),
                    p("198.18.0.5", None),
                    p("198.18.0.6", Some("172.16.1.31")),
                    p("198.18.0.99", None),
                ],
            )
            .unwrap();
        assert_eq!(rep.delta, ["cn-hangzhou"]);
        assert_eq!(rep.flushed, [ip("198.18.0.5"), ip("198.18.0.6")]);
        let new_ops = &r.kernel().ops()[ops..];
        assert_eq!(
            new_ops,
            [Op::Delta(NS.into()), Op::Flush(NS.into(), ip("198.18.0.5")), Op::Flush(NS.into(), ip("198.18.0.6"))]
        );
        assert_eq!(r.applied_generation(), 3);
        // The kernel and a full build agree on the result.
        let mut want = d1.gateways["cn-hangzhou"].clone();
        want.nat.insert(ip("198.18.0.30"), ip("172.16.1.30"));
        want.nat.remove(&ip("198.18.0.5"));
        want.nat.insert(ip("198.18.0.6"), ip("172.16.1.31"));
        assert_eq!(r.kernel().table(NS), Some(render::expected(&want)));
        // A later full apply of the same state changes nothing.
        let mut d3 = d1.clone();
        d3.generation = 4;
        d3.gateways.insert("cn-hangzhou".into(), want);
        let rep = r.apply(&d3).unwrap();
        assert!(rep.full.is_empty() && rep.delta.is_empty(), "{rep:?}");
    }

    #[test]
    fn a_patch_refused_by_the_kernel_or_touching_other_kinds_asks_for_a_full_round() {
        let mut rows = sample();
        let mut ha =
            crate::desired::tests::eip("eip-ha", "198.18.0.10", EipStatus::InUse, Some(("havip-1", "172.16.1.100")));
        ha.instance_type = Some(eip_types::AssociatedInstanceType::HaVip);
        rows.eips.push(ha);
        let d1 = build(1, &rows);
        let mut r = Reconciler::new(FakeKernel::new());
        r.apply(&d1).unwrap();
        assert!(matches!(r.apply_patch(2, &[p("198.18.0.10", None)]), Err(PatchError::NeedFull(_))));
        // Behind our back the element went: the kernel refuses the delete.
        r.kernel().tamper(NS, |t| {
            t.as_mut().unwrap().eip2priv.remove(&ip("198.18.0.5"));
        });
        assert!(matches!(r.apply_patch(3, &[p("198.18.0.5", None)]), Err(PatchError::NeedFull(_))));
        assert_eq!(r.applied_generation(), 1);
        let mut d = d1.clone();
        d.generation = 3;
        d.gateways.get_mut("cn-hangzhou").unwrap().nat.remove(&ip("198.18.0.5"));
        let rep = r.apply(&d).unwrap();
        assert_eq!(rep.full, ["cn-hangzhou"], "the refused gateway is resynced whole");
        assert_eq!(r.kernel().table(NS), Some(render::expected(&d.gateways["cn-hangzhou"])));
    }

    #[test]
    fn drift_is_detected_and_repaired() {
        let d = build(1, &sample());
        let mut r = Reconciler::new(FakeKernel::new());
        r.apply(&d).unwrap();
        r.kernel().tamper(NS, |t| {
            t.as_mut().unwrap().eip2priv.clear();
        });
        let (drifted, rep) = r.repair(&d);
        assert_eq!(drifted, ["cn-hangzhou"]);
        assert_eq!(rep.unwrap().full, ["cn-hangzhou"]);
        assert_eq!(r.kernel().table(NS), Some(render::expected(&d.gateways["cn-hangzhou"])));
        let (drifted, _) = r.repair(&d);
        assert!(drifted.is_empty());
        // a deleted table is drift too
        r.kernel().tamper(NS, |t| *t = None);
        assert_eq!(r.repair(&d).0, ["cn-hangzhou"]);
        assert!(r.kernel().table(NS).is_some());
    }

    #[test]
    fn a_restart_flushes_what_the_old_table_mapped_and_is_no_longer_desired() {
        let d1 = build(1, &sample());
        let k = FakeKernel::new();
        let mut r = Reconciler::new(k);
        r.apply(&d1).unwrap();
        let k = r.kernel;
        // a new process: same kernel, an EIP was unassociated meanwhile
        let mut d2 = d1.clone();
        d2.gateways.get_mut("cn-hangzhou").unwrap().nat.remove(&ip("198.18.0.6"));
        let mut r = Reconciler::new(k);
        let rep = r.apply(&d2).unwrap();
        assert_eq!(rep.full, ["cn-hangzhou"]);
        assert_eq!(rep.flushed, [ip("198.18.0.6")]);
    }
}
