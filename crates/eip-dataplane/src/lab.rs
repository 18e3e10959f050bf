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
//! Instances are wired with their primary ENI; attached secondary ENIs are
//! their own units (a veth `eth<n>` with the source policy routes
//! GuestConfiguration lists), so attaching or detaching one leaves the rest of
//! the namespace alone. A visible-mode ENI carries its EIPs (`/32`; BINDED
//! without its private IP) and the gateway routes them to it untranslated;
//! the instance gets the metric-200 default and the 100.64.0.0/10 hint its
//! GuestConfiguration lists, and each gateway holds the stand-in metadata
//! address [`METADATA_IP`]. A HaVip's address is held on eth0 by its master, and
//! the gateway's neighbour entry points at it ([`havip_failover`] moves it).
//! vSwitches whose blocks overlap one already planned in the same region
//! (two VPCs with the same CIDR) are left out with a warning: one gateway
//! namespace has one routing table.

use crate::desired::{DesiredState, Rows};
use crate::{Cidr, INTERNET_NS, NS_PREFIX, gateway_ns};
use eip_store::EniRow;
use eip_types::{AssociatedInstanceType, EipMode, EipStatus, EniStatus, EniType};
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
    /// HaVip addresses this instance holds (it, or one of its ENIs, is their
    /// master), each with the ENI whose NIC carries it.
    pub havips: BTreeMap<Ipv4Addr, String>,
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
    /// Name inside the instance (`eth<n>`, n its device index).
    pub guest_if: String,
    /// Secondary ENIs: the routing table of its source policy routes
    /// (1000 + device index, as GuestConfiguration says).
    pub table: Option<u32>,
    /// The vSwitch's router address (the default gateway).
    pub router: Ipv4Addr,
    /// Visible-mode EIPs on the NIC (`/32`, routed by the gateway, not
    /// translated). With BINDED the EIP replaced the private IP (`ips` is
    /// then empty); with MULTI_BINDED they sit beside it.
    pub eips: Vec<Ipv4Addr>,
}

/// The cloud's metadata service address, which the lab puts on each
/// gateway's loopback so instances can show VIS-02: reachable through the
/// primary ENI, refused from a visible-mode ENI's EIP.
pub const METADATA_IP: Ipv4Addr = Ipv4Addr::new(100, 100, 100, 200);

/// The route the guest hint of a visible-mode ENI adds (VIS-02).
pub const SERVICE_ROUTE: [&str; 3] = ["100.64.0.0/10", "dev", "eth0"];

/// The metric of the default route through a visible-mode ENI (VIS-04).
pub const VISIBLE_DEFAULT_METRIC: u32 = 200;

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
    // Indexes, so the plan stays O(n log n) in instances and ENIs.
    let mut enis_of: BTreeMap<&str, Vec<&EniRow>> = BTreeMap::new();
    for e in &rows.enis {
        if let Some(i) = e.instance_id.as_deref() {
            enis_of.entry(i).or_default().push(e);
        }
    }
    let mut visible_on: BTreeMap<&str, Vec<&eip_store::EipRow>> = BTreeMap::new();
    for x in &rows.eips {
        if x.instance_type == Some(AssociatedInstanceType::NetworkInterface)
            && matches!(x.status, EipStatus::Associating | EipStatus::InUse)
            && matches!(x.mode, Some(EipMode::Binded | EipMode::MultiBinded))
            && let Some(eni) = x.instance_id.as_deref()
        {
            visible_on.entry(eni).or_default().push(x);
        }
    }
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
            // Device order as the guest sees it and as DescribeNetworkInterfaces'
            // GuestConfiguration numbers it (the store's `eni_list_by_instance`:
            // primary first, then by creation): eth<n> is the n-th ENI of the
            // instance, attached or still attaching/detaching.
            let mut mine: Vec<&EniRow> = enis_of.get(i.id.as_str()).cloned().unwrap_or_default();
            mine.sort_by(|a, b| (a.kind.as_str(), a.created_at, &a.id).cmp(&(b.kind.as_str(), b.created_at, &b.id)));
            let mut enis: Vec<EniPlan> = Vec::new();
            for (index, e) in mine.iter().enumerate() {
                let primary = e.kind == EniType::Primary;
                if !(primary || matches!(e.status, EniStatus::Attaching | EniStatus::InUse)) {
                    continue;
                }
                let Some(v) = gp.vswitches.get(&e.vswitch_id) else { continue };
                let mut ips = rows.eni_ips.get(&e.id).cloned().unwrap_or_default();
                ips.sort_by_key(|p| !p.is_primary);
                let mut ips: Vec<Ipv4Addr> = ips.iter().filter_map(|p| p.ip.parse().ok()).collect();
                // Visible mode: the EIPs associated with the ENI itself.
                let vis: &[&eip_store::EipRow] = visible_on.get(e.id.as_str()).map_or(&[], Vec::as_slice);
                if !primary && vis.iter().any(|x| x.mode == Some(EipMode::Binded)) {
                    ips.clear(); // cut-through: the EIP replaces the private IP
                }
                let mut eips: Vec<Ipv4Addr> =
                    if primary { vec![] } else { vis.iter().filter_map(|x| x.ip.parse().ok()).collect() };
                eips.sort();
                if ips.is_empty() && eips.is_empty() {
                    continue;
                }
                enis.push(EniPlan {
                    id: e.id.clone(),
                    vswitch_id: e.vswitch_id.clone(),
                    mac: e.mac.clone(),
                    primary,
                    ips,
                    host_if: format!("ve{}", tag(&e.id)),
                    guest_if: format!("eth{index}"),
                    table: if primary { None } else { Some(1000 + index as u32) },
                    router: v.router,
                    eips,
                });
            }
            // An instance is wired from its primary ENI; without one (or its
            // vSwitch left out) it is not built at all.
            if enis.first().is_none_or(|e| !e.primary) {
                continue;
            }
            gp.instances.insert(i.id.clone(), InstancePlan { enis, havips: BTreeMap::new() });
        }
        // A HaVip's address is held by its master (the first member, as
        // DescribeHaVips' MasterInstanceId says): an instance here (on its
        // primary NIC), or a secondary ENI wired into one (on that NIC).
        for h in rows.havips.iter().filter(|h| &h.region_id == region) {
            let Ok(ip) = h.ip.parse::<Ipv4Addr>() else { continue };
            let Some(master) = rows.havip_members.get(&h.id).and_then(|m| m.first()) else { continue };
            let holder = match master.instance_type {
                AssociatedInstanceType::NetworkInterface => gp
                    .instances
                    .iter_mut()
                    .find(|(_, i)| i.enis.iter().any(|e| e.id == master.instance_id))
                    .map(|(_, i)| (i, master.instance_id.clone())),
                _ => gp.instances.get_mut(&master.instance_id).and_then(|i| {
                    let primary = i.enis.first()?.id.clone();
                    Some((i, primary))
                }),
            };
            if let Some((i, eni)) = holder {
                i.havips.insert(ip, eni);
            }
        }
        lab.gateways.insert(region.clone(), gp);
    }
    lab
}

/// The ENI transitions the lab has carried out, with the status each had in
/// `rows`: an `Attaching` ENI once `built` has its NIC (or at once when `want`
/// cannot wire it: its vSwitch or instance is not in the lab), a `Detaching`
/// one once `built` no longer has it. The control plane completes exactly
/// these, so an attached ENI is `InUse` only when its NIC is there.
pub fn eni_transitions(rows: &Rows, want: &LabPlan, built: &LabPlan) -> Vec<(String, EniStatus)> {
    let ids = |p: &LabPlan| -> BTreeSet<String> {
        p.gateways
            .values()
            .flat_map(|g| g.instances.values())
            .flat_map(|i| i.enis.iter().map(|e| e.id.clone()))
            .collect()
    };
    let (want, built) = (ids(want), ids(built));
    rows.enis
        .iter()
        .filter(|e| e.kind == EniType::Secondary)
        .filter(|e| match e.status {
            EniStatus::Attaching => built.contains(&e.id) || !want.contains(&e.id),
            EniStatus::Detaching => !built.contains(&e.id),
            EniStatus::Available | EniStatus::InUse => false,
        })
        .map(|e| (e.id.clone(), e.status))
        .collect()
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
    /// Like `Run`, but a failure is ignored (removing what may already be gone).
    Try(Vec<String>),
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
        cmd!("ip", "-n", ns, "addr", "add", format!("{METADATA_IP}/32"), "dev", "lo"),
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
    let mut s = vec![
        Step::AddNs(id.into()),
        cmd!("ip", "-n", id, "link", "set", "lo", "up"),
        // Each NIC answers ARP only for its own addresses, as cloud images
        // configure it: with two NICs on one vSwitch the gateway then learns
        // the right MAC for each address.
        cmd!("ip", "netns", "exec", id, "sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1"),
        cmd!("ip", "netns", "exec", id, "sysctl", "-qw", "net.ipv4.conf.all.arp_announce=2"),
    ];
    if let Some(e) = i.enis.first().filter(|e| e.primary) {
        s.extend(eni_steps(region, g, id, e));
    }
    s
}

/// Wires one ENI: a veth on its vSwitch's bridge, its addresses, and either
/// the default route (primary) or the source policy routes GuestConfiguration
/// lists for a secondary ENI (`ip rule from <ip> lookup <table>` for every
/// address, `default via <router> dev eth<n> table <table>`).
fn eni_steps(region: &str, g: &GatewayPlan, id: &str, e: &EniPlan) -> Vec<Step> {
    let gw = gateway_ns(region);
    let Some(v) = g.vswitches.get(&e.vswitch_id) else { return vec![] };
    let mut s = vec![
        cmd!("ip", "-n", gw, "link", "add", e.host_if, "type", "veth", "peer", "name", e.guest_if, "netns", id),
        cmd!("ip", "-n", gw, "link", "set", e.host_if, "master", v.bridge, "up"),
        cmd!("ip", "-n", id, "link", "set", e.guest_if, "address", e.mac),
    ];
    for ip in &e.ips {
        s.push(cmd!("ip", "-n", id, "addr", "add", format!("{ip}/{}", v.cidr.len), "dev", e.guest_if));
    }
    for ip in &e.eips {
        s.push(cmd!("ip", "-n", id, "addr", "add", format!("{ip}/32"), "dev", e.guest_if));
    }
    s.push(cmd!("ip", "-n", id, "link", "set", e.guest_if, "up"));
    // A NIC holding only its EIP (BINDED) reaches the router on-link.
    let onlink: &[&str] = if e.ips.is_empty() { &["onlink"] } else { &[] };
    let route = |verb: &str, extra: &[String]| {
        let mut a: Vec<String> =
            ["ip", "-n", id, "route", verb, "default", "via", &e.router.to_string(), "dev", &e.guest_if]
                .map(String::from)
                .to_vec();
        a.extend(extra.iter().cloned());
        a.extend(onlink.iter().map(|x| x.to_string()));
        Step::Run(a)
    };
    match e.table {
        None => s.push(route("add", &[])),
        Some(t) => {
            for ip in e.ips.iter().chain(&e.eips) {
                s.push(cmd!("ip", "-n", id, "rule", "add", "from", ip, "lookup", t));
            }
            s.push(route("add", &["table".into(), t.to_string()]));
        }
    }
    if !e.eips.is_empty() {
        // The gateway routes each EIP, untranslated, to the NIC on its
        // vSwitch's bridge (the neighbour entry pinned to the ENI's MAC).
        for ip in &e.eips {
            s.push(cmd!("ip", "-n", gw, "route", "replace", format!("{ip}/32"), "dev", v.bridge));
            s.push(cmd!("ip", "-n", gw, "neigh", "replace", ip, "lladdr", e.mac, "dev", v.bridge, "nud", "permanent"));
        }
        // The guest side of GuestConfiguration: a lower-priority default
        // route through the visible NIC (VIS-04) and 100.64.0.0/10 kept on
        // eth0 (VIS-02).
        // (`append`: a second visible NIC adds its own route of the same metric.)
        s.push(route("append", &["metric".into(), VISIBLE_DEFAULT_METRIC.to_string()]));
        let mut hint = vec!["ip".to_string(), "-n".into(), id.into(), "route".into(), "replace".into()];
        hint.extend(SERVICE_ROUTE.iter().map(|x| x.to_string()));
        s.push(Step::Run(hint));
    }
    s
}

/// An instance takes a HaVip's address on its primary NIC and announces it:
/// the gateway's neighbour entry for the address is pointed at the
/// instance's MAC on the vSwitch bridge (what a gratuitous ARP does; the
/// lab owns the gateway, so it writes the entry instead of waiting for one).
/// Idempotent (`replace`), so a retry or a second failover is harmless.
fn havip_take_steps(region: &str, g: &GatewayPlan, id: &str, i: &InstancePlan, ip: Ipv4Addr) -> Vec<Step> {
    let Some(e) = i.havips.get(&ip).and_then(|eni| i.enis.iter().find(|e| &e.id == eni)) else { return vec![] };
    let Some(v) = g.vswitches.get(&e.vswitch_id) else { return vec![] };
    let mut steps = vec![cmd!("ip", "-n", id, "addr", "replace", format!("{ip}/32"), "dev", e.guest_if)];
    // On a secondary NIC, replies from the address leave through that NIC,
    // like its private IPs' (ENI-08).
    if let Some(t) = e.table {
        steps.push(Step::Try(
            ["ip", "-n", id, "rule", "del", "from", &ip.to_string(), "lookup", &t.to_string()]
                .map(String::from)
                .to_vec(),
        ));
        steps.push(cmd!("ip", "-n", id, "rule", "add", "from", ip, "lookup", t));
    }
    steps.push(cmd!(
        "ip",
        "-n",
        gateway_ns(region),
        "neigh",
        "replace",
        ip,
        "lladdr",
        e.mac,
        "dev",
        v.bridge,
        "nud",
        "reachable"
    ));
    steps
}

/// An instance gives a HaVip's address up from these NICs (tolerates it
/// being gone).
fn havip_release_steps<'a>(id: &str, enis: impl IntoIterator<Item = &'a EniPlan>, ip: Ipv4Addr) -> Vec<Step> {
    let try_ = |a: &[&str]| Step::Try(a.iter().map(|x| x.to_string()).collect());
    let addr = format!("{ip}/32");
    let mut steps = Vec::new();
    for e in enis {
        steps.push(try_(&["ip", "-n", id, "addr", "del", &addr, "dev", &e.guest_if]));
        if let Some(t) = e.table {
            steps.push(try_(&["ip", "-n", id, "rule", "del", "from", &ip.to_string(), "lookup", &t.to_string()]));
        }
    }
    steps
}

/// Operator failover of a HaVip to `to` (after the store names it master):
/// `to` takes the address and the gateway's neighbour entry moves to it
/// first, then every other instance of the region gives it up, so new
/// connections have somewhere to go at every moment. The agent's next round
/// finds the host already as it wants it. Returns what was done.
pub fn havip_failover(rows: &Rows, desired: &DesiredState, ip: Ipv4Addr, to: &str) -> Result<Vec<Step>, LabError> {
    let want = plan(rows, desired);
    // `to` is an instance, or an ENI wired into one.
    let Some((region, g, id, i)) = want.gateways.iter().find_map(|(r, g)| {
        g.instances
            .iter()
            .find(|(id, i)| id.as_str() == to || i.enis.iter().any(|e| e.id == to))
            .map(|(id, i)| (r, g, id.as_str(), i))
    }) else {
        return Err(LabError(format!("{to} is not an instance or ENI of the lab")));
    };
    if !i.havips.contains_key(&ip) {
        return Err(LabError(format!("{to} is not the master of {ip}")));
    }
    let mut steps = havip_take_steps(region, g, id, i, ip);
    for (other, oi) in g.instances.iter().filter(|(o, _)| o.as_str() != id) {
        steps.extend(havip_release_steps(other, &oi.enis, ip));
    }
    // The same instance's other NICs give it up too (an ENI-to-ENI move).
    steps.extend(havip_release_steps(id, i.enis.iter().filter(|e| Some(&e.id) != i.havips.get(&ip)), ip));
    for s in &steps {
        match s {
            Step::Run(a) => run_ip(a)?,
            Step::Try(a) => {
                let _ = run_ip(a);
            }
            Step::AddNs(_) | Step::DelNs(_) => {}
        }
    }
    Ok(steps)
}

/// Unwires a secondary ENI: its policy rules, then the veth pair (its
/// addresses and the routes of its table go with it). Each step tolerates
/// its object being gone already, so a retry or an undo always completes.
fn eni_del_steps(region: &str, id: &str, e: &EniPlan) -> Vec<Step> {
    let mut s = Vec::new();
    if !e.eips.is_empty() {
        let mut hint = vec!["ip".to_string(), "-n".into(), id.into(), "route".into(), "del".into()];
        hint.extend(SERVICE_ROUTE.iter().map(|x| x.to_string()));
        s.push(Step::Try(hint));
    }
    for ip in &e.eips {
        let gw = gateway_ns(region);
        s.push(Step::Try(["ip", "-n", &gw, "route", "del", &format!("{ip}/32")].map(String::from).to_vec()));
        s.push(Step::Try(["ip", "-n", &gw, "neigh", "flush", "to", &ip.to_string()].map(String::from).to_vec()));
    }
    if let Some(t) = e.table {
        for ip in e.ips.iter().chain(&e.eips) {
            s.push(Step::Try(
                ["ip", "-n", id, "rule", "del", "from", &ip.to_string(), "lookup", &t.to_string()]
                    .map(String::from)
                    .to_vec(),
            ));
        }
    }
    s.push(Step::Try(["ip", "-n", &gateway_ns(region), "link", "del", &e.host_if].map(String::from).to_vec()));
    s
}

/// Whether an instance namespace built in `b` is still right in `w`: same
/// primary NIC and addresses, and the bridges its NICs sit on unchanged.
/// (Secondary ENIs come and go as their own units.) (Other
/// vSwitches coming or going leave it alone.)
fn instance_unchanged(b: &GatewayPlan, w: &GatewayPlan, id: &str) -> bool {
    match (b.instances.get(id), w.instances.get(id)) {
        (Some(bi), Some(wi)) => {
            bi.enis.first() == wi.enis.first()
                && bi.enis.iter().all(|e| b.vswitches.get(&e.vswitch_id) == w.vswitches.get(&e.vswitch_id))
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
                continue;
            }
            let (bi, wi) = (&b.instances[id], &w.unwrap().instances[id]);
            for (ip, eni) in &bi.havips {
                if wi.havips.get(ip) != Some(eni) {
                    out.push((
                        Unit::HaVip(region.clone(), id.clone(), *ip, false),
                        havip_release_steps(id, &bi.enis, *ip),
                    ));
                }
            }
            for e in bi.enis.iter().skip(1) {
                if !wi.enis.contains(e) {
                    out.push((Unit::DelEni(region.clone(), id.clone(), e.id.clone()), eni_del_steps(region, id, e)));
                }
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
            let built = b.filter(|b| instance_unchanged(b, w, id)).and_then(|b| b.instances.get(id));
            if built.is_none() {
                out.push((Unit::AddInstance(region.clone(), id.clone()), instance_steps(region, w, id, i)));
            }
            for e in i.enis.iter().skip(1) {
                if !built.is_some_and(|bi| bi.enis.contains(e)) {
                    out.push((Unit::AddEni(region.clone(), id.clone(), e.id.clone()), eni_steps(region, w, id, e)));
                }
            }
            for (ip, eni) in &i.havips {
                if built.is_none_or(|bi| bi.havips.get(ip) != Some(eni)) {
                    out.push((
                        Unit::HaVip(region.clone(), id.clone(), *ip, true),
                        havip_take_steps(region, w, id, i, *ip),
                    ));
                }
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
    /// A secondary ENI wired into an instance (region, instance, ENI).
    AddEni(String, String, String),
    /// A secondary ENI unwired.
    DelEni(String, String, String),
    /// A HaVip address taken (`true`) or given up by an instance.
    HaVip(String, String, Ipv4Addr, bool),
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
                Step::Try(args) => {
                    let _ = run_ip(args);
                }
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
                // A half-wired ENI is unwired so the retry starts clean.
                if let Unit::AddEni(r, id, eni) = &unit
                    && let Some(e) = want
                        .gateways
                        .get(r)
                        .and_then(|w| w.instances.get(id))
                        .and_then(|i| i.enis.iter().find(|e| &e.id == eni))
                {
                    let _ = self.exec(&eni_del_steps(r, id, e));
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
                    // the primary ENI only: secondaries are their own units
                    g.instances
                        .insert(id.clone(), InstancePlan { enis: i.enis[..1].to_vec(), havips: BTreeMap::new() });
                }
            }
            Unit::AddEni(r, id, eni) => {
                let e = want
                    .gateways
                    .get(r)
                    .and_then(|w| w.instances.get(id))
                    .and_then(|i| i.enis.iter().find(|e| &e.id == eni));
                if let (Some(i), Some(e)) = (b.get_mut(r).and_then(|g| g.instances.get_mut(id)), e) {
                    i.enis.retain(|x| x.id != e.id);
                    i.enis.push(e.clone());
                }
            }
            Unit::HaVip(r, id, ip, add) => {
                let holder =
                    want.gateways.get(r).and_then(|w| w.instances.get(id)).and_then(|i| i.havips.get(ip)).cloned();
                if let Some(i) = b.get_mut(r).and_then(|g| g.instances.get_mut(id)) {
                    match (add, holder) {
                        (true, Some(eni)) => {
                            i.havips.insert(*ip, eni);
                        }
                        _ => {
                            i.havips.remove(ip);
                        }
                    }
                }
            }
            Unit::DelEni(r, id, eni) => {
                if let Some(i) = b.get_mut(r).and_then(|g| g.instances.get_mut(id)) {
                    i.enis.retain(|x| &x.id != eni);
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

    #[test]
    fn secondary_enis_are_wired_as_guest_configuration_numbers_them_and_come_and_go_alone() {
        let mut r = rows();
        let mut attaching = eni("eni-s1", "i-a", "vsw-1", false);
        attaching.status = EniStatus::Attaching;
        attaching.created_at = 1;
        let mut s2 = eni("eni-s2", "i-a", "vsw-1", false);
        s2.created_at = 2;
        r.enis.extend([attaching, s2]);
        for (e, ip, primary) in
            [("eni-s1", "172.16.1.30", true), ("eni-s2", "172.16.1.40", true), ("eni-s2", "172.16.1.41", false)]
        {
            r.eni_ips.entry(e.into()).or_default().push(PrivateIpRow {
                vswitch_id: "vsw-1".into(),
                ip: ip.into(),
                holder_id: e.into(),
                is_primary: primary,
            });
        }
        let before = plan(&rows(), &build(1, &rows()));
        // eni-s1 is still attaching: wired so that it can become InUse once its NIC is there.
        let attaching = plan(&r, &build(1, &r));
        let names = |p: &LabPlan| -> Vec<String> {
            p.gateways["cn-hangzhou"].instances["i-a"].enis.iter().map(|e| e.guest_if.clone()).collect()
        };
        assert_eq!(names(&attaching), ["eth0", "eth1", "eth2"]);
        assert_eq!(eni_transitions(&r, &attaching, &before), [], "nothing completes before the NIC is wired");
        assert_eq!(eni_transitions(&r, &attaching, &attaching), [("eni-s1".to_string(), EniStatus::Attaching)]);
        // Detaching: unwired, then completed.
        r.enis.iter_mut().find(|e| e.id == "eni-s1").unwrap().status = EniStatus::Detaching;
        let want = plan(&r, &build(1, &r));
        assert_eq!(eni_transitions(&r, &want, &attaching), []);
        assert_eq!(eni_transitions(&r, &want, &want), [("eni-s1".to_string(), EniStatus::Detaching)]);
        let i = &want.gateways["cn-hangzhou"].instances["i-a"];
        // eni-s1 is detaching: not wired, but it holds device index 1.
        assert_eq!(i.enis.iter().map(|e| e.guest_if.as_str()).collect::<Vec<_>>(), ["eth0", "eth2"]);
        assert_eq!(i.enis[1].table, Some(1002));
        assert_eq!(i.enis[1].ips, [Ipv4Addr::new(172, 16, 1, 40), Ipv4Addr::new(172, 16, 1, 41)]);
        let steps = steps_to(&before, &want);
        assert_eq!(steps.len(), 1, "attaching wires the ENI alone: {steps:?}");
        assert_eq!(steps[0].0, Unit::AddEni("cn-hangzhou".into(), "i-a".into(), "eni-s2".into()));
        let run = |a: &[&str]| Step::Run(a.iter().map(|s| s.to_string()).collect());
        for want_step in [
            run(&["ip", "-n", "i-a", "rule", "add", "from", "172.16.1.41", "lookup", "1002"]),
            run(&["ip", "-n", "i-a", "route", "add", "default", "via", "172.16.1.253", "dev", "eth2", "table", "1002"]),
            run(&["ip", "-n", "i-a", "addr", "add", "172.16.1.41/24", "dev", "eth2"]),
        ] {
            assert!(steps[0].1.contains(&want_step), "{want_step:?} missing from {:?}", steps[0].1);
        }
        let back = steps_to(&want, &before);
        assert_eq!(back.len(), 1, "detaching unwires the ENI alone: {back:?}");
        assert_eq!(back[0].0, Unit::DelEni("cn-hangzhou".into(), "i-a".into(), "eni-s2".into()));
        // Once eni-s1 is attached again, eni-s2 keeps index 2 and eni-s1 is eth1.
        r.enis.iter_mut().find(|e| e.id == "eni-s1").unwrap().status = EniStatus::Attaching;
        let both = plan(&r, &build(1, &r));
        let units: Vec<Unit> = steps_to(&want, &both).into_iter().map(|(u, _)| u).collect();
        assert_eq!(units, [Unit::AddEni("cn-hangzhou".into(), "i-a".into(), "eni-s1".into())]);
        assert_eq!(both.gateways["cn-hangzhou"].instances["i-a"].enis[1].guest_if, "eth1");
    }

    #[test]
    fn visible_mode_enis_carry_their_eips_and_the_gateway_routes_them() {
        let mut r = rows();
        r.enis.extend([eni("eni-b", "i-a", "vsw-1", false), eni("eni-m", "i-a", "vsw-1", false)]);
        r.enis[2].id = "eni-bnd".into();
        r.enis[2].created_at = 1;
        r.enis[3].created_at = 2;
        for (e, ip) in [("eni-bnd", "172.16.1.30"), ("eni-m", "172.16.1.40")] {
            r.eni_ips.insert(
                e.into(),
                vec![PrivateIpRow { vswitch_id: "vsw-1".into(), ip: ip.into(), holder_id: e.into(), is_primary: true }],
            );
        }
        for (id, ip, eni, mode) in [
            ("eip-b", "198.18.0.20", "eni-bnd", EipMode::Binded),
            ("eip-m", "198.18.0.21", "eni-m", EipMode::MultiBinded),
        ] {
            let mut e = eip(id, ip, EipStatus::InUse, Some((eni, "")));
            e.instance_type = Some(AssociatedInstanceType::NetworkInterface);
            e.private_ip = None;
            e.mode = Some(mode);
            r.eips.push(e);
        }
        let p = plan(&r, &build(1, &r));
        let i = &p.gateways["cn-hangzhou"].instances["i-a"];
        let (b, m) = (&i.enis[1], &i.enis[2]);
        assert_eq!(
            (b.ips.as_slice(), b.eips.as_slice()),
            (&[][..], &[Ipv4Addr::new(198, 18, 0, 20)][..]),
            "BINDED replaces the private IP"
        );
        assert_eq!(m.ips, [Ipv4Addr::new(172, 16, 1, 40)], "MULTI_BINDED keeps it");
        assert_eq!(m.eips, [Ipv4Addr::new(198, 18, 0, 21)]);
        let steps = eni_steps("cn-hangzhou", &p.gateways["cn-hangzhou"], "i-a", b);
        let run = |a: &[&str]| Step::Run(a.iter().map(|s| s.to_string()).collect());
        let gw = gateway_ns("cn-hangzhou");
        let br = &p.gateways["cn-hangzhou"].vswitches["vsw-1"].bridge;
        for want_step in [
            run(&["ip", "-n", "i-a", "addr", "add", "198.18.0.20/32", "dev", "eth1"]),
            run(&["ip", "-n", "i-a", "rule", "add", "from", "198.18.0.20", "lookup", "1001"]),
            run(&[
                "ip",
                "-n",
                "i-a",
                "route",
                "add",
                "default",
                "via",
                "172.16.1.253",
                "dev",
                "eth1",
                "table",
                "1001",
                "onlink",
            ]),
            run(&[
                "ip",
                "-n",
                "i-a",
                "route",
                "append",
                "default",
                "via",
                "172.16.1.253",
                "dev",
                "eth1",
                "metric",
                "200",
                "onlink",
            ]),
            run(&["ip", "-n", "i-a", "route", "replace", "100.64.0.0/10", "dev", "eth0"]),
            run(&["ip", "-n", &gw, "route", "replace", "198.18.0.20/32", "dev", br]),
        ] {
            assert!(steps.contains(&want_step), "{want_step:?} missing from {steps:?}");
        }
        assert!(!steps.iter().any(|s| matches!(s, Step::Run(a) if a.iter().any(|x| x.starts_with("172.16.1.30")))));
        let del = eni_del_steps("cn-hangzhou", "i-a", b);
        assert!(del.iter().any(|s| matches!(s, Step::Try(a) if a.contains(&"198.18.0.20/32".to_string()))), "{del:?}");
    }

    #[test]
    fn the_havip_master_holds_the_address_and_a_new_master_takes_it_over() {
        use eip_store::{HaVipMemberRow, HaVipRow};
        let mut r = rows();
        r.havips.push(HaVipRow {
            id: "havip-1".into(),
            account_id: "acc-1".into(),
            region_id: "cn-hangzhou".into(),
            vpc_id: "vpc-1".into(),
            vswitch_id: "vsw-1".into(),
            ip: "172.16.1.100".into(),
            status: eip_types::HaVipStatus::InUse,
            name: String::new(),
            description: String::new(),
            created_at: 0,
        });
        let member = |i: &str, at: i64| HaVipMemberRow {
            havip_id: "havip-1".into(),
            instance_id: i.into(),
            instance_type: eip_types::AssociatedInstanceType::EcsInstance,
            created_at: at,
        };
        r.havip_members.insert("havip-1".into(), vec![member("i-a", 1), member("i-b", 2)]);
        let vip = Ipv4Addr::new(172, 16, 1, 100);
        let a = plan(&r, &build(1, &r));
        let g = &a.gateways["cn-hangzhou"];
        assert!(g.instances["i-a"].havips.contains_key(&vip) && g.instances["i-b"].havips.is_empty());
        let built = plan(&rows(), &build(1, &rows()));
        let units: Vec<Unit> = steps_to(&built, &a).into_iter().map(|(u, _)| u).collect();
        assert_eq!(units, [Unit::HaVip("cn-hangzhou".into(), "i-a".into(), vip, true)]);
        r.havip_members.insert("havip-1".into(), vec![member("i-b", 0), member("i-a", 1)]);
        let b = plan(&r, &build(1, &r));
        let steps = steps_to(&a, &b);
        let units: Vec<&Unit> = steps.iter().map(|(u, _)| u).collect();
        assert_eq!(
            units,
            [
                &Unit::HaVip("cn-hangzhou".into(), "i-a".into(), vip, false),
                &Unit::HaVip("cn-hangzhou".into(), "i-b".into(), vip, true)
            ]
        );
        let mac = &b.gateways["cn-hangzhou"].instances["i-b"].enis[0].mac;
        assert!(
            steps[1].1.contains(&Step::Run(
                ["ip", "-n", "openeip-gw-cn-hangzhou", "neigh", "replace", "172.16.1.100", "lladdr", mac, "dev"]
                    .iter()
                    .map(|s| s.to_string())
                    .chain([g.vswitches["vsw-1"].bridge.clone(), "nud".into(), "reachable".into()])
                    .collect()
            ))
        );
    }
}
