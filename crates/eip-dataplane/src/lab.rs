//! The lab: a small cloud of network namespaces on one machine.
//!
//! Exists so that an association can be proven with real packets without a
//! cloud: `ip netns exec openeip-internet …` is "the internet", each region has
//! a gateway namespace that owns the nftables table, each vSwitch is a bridge
//! in its region's gateway, each ECS instance is a namespace named after its
//! instance id with its primary ENI as a veth port on that bridge.
//!
//! ```text
//! openeip-internet  lo 203.0.113.10/32 (the client)
//!   gw<hash> 192.0.2.2k/31 ──── pub0 192.0.2.2k+1/31   openeip-gw-<region>
//!   route <pool> via the gateway                       blackhole <pool>, table ip openeip
//!                                                      br<hash> <vSwitch router, .253 of a /24>
//!                                                        └─ ve<hash> ── eth0 <private IP>   <instance id>
//! ```
//!
//! Planning ([`plan`], [`steps_to`]) is pure and unit-tested; [`Lab`] runs the
//! steps with `ip`. Every namespace is written to a record file before it is
//! created, so teardown ([`teardown_recorded`]) removes exactly what the lab
//! made: the recorded namespaces and those with the `openeip-` prefix.
//!
//! This milestone wires ECS instances with their primary ENI; the plan types
//! already carry secondary ENIs (`EniPlan::primary == false`) for the next ones.
//! vSwitches whose blocks overlap one already planned in the same region
//! (two VPCs with the same CIDR) are left out with a warning: one gateway
//! namespace has one routing table.

use crate::desired::{DesiredState, Rows};
use crate::{Cidr, INTERNET_NS, NS_PREFIX, gateway_ns};
use eip_types::EniType;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The internet client's address (TEST-NET-3).
pub const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 10);
/// Transit links between the internet and the gateways come from here (TEST-NET-1).
pub const TRANSIT_BASE: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 0);

/// The whole lab.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabPlan {
    /// Per region.
    pub gateways: BTreeMap<String, GatewayPlan>,
}

/// One region's gateway namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayPlan {
    /// Position of the region in the catalogue: picks its transit /31.
    pub index: u8,
    /// Pools routed to it.
    pub pools: Vec<Cidr>,
    /// Bridges, by vSwitch id.
    pub vswitches: BTreeMap<String, VSwitchPlan>,
    /// Instance namespaces, by instance id.
    pub instances: BTreeMap<String, InstancePlan>,
}

/// A vSwitch: a bridge carrying its router address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VSwitchPlan {
    /// Block.
    pub cidr: Cidr,
    /// The router address (the block's last address but two, as in the cloud).
    pub router: Ipv4Addr,
    /// Bridge name.
    pub bridge: String,
}

/// An instance namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstancePlan {
    /// NICs, primary first.
    pub enis: Vec<EniPlan>,
}

/// One ENI: a veth pair, the host end on the vSwitch's bridge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EniPlan {
    /// `eni-…`
    pub id: String,
    /// Its vSwitch.
    pub vswitch_id: String,
    /// MAC address.
    pub mac: String,
    /// Primary ENI (carries the default route).
    pub primary: bool,
    /// Private IPs, primary first.
    pub ips: Vec<Ipv4Addr>,
    /// Host-side interface name (in the gateway namespace).
    pub host_if: String,
    /// Name inside the instance.
    pub guest_if: String,
}

/// A short stable tag for interface names (15 characters at most).
fn tag(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", h as u32)
}

/// The internet-side interface of a region's transit link.
pub fn uplink_peer(region: &str) -> String {
    format!("gw{}", tag(region))
}

/// The (internet side, gateway side) addresses of a region's transit /31.
pub fn transit(index: u8) -> (Ipv4Addr, Ipv4Addr) {
    let base = u32::from(TRANSIT_BASE) + 2 * u32::from(index);
    (Ipv4Addr::from(base), Ipv4Addr::from(base + 1))
}

/// The lab for `desired`'s gateways, from `rows`.
pub fn plan(rows: &Rows, desired: &DesiredState) -> LabPlan {
    let mut lab = LabPlan::default();
    for (region, g) in &desired.gateways {
        let Some(index) = eip_domain::catalogue::REGIONS.iter().position(|r| r.id == region) else { continue };
        let Ok(index) = u8::try_from(index) else { continue };
        if index >= 128 {
            continue;
        }
        let mut gp =
            GatewayPlan { index, pools: g.pools.clone(), vswitches: BTreeMap::new(), instances: BTreeMap::new() };
        for v in rows.vswitches.iter().filter(|v| &v.region_id == region) {
            let Some(cidr) = Cidr::parse(&v.cidr) else { continue };
            if cidr.len > 30 {
                continue;
            }
            if gp.vswitches.values().any(|o| o.cidr.overlaps(&cidr)) {
                tracing::warn!(vswitch = %v.id, cidr = %v.cidr, region = %region, "lab: vSwitch overlaps another in the region; left out");
                continue;
            }
            let router = Ipv4Addr::from(cidr.last() - 2);
            gp.vswitches.insert(v.id.clone(), VSwitchPlan { cidr, router, bridge: format!("br{}", tag(&v.id)) });
        }
        for i in rows.instances.iter().filter(|i| &i.region_id == region) {
            let mut enis: Vec<EniPlan> = rows
                .enis
                .iter()
                .filter(|e| e.instance_id.as_deref() == Some(i.id.as_str()) && e.kind == EniType::Primary)
                .filter(|e| gp.vswitches.contains_key(&e.vswitch_id))
                .map(|e| {
                    let mut ips = rows.eni_ips.get(&e.id).cloned().unwrap_or_default();
                    ips.sort_by_key(|p| !p.is_primary);
                    EniPlan {
                        id: e.id.clone(),
                        vswitch_id: e.vswitch_id.clone(),
                        mac: e.mac.clone(),
                        primary: true,
                        ips: ips.iter().filter_map(|p| p.ip.parse().ok()).collect(),
                        host_if: format!("ve{}", tag(&e.id)),
                        guest_if: "eth0".into(),
                    }
                })
                .collect();
            enis.truncate(1);
            if enis.is_empty() || enis[0].ips.is_empty() {
                continue;
            }
            gp.instances.insert(i.id.clone(), InstancePlan { enis });
        }
        lab.gateways.insert(region.clone(), gp);
    }
    lab
}

/// One thing to do to the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Record, then create, a namespace.
    AddNs(String),
    /// Delete a namespace (its links go with it), then forget it.
    DelNs(String),
    /// Run `ip ARGS…` (or another tool when the first word says so).
    Run(Vec<String>),
}

macro_rules! cmd {
    ($($a:expr),* $(,)?) => { Step::Run(vec![$($a.to_string()),*]) };
}

fn internet_steps() -> Vec<Step> {
    vec![
        Step::AddNs(INTERNET_NS.into()),
        cmd!("ip", "-n", INTERNET_NS, "link", "set", "lo", "up"),
        cmd!("ip", "-n", INTERNET_NS, "addr", "add", format!("{CLIENT_IP}/32"), "dev", "lo"),
    ]
}

fn pool_steps(region: &str, index: u8, pool: &Cidr, add: bool) -> Vec<Step> {
    let (ns, p) = (gateway_ns(region), crate::cidr_text(pool));
    let (_, gw_side) = transit(index);
    if add {
        vec![
            cmd!("ip", "-n", ns, "route", "replace", "blackhole", p),
            cmd!("ip", "-n", INTERNET_NS, "route", "replace", p, "via", gw_side, "src", CLIENT_IP),
        ]
    } else {
        vec![
            cmd!("ip", "-n", ns, "route", "del", "blackhole", p),
            cmd!("ip", "-n", INTERNET_NS, "route", "del", p, "via", gw_side),
        ]
    }
}

fn gateway_steps(region: &str, g: &GatewayPlan) -> Vec<Step> {
    let ns = gateway_ns(region);
    let peer = uplink_peer(region);
    let (inet_side, gw_side) = transit(g.index);
    let mut s = vec![
        Step::AddNs(ns.clone()),
        cmd!("ip", "-n", ns, "link", "set", "lo", "up"),
        cmd!("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"),
        cmd!(
            "ip",
            "-n",
            ns,
            "link",
            "add",
            crate::render::UPLINK,
            "type",
            "veth",
            "peer",
            "name",
            peer,
            "netns",
            INTERNET_NS
        ),
        cmd!("ip", "-n", ns, "addr", "add", format!("{gw_side}/31"), "dev", crate::render::UPLINK),
        cmd!("ip", "-n", ns, "link", "set", crate::render::UPLINK, "up"),
        cmd!("ip", "-n", INTERNET_NS, "addr", "add", format!("{inet_side}/31"), "dev", peer),
        cmd!("ip", "-n", INTERNET_NS, "link", "set", peer, "up"),
        cmd!("ip", "-n", ns, "route", "add", "default", "via", inet_side),
    ];
    for p in &g.pools {
        s.extend(pool_steps(region, g.index, p, true));
    }
    s
}

fn vswitch_steps(region: &str, v: &VSwitchPlan) -> Vec<Step> {
    let ns = gateway_ns(region);
    vec![
        cmd!("ip", "-n", ns, "link", "add", v.bridge, "type", "bridge"),
        cmd!("ip", "-n", ns, "addr", "add", format!("{}/{}", v.router, v.cidr.len), "dev", v.bridge),
        cmd!("ip", "-n", ns, "link", "set", v.bridge, "up"),
    ]
}

fn instance_steps(region: &str, g: &GatewayPlan, id: &str, i: &InstancePlan) -> Vec<Step> {
    let gw = gateway_ns(region);
    let mut s = vec![Step::AddNs(id.into()), cmd!("ip", "-n", id, "link", "set", "lo", "up")];
    for e in &i.enis {
        let Some(v) = g.vswitches.get(&e.vswitch_id) else { continue };
        s.push(cmd!("ip", "-n", gw, "link", "add", e.host_if, "type", "veth", "peer", "name", e.guest_if, "netns", id));
        s.push(cmd!("ip", "-n", gw, "link", "set", e.host_if, "master", v.bridge, "up"));
        s.push(cmd!("ip", "-n", id, "link", "set", e.guest_if, "address", e.mac));
        for ip in &e.ips {
            s.push(cmd!("ip", "-n", id, "addr", "add", format!("{ip}/{}", v.cidr.len), "dev", e.guest_if));
        }
        s.push(cmd!("ip", "-n", id, "link", "set", e.guest_if, "up"));
        if e.primary {
            s.push(cmd!("ip", "-n", id, "route", "add", "default", "via", v.router, "dev", e.guest_if));
        }
    }
    s
}

/// Whether an instance namespace built in `b` is still right in `w`: same
/// NICs and addresses, and the bridges its NICs sit on unchanged. (Other
/// vSwitches coming or going leave it alone.)
fn instance_unchanged(b: &GatewayPlan, w: &GatewayPlan, id: &str) -> bool {
    match (b.instances.get(id), w.instances.get(id)) {
        (Some(bi), Some(wi)) => {
            bi == wi && bi.enis.iter().all(|e| b.vswitches.get(&e.vswitch_id) == w.vswitches.get(&e.vswitch_id))
        }
        _ => false,
    }
}

/// The steps taking the host from `built` to `want`, in units: each unit is
/// done whole or retried whole. Removals come first (instances, then
/// vSwitches, then gateways), then additions in the opposite order.
pub fn steps_to(built: &LabPlan, want: &LabPlan) -> Vec<(Unit, Vec<Step>)> {
    let mut out = Vec::new();
    for (region, b) in &built.gateways {
        let w = want.gateways.get(region);
        for id in b.instances.keys() {
            if !w.is_some_and(|w| instance_unchanged(b, w, id)) {
                out.push((Unit::DelInstance(region.clone(), id.clone()), vec![Step::DelNs(id.clone())]));
            }
        }
    }
    for (region, b) in &built.gateways {
        match want.gateways.get(region) {
            Some(w) if w.index == b.index => {
                for (id, v) in &b.vswitches {
                    if w.vswitches.get(id) != Some(v) {
                        let ns = gateway_ns(region);
                        out.push((
                            Unit::DelVSwitch(region.clone(), id.clone()),
                            vec![cmd!("ip", "-n", ns, "link", "del", v.bridge)],
                        ));
                    }
                }
                for p in b.pools.iter().filter(|p| !w.pools.contains(p)) {
                    out.push((Unit::Pools(region.clone()), pool_steps(region, b.index, p, false)));
                }
            }
            _ => out.push((Unit::DelGateway(region.clone()), vec![Step::DelNs(gateway_ns(region))])),
        }
    }
    if !built.gateways.is_empty() && want.gateways.is_empty() {
        out.push((Unit::DelInternet, vec![Step::DelNs(INTERNET_NS.into())]));
    }
    if built.gateways.is_empty() && !want.gateways.is_empty() {
        out.push((Unit::Internet, internet_steps()));
    }
    for (region, w) in &want.gateways {
        let b = built.gateways.get(region).filter(|b| b.index == w.index);
        match b {
            None => out.push((Unit::AddGateway(region.clone()), gateway_steps(region, w))),
            Some(b) => {
                for p in w.pools.iter().filter(|p| !b.pools.contains(p)) {
                    out.push((Unit::Pools(region.clone()), pool_steps(region, w.index, p, true)));
                }
            }
        }
        for (id, v) in &w.vswitches {
            if b.and_then(|b| b.vswitches.get(id)) != Some(v) {
                out.push((Unit::AddVSwitch(region.clone(), id.clone()), vswitch_steps(region, v)));
            }
        }
        for (id, i) in &w.instances {
            if !b.is_some_and(|b| instance_unchanged(b, w, id)) {
                out.push((Unit::AddInstance(region.clone(), id.clone()), instance_steps(region, w, id, i)));
            }
        }
    }
    out
}

/// A unit of lab work (what `built` records once it is done).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unit {
    /// The internet namespace.
    Internet,
    /// The internet namespace removed (no gateway left).
    DelInternet,
    /// A gateway namespace and its uplink.
    AddGateway(String),
    /// A gateway namespace removed.
    DelGateway(String),
    /// A region's pool routes changed.
    Pools(String),
    /// A bridge added.
    AddVSwitch(String, String),
    /// A bridge removed.
    DelVSwitch(String, String),
    /// An instance namespace added.
    AddInstance(String, String),
    /// An instance namespace removed.
    DelInstance(String, String),
}

/// A lab failure: the command and what it said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("lab: {0}")]
pub struct LabError(pub String);

/// The lab on this host.
pub struct Lab {
    record: PathBuf,
    built: LabPlan,
}

fn run_ip(args: &[String]) -> Result<(), LabError> {
    let out =
        Command::new(&args[0]).args(&args[1..]).output().map_err(|e| LabError(format!("{}: {e}", args.join(" "))))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(LabError(format!("{}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim())))
    }
}

fn read_record(path: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(path)
        .map(|s| s.lines().map(str::to_owned).filter(|l| !l.is_empty()).collect())
        .unwrap_or_default()
}

fn write_record(path: &Path, names: &BTreeSet<String>) -> Result<(), LabError> {
    let text: String = names.iter().map(|n| format!("{n}\n")).collect();
    std::fs::write(path, text).map_err(|e| LabError(format!("{}: {e}", path.display())))
}

/// Namespaces present on the host.
pub fn list_namespaces() -> Result<Vec<String>, LabError> {
    let out =
        Command::new("ip").args(["netns", "list"]).output().map_err(|e| LabError(format!("ip netns list: {e}")))?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect())
}

/// Removes every namespace named in the record file and every `openeip-`
/// namespace, then empties the record. Returns what was removed.
pub fn teardown_recorded(record: &Path) -> Result<Vec<String>, LabError> {
    let mut names = read_record(record);
    let present = list_namespaces()?;
    names.extend(present.iter().filter(|n| n.starts_with(NS_PREFIX)).cloned());
    let mut removed = Vec::new();
    let mut errors = Vec::new();
    // Instances first, the internet last: links go with their namespaces.
    let mut order: Vec<&String> = names.iter().filter(|n| present.contains(n)).collect();
    order.sort_by_key(|n| (n.starts_with(NS_PREFIX), n.as_str() == INTERNET_NS));
    for n in order {
        match run_ip(&["ip".into(), "netns".into(), "del".into(), n.clone()]) {
            Ok(()) => removed.push(n.clone()),
            Err(e) => errors.push(e.0),
        }
    }
    if errors.is_empty() {
        let _ = std::fs::remove_file(record);
        Ok(removed)
    } else {
        Err(LabError(errors.join("; ")))
    }
}

impl Lab {
    /// A lab recording its namespaces in `record`. Call [`teardown_recorded`]
    /// first to start from a clean host.
    pub fn new(record: PathBuf) -> Lab {
        Lab { record, built: LabPlan::default() }
    }

    /// What is built.
    pub fn built(&self) -> &LabPlan {
        &self.built
    }

    fn exec(&self, steps: &[Step]) -> Result<(), LabError> {
        for s in steps {
            match s {
                Step::AddNs(n) => {
                    let mut r = read_record(&self.record);
                    r.insert(n.clone());
                    write_record(&self.record, &r)?;
                    run_ip(&["ip".into(), "netns".into(), "add".into(), n.clone()])?;
                }
                Step::DelNs(n) => {
                    run_ip(&["ip".into(), "netns".into(), "del".into(), n.clone()])?;
                    let mut r = read_record(&self.record);
                    r.remove(n);
                    write_record(&self.record, &r)?;
                }
                Step::Run(args) => run_ip(args)?,
            }
        }
        Ok(())
    }

    /// Builds what `want` has and `built` lacks, removes the rest. A unit
    /// that fails is undone as far as possible and reported; the next sync
    /// retries it.
    pub fn sync(&mut self, want: &LabPlan) -> Result<(), LabError> {
        let mut first_err = None;
        for (unit, steps) in steps_to(&self.built, want) {
            let r = self.exec(&steps);
            if let Err(e) = &r {
                tracing::error!(error = %e, unit = ?unit, "lab step failed");
                // A half-made namespace is removed so the retry starts clean.
                if let Some(Step::AddNs(n)) = steps.first() {
                    let _ = self.exec(&[Step::DelNs(n.clone())]);
                }
                if matches!(unit, Unit::AddVSwitch(..))
                    && let Some(Step::Run(a)) = steps.first()
                {
                    let _ =
                        run_ip(&[a[0].clone(), a[1].clone(), a[2].clone(), "link".into(), "del".into(), a[5].clone()]);
                }
                first_err.get_or_insert(e.clone());
                if matches!(unit, Unit::Internet | Unit::AddGateway(_)) {
                    break; // everything after depends on it
                }
                continue;
            }
            self.record_done(&unit, want);
        }
        match first_err {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }

    fn record_done(&mut self, unit: &Unit, want: &LabPlan) {
        let b = &mut self.built.gateways;
        match unit {
            Unit::Internet | Unit::DelInternet => {}
            Unit::AddGateway(r) => {
                if let Some(w) = want.gateways.get(r) {
                    b.insert(
                        r.clone(),
                        GatewayPlan { vswitches: BTreeMap::new(), instances: BTreeMap::new(), ..w.clone() },
                    );
                }
            }
            Unit::DelGateway(r) => {
                b.remove(r);
            }
            Unit::Pools(r) => {
                if let (Some(g), Some(w)) = (b.get_mut(r), want.gateways.get(r)) {
                    g.pools = w.pools.clone();
                }
            }
            Unit::AddVSwitch(r, id) => {
                if let (Some(g), Some(v)) = (b.get_mut(r), want.gateways.get(r).and_then(|w| w.vswitches.get(id))) {
                    g.vswitches.insert(id.clone(), v.clone());
                }
            }
            Unit::DelVSwitch(r, id) => {
                if let Some(g) = b.get_mut(r) {
                    g.vswitches.remove(id);
                }
            }
            Unit::AddInstance(r, id) => {
                if let (Some(g), Some(i)) = (b.get_mut(r), want.gateways.get(r).and_then(|w| w.instances.get(id))) {
                    g.instances.insert(id.clone(), i.clone());
                }
            }
            Unit::DelInstance(r, id) => {
                if let Some(g) = b.get_mut(r) {
                    g.instances.remove(id);
                }
            }
        }
        // Once every bridge matches, instances built against the old set are
        // judged again on the next sync (steps_to compares the vSwitch maps).
    }

    /// Removes everything the lab made.
    pub fn teardown(&mut self) -> Result<Vec<String>, LabError> {
        self.built = LabPlan::default();
        teardown_recorded(&self.record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::{build, tests::*};
    use eip_store::PrivateIpRow;

    fn rows() -> Rows {
        let mut r = sample();
        r.enis = vec![eni("eni-a", "i-a", "vsw-1", true), eni("eni-b", "i-b", "vsw-1", true)];
        for (e, ip) in [("eni-a", "172.16.1.1"), ("eni-b", "172.16.1.2")] {
            r.eni_ips.insert(
                e.into(),
                vec![PrivateIpRow { vswitch_id: "vsw-1".into(), ip: ip.into(), holder_id: e.into(), is_primary: true }],
            );
        }
        r
    }

    #[test]
    fn plan_has_a_gateway_a_bridge_and_an_instance_per_row() {
        let r = rows();
        let p = plan(&r, &build(1, &r));
        let g = &p.gateways["cn-hangzhou"];
        assert_eq!(g.vswitches["vsw-1"].router, Ipv4Addr::new(172, 16, 1, 253));
        assert_eq!(g.instances.keys().collect::<Vec<_>>(), ["i-a", "i-b"]);
        assert_eq!(g.instances["i-a"].enis[0].ips, [Ipv4Addr::new(172, 16, 1, 1)]);
        assert!(g.instances["i-a"].enis[0].host_if.len() <= 15);
        assert_eq!(transit(g.index).1, Ipv4Addr::new(192, 0, 2, 11));
    }

    #[test]
    fn overlapping_vswitches_are_left_out() {
        let mut r = rows();
        r.vswitches.push(vswitch("vsw-2", "cn-hangzhou", "172.16.1.0/25"));
        let p = plan(&r, &build(1, &r));
        assert_eq!(p.gateways["cn-hangzhou"].vswitches.keys().collect::<Vec<_>>(), ["vsw-1"]);
    }

    #[test]
    fn steps_build_then_follow_instances_and_tear_down_gateways() {
        let r = rows();
        let want = plan(&r, &build(1, &r));
        let units: Vec<Unit> = steps_to(&LabPlan::default(), &want).into_iter().map(|(u, _)| u).collect();
        assert_eq!(
            units,
            [
                Unit::Internet,
                Unit::AddGateway("cn-hangzhou".into()),
                Unit::AddVSwitch("cn-hangzhou".into(), "vsw-1".into()),
                Unit::AddInstance("cn-hangzhou".into(), "i-a".into()),
                Unit::AddInstance("cn-hangzhou".into(), "i-b".into()),
            ]
        );
        assert!(steps_to(&want, &want).is_empty(), "nothing to do once built");
        let mut fewer = want.clone();
        fewer.gateways.get_mut("cn-hangzhou").unwrap().instances.remove("i-b");
        let steps = steps_to(&want, &fewer);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].1, [Step::DelNs("i-b".into())]);
        let gone = steps_to(&want, &LabPlan::default());
        assert_eq!(gone[gone.len() - 2].1, [Step::DelNs("openeip-gw-cn-hangzhou".into())]);
        assert_eq!(gone.last().unwrap().1, [Step::DelNs(INTERNET_NS.into())]);
        let mut more = want.clone();
        more.gateways.get_mut("cn-hangzhou").unwrap().vswitches.insert(
            "vsw-9".into(),
            VSwitchPlan {
                cidr: Cidr::parse("172.16.9.0/24").unwrap(),
                router: Ipv4Addr::new(172, 16, 9, 253),
                bridge: "br9".into(),
            },
        );
        let units: Vec<Unit> = steps_to(&want, &more).into_iter().map(|(u, _)| u).collect();
        assert_eq!(
            units,
            [Unit::AddVSwitch("cn-hangzhou".into(), "vsw-9".into())],
            "a new vSwitch leaves instances alone"
        );
        let inst = steps_to(&LabPlan::default(), &want)
            .into_iter()
            .find(|(u, _)| matches!(u, Unit::AddInstance(_, i) if i == "i-a"))
            .unwrap()
            .1;
        assert!(
            inst.contains(&Step::Run(
                ["ip", "-n", "i-a", "route", "add", "default", "via", "172.16.1.253", "dev", "eth0"]
                    .map(String::from)
                    .to_vec()
            ))
        );
    }
}
