//! Desired state: what each region's gateway must do, as plain data.
//!
//! It exists so that "which packets should flow" is decided by a pure
//! function of store rows ([`build`]), separately from how the kernel is told
//! ([`crate::render`]) and when ([`crate::reconciler`]). The same snapshot also
//! carries the EIP transitions (`Associating`, `Unassociating`) that become true
//! once it is applied, so the control plane can acknowledge exactly those.

use crate::Cidr;
use eip_store::{ClbBackendRow, ClbListenerRow, HaVipMemberRow, HaVipRow, InstanceRow};
use eip_store::{
    EipRow, EniRow, ForwardEntryRow, NatGatewayRow, PoolRow, PrivateIpRow, SnatEntryRow, Tx, VSwitchRow, VpcRow,
};
use eip_types::{AssociatedInstanceType, EipMode, EipStatus, IpProtocol, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddrV4};

/// Address blocks that must never leave a gateway as a source: RFC 1918 and
/// the 100.64.0.0/10 service range, plus every VPC block of the region.
pub const PRIVATE_BLOCKS: [&str; 4] = ["10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16"];

/// The whole data plane at one generation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DesiredState {
    /// Increases with every snapshot the agent takes.
    pub generation: u64,
    /// One gateway per region that has anything to carry.
    pub gateways: BTreeMap<String, GatewayState>,
    /// EIP transitions that are complete once this generation is applied.
    pub transitions: Vec<Transition>,
}

/// One region's gateway.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GatewayState {
    /// The region's public pools: whatever of them is not mapped is dropped.
    pub pools: Vec<Cidr>,
    /// Sources that must never reach the internet untranslated.
    pub private_nets: Vec<Cidr>,
    /// NAT mode, one to one: EIP → private IP (ECS instances, ENIs in NAT
    /// mode, intranet CLBs).
    pub nat: BTreeMap<Ipv4Addr, Ipv4Addr>,
    /// HaVip: EIP → the HaVip's floating private IP (translated like `nat`).
    pub havip: BTreeMap<Ipv4Addr, Ipv4Addr>,
    /// Visible modes (BINDED, MULTI_BINDED): routed, not translated.
    pub visible: BTreeSet<Ipv4Addr>,
    /// NAT gateway SNAT entries: source block → the EIPs it leaves as.
    pub snat: Vec<SnatRule>,
    /// NAT gateway forward (DNAT) entries.
    pub dnat: Vec<DnatRule>,
    /// Running CLB TCP listeners on a CLB that has an EIP.
    pub clb: Vec<ClbRule>,
    /// The gateway's interface towards the internet ([`crate::render::UPLINK`]
    /// when `None`, as in the lab; an operator names a real one).
    pub uplink: Option<String>,
}

/// One running TCP listener of a CLB with an EIP: new connections to
/// `eip:port` are spread over `backends` (private IP, backend port).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClbRule {
    /// The CLB's EIP.
    pub eip: Ipv4Addr,
    /// Listener port.
    pub port: u16,
    /// Backend servers with a weight above 0: (private IP, port, weight).
    pub backends: Vec<(Ipv4Addr, u16, u16)>,
}

/// One SNAT entry of a NAT gateway.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SnatRule {
    /// Source block.
    pub source: Cidr,
    /// EIPs it may leave as (the first is used in this milestone).
    pub eips: Vec<Ipv4Addr>,
}

/// One forward entry of a NAT gateway (`None` ports mean `Any`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DnatRule {
    /// Public address.
    pub eip: Ipv4Addr,
    /// Public port.
    pub external_port: Option<u16>,
    /// Private destination.
    pub internal_ip: Ipv4Addr,
    /// Private port.
    pub internal_port: Option<u16>,
    /// TCP, UDP or Any.
    pub protocol: IpProtocol,
}

/// An EIP transition that completes when its generation is applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The EIP.
    pub eip_id: String,
    /// Its row version when the snapshot was taken: the acknowledgement
    /// applies only if the row has not moved on since.
    pub version: i64,
    /// `Associating` or `Unassociating`.
    pub status: EipStatus,
}

impl GatewayState {
    /// Every EIP → private mapping the translation maps carry (NAT and HaVip).
    pub fn mappings(&self) -> BTreeMap<Ipv4Addr, Ipv4Addr> {
        let mut m = self.nat.clone();
        m.extend(self.havip.iter().map(|(k, v)| (*k, *v)));
        m
    }
}

/// The store rows the data plane reads, all accounts, every region.
#[derive(Clone, Debug, Default)]
pub struct Rows {
    /// Public pools.
    pub pools: Vec<PoolRow>,
    /// VPCs.
    pub vpcs: Vec<VpcRow>,
    /// vSwitches.
    pub vswitches: Vec<VSwitchRow>,
    /// ECS instances.
    pub instances: Vec<InstanceRow>,
    /// ENIs (attached or not).
    pub enis: Vec<EniRow>,
    /// Private IPs of the ENIs, by ENI id.
    pub eni_ips: BTreeMap<String, Vec<PrivateIpRow>>,
    /// EIPs.
    pub eips: Vec<EipRow>,
    /// NAT gateways.
    pub nat_gateways: Vec<NatGatewayRow>,
    /// SNAT entries.
    pub snat: Vec<SnatEntryRow>,
    /// Forward entries.
    pub forward: Vec<ForwardEntryRow>,
    /// HaVips.
    pub havips: Vec<HaVipRow>,
    /// HaVip members, by HaVip id, master first (the store's order).
    pub havip_members: BTreeMap<String, Vec<HaVipMemberRow>>,
    /// CLB listeners.
    pub clb_listeners: Vec<ClbListenerRow>,
    /// CLB backend servers.
    pub clb_backends: Vec<ClbBackendRow>,
    /// Backends that failed their listener's health checks: (CLB id, listener
    /// port, server id). Not in the store: the agent fills it from the
    /// controller's health-check results before [`build`], which leaves them
    /// out of the rotation.
    pub abnormal_backends: BTreeSet<(String, i64, String)>,
}

/// Reads every row the data plane needs from one snapshot.
pub fn read_rows(tx: &mut dyn Tx) -> Result<Rows> {
    let mut r = Rows { pools: tx.pool_list_all()?, eips: tx.eip_list_associated()?, ..Rows::default() };
    let mut ips: BTreeMap<String, Vec<PrivateIpRow>> = BTreeMap::new();
    for p in tx.private_ip_list_all()? {
        ips.entry(p.holder_id.clone()).or_default().push(p);
    }
    for v in ips.values_mut() {
        v.sort_by(|a, b| (!a.is_primary, &a.ip).cmp(&(!b.is_primary, &b.ip)));
    }
    r.instances = tx.instance_list_all()?;
    r.instances.sort_by(|a, b| (&a.region_id, a.created_at, &a.id).cmp(&(&b.region_id, b.created_at, &b.id)));
    for eni in tx.eni_list_all()? {
        r.eni_ips.insert(eni.id.clone(), ips.remove(&eni.id).unwrap_or_default());
        r.enis.push(eni);
    }
    let accounts = tx.account_list()?;
    for region in eip_domain::catalogue::REGIONS {
        for a in &accounts {
            r.vpcs.extend(tx.vpc_list(&a.id, region.id)?);
            r.vswitches.extend(tx.vswitch_list(&a.id, region.id)?);
            for n in tx.nat_list(&a.id, region.id)? {
                r.snat.extend(tx.snat_list(&n.id)?);
                r.forward.extend(tx.forward_list(&n.id)?);
                r.nat_gateways.push(n);
            }
            for h in tx.havip_list(&a.id, region.id)? {
                r.havip_members.insert(h.id.clone(), tx.havip_member_list(&h.id)?);
                r.havips.push(h);
            }
            for lb in tx.lb_list(&a.id, region.id, eip_types::LoadBalancerKind::Clb.as_str())? {
                r.clb_listeners.extend(tx.clb_listener_list(&lb.id)?);
                r.clb_backends.extend(tx.clb_backend_list(&lb.id)?);
            }
        }
    }
    Ok(r)
}

fn port(s: &str) -> Option<u16> {
    s.parse().ok()
}

/// Builds the desired state of generation `generation` from `rows`. A region
/// gets a gateway when it has an instance or an associated EIP.
pub fn build(generation: u64, rows: &Rows) -> DesiredState {
    let mut d = DesiredState { generation, ..DesiredState::default() };
    let mut regions: BTreeSet<&str> = rows.instances.iter().map(|i| i.region_id.as_str()).collect();
    regions.extend(rows.eips.iter().filter(|e| e.instance_id.is_some()).map(|e| e.region_id.as_str()));
    for region in regions {
        let mut pools: Vec<Cidr> =
            rows.pools.iter().filter(|p| p.region_id == region).filter_map(|p| Cidr::parse(&p.cidr)).collect();
        pools.sort();
        let mut private: Vec<Cidr> = PRIVATE_BLOCKS.iter().filter_map(|c| Cidr::parse(c)).collect();
        for v in rows.vpcs.iter().filter(|v| v.region_id == region) {
            if let Some(c) = Cidr::parse(&v.cidr)
                && !private.iter().any(|p| p.contains_cidr(&c))
            {
                private.push(c);
            }
        }
        private.sort();
        private.dedup();
        let g = GatewayState { pools, private_nets: private, ..GatewayState::default() };
        d.gateways.insert(region.to_owned(), g);
    }
    let mut nat_eips: BTreeMap<&str, Ipv4Addr> = BTreeMap::new(); // NAT gateways' EIPs by address text
    for e in &rows.eips {
        let Some(kind) = e.instance_type else { continue };
        match e.status {
            EipStatus::Associating | EipStatus::InUse => {}
            EipStatus::Unassociating => {
                d.transitions.push(Transition { eip_id: e.id.clone(), version: e.version, status: e.status });
                continue;
            }
            EipStatus::Available | EipStatus::Releasing => continue,
        }
        if e.status == EipStatus::Associating {
            d.transitions.push(Transition { eip_id: e.id.clone(), version: e.version, status: e.status });
        }
        let Ok(eip) = e.ip.parse::<Ipv4Addr>() else { continue };
        let Some(g) = d.gateways.get_mut(&e.region_id) else { continue };
        let private = e.private_ip.as_deref().and_then(|p| p.parse::<Ipv4Addr>().ok());
        match (kind, e.mode.unwrap_or(EipMode::Nat), private) {
            (AssociatedInstanceType::Nat, _, _) => {
                nat_eips.insert(e.ip.as_str(), eip);
            }
            (_, EipMode::Binded | EipMode::MultiBinded, _) => {
                g.visible.insert(eip);
            }
            // VIS-03: an ENI whose private IP is the EIP's own address (a
            // public secondary CIDR block of the VPC). Nothing to translate:
            // the gateway forwards the address to the vSwitch as it does a
            // visible-mode one.
            (AssociatedInstanceType::NetworkInterface, EipMode::Nat, Some(p)) if p == eip => {
                g.visible.insert(eip);
            }
            (AssociatedInstanceType::HaVip, EipMode::Nat, _) => {
                let ip = rows
                    .havips
                    .iter()
                    .find(|h| Some(&h.id) == e.instance_id.as_ref())
                    .and_then(|h| h.ip.parse().ok())
                    .or(private);
                if let Some(ip) = ip {
                    g.havip.insert(eip, ip);
                }
            }
            (_, EipMode::Nat, Some(p)) => {
                g.nat.insert(eip, p);
            }
            // ALB/NLB zone EIPs and targets without a private address are
            // carried by later milestones (load balancer listeners).
            (_, EipMode::Nat, None) => {}
        }
    }
    for n in &rows.nat_gateways {
        let Some(g) = d.gateways.get_mut(&n.region_id) else { continue };
        for s in rows.snat.iter().filter(|s| s.nat_gateway_id == n.id) {
            let eips: Vec<Ipv4Addr> = s.snat_ips.split(',').filter_map(|ip| nat_eips.get(ip.trim()).copied()).collect();
            if let (Some(source), false) = (Cidr::parse(&s.source_cidr), eips.is_empty()) {
                g.snat.push(SnatRule { source, eips });
            }
        }
        for f in rows.forward.iter().filter(|f| f.nat_gateway_id == n.id) {
            let (Some(eip), Ok(internal_ip)) = (nat_eips.get(f.external_ip.as_str()), f.internal_ip.parse()) else {
                continue;
            };
            g.dnat.push(DnatRule {
                eip: *eip,
                external_port: port(&f.external_port),
                internal_ip,
                internal_port: port(&f.internal_port),
                protocol: f.ip_protocol,
            });
        }
        g.snat.sort();
        g.dnat.sort();
    }
    clb_rules(&mut d, rows);
    d.transitions.sort_by(|a, b| a.eip_id.cmp(&b.eip_id));
    d
}

/// The 1:1 translation one EIP row contributes, when the row alone decides
/// it: `Some(Some(private))` for a NAT-mode EIP on an ECS instance or an ENI
/// that is associating or in use, `Some(None)` for an EIP that translates
/// nothing (available, unassociating, releasing), `None` when other rows are
/// needed (NAT gateways, HaVips, load balancers, visible modes): such changes
/// go through [`build`]. Agrees with [`build`] on every row it answers for.
pub fn nat_translation(e: &EipRow) -> Option<Option<Ipv4Addr>> {
    match e.status {
        EipStatus::Available | EipStatus::Unassociating | EipStatus::Releasing => return Some(None),
        EipStatus::Associating | EipStatus::InUse => {}
    }
    let kind = e.instance_type?;
    match (kind, e.mode.unwrap_or(EipMode::Nat)) {
        (AssociatedInstanceType::EcsInstance | AssociatedInstanceType::NetworkInterface, EipMode::Nat) => {
            let eip = e.ip.parse::<Ipv4Addr>().ok()?;
            let private = e.private_ip.as_deref().and_then(|p| p.parse().ok());
            // VIS-03 (the private IP is the EIP itself) is forwarded, not translated.
            if private == Some(eip) {
                return None;
            }
            Some(private)
        }
        _ => None,
    }
}

/// The primary private IP of an instance (its primary ENI's primary address).
pub fn instance_ip(rows: &Rows, instance: &str) -> Option<Ipv4Addr> {
    let eni = rows
        .enis
        .iter()
        .find(|e| e.instance_id.as_deref() == Some(instance) && e.kind == eip_types::EniType::Primary)?;
    rows.eni_ips.get(&eni.id)?.iter().find(|p| p.is_primary)?.ip.parse().ok()
}

/// Running listeners of CLBs whose EIP is (being) associated.
fn clb_rules(d: &mut DesiredState, rows: &Rows) {
    for e in &rows.eips {
        if e.instance_type != Some(AssociatedInstanceType::SlbInstance)
            || !matches!(e.status, EipStatus::Associating | EipStatus::InUse)
        {
            continue;
        }
        let (Some(lb), Ok(eip)) = (e.instance_id.as_deref(), e.ip.parse::<Ipv4Addr>()) else { continue };
        let Some(g) = d.gateways.get_mut(&e.region_id) else { continue };
        let mut backends: Vec<(Ipv4Addr, u16, u16)> = Vec::new();
        for l in rows.clb_listeners.iter().filter(|l| l.lb_id == lb && l.status == "running") {
            backends.clear();
            let weighted: Vec<&ClbBackendRow> =
                rows.clb_backends.iter().filter(|b| b.lb_id == lb && b.weight > 0).collect();
            let abnormal = |b: &ClbBackendRow| {
                l.health_check && rows.abnormal_backends.contains(&(lb.to_owned(), l.port, b.server_id.clone()))
            };
            // Abnormal backends get no new connections, unless every backend
            // is abnormal: then all of them keep getting them (a failing check
            // must not take the whole listener down).
            let all_abnormal = weighted.iter().all(|b| abnormal(b));
            for b in weighted.into_iter().filter(|b| all_abnormal || !abnormal(b)) {
                if let (Some(ip), Ok(port), Ok(w)) =
                    (instance_ip(rows, &b.server_id), u16::try_from(l.backend_port), u16::try_from(b.weight))
                {
                    backends.push((ip, port, w));
                }
            }
            if let (Ok(port), false) = (u16::try_from(l.port), backends.is_empty()) {
                g.clb.push(ClbRule { eip, port, backends: backends.clone() });
            }
        }
    }
    for g in d.gateways.values_mut() {
        g.clb.sort();
    }
}

/// One backend a health check probes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct HealthTarget {
    /// (CLB id, listener port, server id), as [`Rows::abnormal_backends`].
    pub key: (String, i64, String),
    /// The backend's primary private IP and the listener's health-check port.
    pub addr: SocketAddrV4,
    /// Seconds between probes.
    pub interval_s: u16,
    /// Seconds a probe may take.
    pub timeout_s: u16,
    /// Successes in a row that make an abnormal backend normal.
    pub healthy_threshold: u8,
    /// Failures in a row that make a normal backend abnormal.
    pub unhealthy_threshold: u8,
}

/// What the gateways' health checks probe, by region: every backend (any
/// weight) of every running listener with health checks on, of a CLB whose
/// EIP is (being) associated, the listeners [`build`] carries.
pub fn health_targets(rows: &Rows) -> BTreeMap<String, Vec<HealthTarget>> {
    let mut out: BTreeMap<String, Vec<HealthTarget>> = BTreeMap::new();
    for e in &rows.eips {
        if e.instance_type != Some(AssociatedInstanceType::SlbInstance)
            || !matches!(e.status, EipStatus::Associating | EipStatus::InUse)
        {
            continue;
        }
        let Some(lb) = e.instance_id.as_deref() else { continue };
        for l in rows.clb_listeners.iter().filter(|l| l.lb_id == lb && l.status == "running" && l.health_check) {
            let Ok(port) = u16::try_from(l.health_check_port()) else { continue };
            for b in rows.clb_backends.iter().filter(|b| b.lb_id == lb) {
                let Some(ip) = instance_ip(rows, &b.server_id) else { continue };
                out.entry(e.region_id.clone()).or_default().push(HealthTarget {
                    key: (lb.to_owned(), l.port, b.server_id.clone()),
                    addr: SocketAddrV4::new(ip, port),
                    interval_s: l.health_check_interval.clamp(1, 50) as u16,
                    timeout_s: l.health_check_connect_timeout.clamp(1, 300) as u16,
                    healthy_threshold: l.healthy_threshold.clamp(2, 10) as u8,
                    unhealthy_threshold: l.unhealthy_threshold.clamp(2, 10) as u8,
                });
            }
        }
    }
    for v in out.values_mut() {
        v.sort();
        v.dedup_by(|a, b| a.key == b.key);
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use eip_types::{
        ChargeType, EniStatus, EniType, InstanceNetworkType, InstanceStatus, InternetChargeType, NatEipBindMode,
        NatGatewayStatus, NatNetworkType,
    };

    #[test]
    fn nat_translation_agrees_with_build_on_every_row_it_answers_for() {
        let mut rows = sample();
        let mut vis = eip("eip-vis", "198.18.0.9", EipStatus::InUse, Some(("eni-2", "172.16.1.9")));
        vis.instance_type = Some(AssociatedInstanceType::NetworkInterface);
        vis.mode = Some(EipMode::Binded);
        let mut ha = eip("eip-ha", "198.18.0.10", EipStatus::Associating, Some(("havip-1", "172.16.1.100")));
        ha.instance_type = Some(AssociatedInstanceType::HaVip);
        let mut eni = eip("eip-eni", "198.18.0.12", EipStatus::InUse, Some(("eni-3", "172.16.1.12")));
        eni.instance_type = Some(AssociatedInstanceType::NetworkInterface);
        rows.eips.extend([vis, ha, eni]);
        let d = build(1, &rows);
        let mut answered = 0;
        for e in &rows.eips {
            let Some(t) = nat_translation(e) else { continue };
            answered += 1;
            let ip: Ipv4Addr = e.ip.parse().unwrap();
            let g = d.gateways.get(&e.region_id);
            assert_eq!(g.and_then(|g| g.nat.get(&ip)).copied(), t, "{}", e.id);
        }
        assert!(answered >= 3, "the sample has NAT-mode EIPs in several states");
        let undecided = rows.eips.iter().filter(|e| nat_translation(e).is_none()).count();
        assert!(undecided >= 2, "and EIPs on NAT gateways, HaVips or in visible mode");
    }

    pub(crate) fn eip(id: &str, ip: &str, status: EipStatus, target: Option<(&str, &str)>) -> EipRow {
        EipRow {
            id: id.into(),
            account_id: "acc-1".into(),
            region_id: "cn-hangzhou".into(),
            ip: ip.into(),
            status,
            name: String::new(),
            description: String::new(),
            bandwidth: 5,
            charge_type: ChargeType::PostPaid,
            internet_charge_type: InternetChargeType::PayByTraffic,
            isp: "BGP".into(),
            netmode: "public".into(),
            resource_group_id: String::new(),
            allocated_at: 0,
            expired_at: None,
            deletion_protection: false,
            instance_type: target.map(|_| AssociatedInstanceType::EcsInstance),
            instance_id: target.map(|(i, _)| i.to_owned()),
            private_ip: target.map(|(_, p)| p.to_owned()),
            private_vswitch_id: target.map(|_| "vsw-1".to_owned()),
            mode: target.map(|_| EipMode::Nat),
            instance_region_id: target.map(|_| "cn-hangzhou".to_owned()),
            tags: vec![],
            version: 3,
        }
    }

    pub(crate) fn instance(id: &str, region: &str, vsw: &str) -> InstanceRow {
        InstanceRow {
            id: id.into(),
            account_id: "acc-1".into(),
            region_id: region.into(),
            zone_id: format!("{region}-h"),
            network_type: InstanceNetworkType::Vpc,
            vpc_id: Some("vpc-1".into()),
            vswitch_id: Some(vsw.into()),
            security_group_id: None,
            instance_type: "ecs.g7.large".into(),
            image_id: String::new(),
            name: id.into(),
            hostname: id.into(),
            description: String::new(),
            status: InstanceStatus::Running,
            want_running: true,
            internet_charge_type: InternetChargeType::PayByTraffic,
            internet_max_bandwidth_out: 0,
            public_ip: None,
            charge_type: ChargeType::PostPaid,
            cpu: 2,
            memory_mb: 8192,
            created_at: 0,
            started_at: None,
        }
    }

    pub(crate) fn vswitch(id: &str, region: &str, cidr: &str) -> VSwitchRow {
        VSwitchRow {
            id: id.into(),
            account_id: "acc-1".into(),
            region_id: region.into(),
            vpc_id: "vpc-1".into(),
            zone_id: format!("{region}-h"),
            cidr: cidr.into(),
            name: String::new(),
            description: String::new(),
            created_at: 0,
        }
    }

    pub(crate) fn eni(id: &str, instance: &str, vsw: &str, primary: bool) -> EniRow {
        EniRow {
            id: id.into(),
            account_id: "acc-1".into(),
            region_id: "cn-hangzhou".into(),
            zone_id: "cn-hangzhou-h".into(),
            vpc_id: "vpc-1".into(),
            vswitch_id: vsw.into(),
            instance_id: Some(instance.into()),
            kind: if primary { EniType::Primary } else { EniType::Secondary },
            mac: "00:16:3e:00:00:01".into(),
            status: EniStatus::InUse,
            name: String::new(),
            description: String::new(),
            security_group_id: None,
            created_at: 0,
        }
    }

    fn pool(region: &str, cidr: &str) -> PoolRow {
        PoolRow { region_id: region.into(), cidr: cidr.into(), cursor: 0 }
    }

    /// Two instances in cn-hangzhou, one EIP in use, one associating, one
    /// unassociating, one available, and a pool in another region.
    pub(crate) fn sample() -> Rows {
        Rows {
            pools: vec![pool("cn-hangzhou", "198.18.0.0/20"), pool("cn-beijing", "198.18.16.0/20")],
            vswitches: vec![vswitch("vsw-1", "cn-hangzhou", "172.16.1.0/24")],
            instances: vec![instance("i-a", "cn-hangzhou", "vsw-1"), instance("i-b", "cn-hangzhou", "vsw-1")],
            eips: vec![
                eip("eip-in-use", "198.18.0.5", EipStatus::InUse, Some(("i-a", "172.16.1.1"))),
                eip("eip-associating", "198.18.0.6", EipStatus::Associating, Some(("i-b", "172.16.1.2"))),
                eip("eip-leaving", "198.18.0.7", EipStatus::Unassociating, Some(("i-c", "172.16.1.3"))),
                eip("eip-free", "198.18.0.8", EipStatus::Available, None),
            ],
            ..Rows::default()
        }
    }

    #[test]
    fn nat_mode_eips_in_use_or_associating_are_mapped_and_transitions_listed() {
        let d = build(7, &sample());
        assert_eq!(d.generation, 7);
        assert_eq!(d.gateways.keys().collect::<Vec<_>>(), ["cn-hangzhou"]);
        let g = &d.gateways["cn-hangzhou"];
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert_eq!(g.nat, BTreeMap::from([(ip("198.18.0.5"), ip("172.16.1.1")), (ip("198.18.0.6"), ip("172.16.1.2"))]));
        assert_eq!(g.pools, vec![Cidr::parse("198.18.0.0/20").unwrap()]);
        assert!(g.private_nets.contains(&Cidr::parse("172.16.0.0/12").unwrap()));
        let t: Vec<_> = d.transitions.iter().map(|t| (t.eip_id.as_str(), t.status, t.version)).collect();
        assert_eq!(t, [("eip-associating", EipStatus::Associating, 3), ("eip-leaving", EipStatus::Unassociating, 3)]);
    }

    #[test]
    fn vis_03_an_eni_holding_the_eips_own_address_is_forwarded_not_translated() {
        let mut rows = sample();
        let mut own = eip("eip-own", "198.18.5.20", EipStatus::InUse, Some(("eni-9", "198.18.5.20")));
        own.instance_type = Some(AssociatedInstanceType::NetworkInterface);
        own.mode = Some(EipMode::Nat);
        assert_eq!(nat_translation(&own), None, "a full round decides it");
        rows.eips.push(own);
        let d = build(1, &rows);
        let g = &d.gateways["cn-hangzhou"];
        let ip: Ipv4Addr = "198.18.5.20".parse().unwrap();
        assert!(g.visible.contains(&ip));
        assert!(!g.nat.contains_key(&ip));
    }

    #[test]
    fn visible_havip_and_nat_gateway_entries_have_their_own_slots() {
        let mut rows = sample();
        let mut vis = eip("eip-vis", "198.18.0.9", EipStatus::InUse, Some(("eni-2", "172.16.1.9")));
        vis.instance_type = Some(AssociatedInstanceType::NetworkInterface);
        vis.mode = Some(EipMode::Binded);
        let mut ha = eip("eip-ha", "198.18.0.10", EipStatus::InUse, Some(("havip-1", "172.16.1.100")));
        ha.instance_type = Some(AssociatedInstanceType::HaVip);
        ha.private_ip = None;
        rows.havips.push(HaVipRow {
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
        let mut ngw_eip = eip("eip-ngw", "198.18.0.11", EipStatus::InUse, Some(("ngw-1", "172.16.1.50")));
        ngw_eip.instance_type = Some(AssociatedInstanceType::Nat);
        rows.eips.extend([vis, ha, ngw_eip]);
        rows.nat_gateways.push(NatGatewayRow {
            id: "ngw-1".into(),
            account_id: "acc-1".into(),
            region_id: "cn-hangzhou".into(),
            vpc_id: "vpc-1".into(),
            vswitch_id: "vsw-1".into(),
            zone_id: "cn-hangzhou-h".into(),
            name: String::new(),
            description: String::new(),
            status: NatGatewayStatus::Available,
            network_type: NatNetworkType::Internet,
            eip_bind_mode: NatEipBindMode::MultiBinded,
            snat_table_id: "stb-1".into(),
            forward_table_id: "ftb-1".into(),
            full_nat_table_id: "fulltb-1".into(),
            eni_id: "eni-ngw".into(),
            private_ip: "172.16.1.40".into(),
            created_at: 0,
        });
        rows.snat.push(SnatEntryRow {
            id: "snat-1".into(),
            account_id: "acc-1".into(),
            nat_gateway_id: "ngw-1".into(),
            snat_table_id: "stb-1".into(),
            snat_ips: "198.18.0.11".into(),
            source_vswitch_id: Some("vsw-1".into()),
            source_cidr: "172.16.1.0/24".into(),
            name: String::new(),
            created_at: 0,
        });
        rows.forward.push(ForwardEntryRow {
            id: "fwd-1".into(),
            account_id: "acc-1".into(),
            nat_gateway_id: "ngw-1".into(),
            forward_table_id: "ftb-1".into(),
            external_ip: "198.18.0.11".into(),
            external_port: "8080".into(),
            internal_ip: "172.16.1.2".into(),
            internal_port: "80".into(),
            ip_protocol: IpProtocol::Tcp,
            name: String::new(),
            created_at: 0,
        });
        let d = build(1, &rows);
        let g = &d.gateways["cn-hangzhou"];
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert_eq!(g.visible, BTreeSet::from([ip("198.18.0.9")]));
        assert_eq!(g.havip, BTreeMap::from([(ip("198.18.0.10"), ip("172.16.1.100"))]));
        assert!(!g.nat.contains_key(&ip("198.18.0.11")), "NAT gateway EIPs are not 1:1 mappings");
        assert_eq!(
            g.snat,
            vec![SnatRule { source: Cidr::parse("172.16.1.0/24").unwrap(), eips: vec![ip("198.18.0.11")] }]
        );
        assert_eq!(g.dnat.len(), 1);
        assert_eq!(g.dnat[0].external_port, Some(8080));
        assert_eq!(g.mappings().len(), 3);
    }

    /// The sample with a CLB (EIP 198.18.0.20) whose listener 80 -> 8080 has
    /// i-a (172.16.1.1), i-b (172.16.1.2) and i-z (weight 0) as backends.
    fn clb_sample(health_check: bool) -> Rows {
        let mut rows = sample();
        for (i, inst, ip) in [(1, "i-a", "172.16.1.1"), (2, "i-b", "172.16.1.2"), (3, "i-z", "172.16.1.3")] {
            let id = format!("eni-{i}");
            rows.enis.push(eni(&id, inst, "vsw-1", true));
            rows.eni_ips.insert(
                id.clone(),
                vec![PrivateIpRow { vswitch_id: "vsw-1".into(), ip: ip.into(), holder_id: id, is_primary: true }],
            );
        }
        let mut e = eip("eip-clb", "198.18.0.20", EipStatus::InUse, Some(("lb-1", "172.16.1.50")));
        e.instance_type = Some(AssociatedInstanceType::SlbInstance);
        rows.eips.push(e);
        rows.clb_listeners.push(ClbListenerRow {
            lb_id: "lb-1".into(),
            port: 80,
            backend_port: 8080,
            bandwidth: -1,
            status: "running".into(),
            health_check,
            health_check_connect_port: None,
            healthy_threshold: 2,
            unhealthy_threshold: 3,
            health_check_connect_timeout: 5,
            health_check_interval: 1,
        });
        for (server, weight) in [("i-a", 100), ("i-b", 50), ("i-z", 0)] {
            rows.clb_backends.push(ClbBackendRow { lb_id: "lb-1".into(), server_id: server.into(), weight });
        }
        rows
    }

    fn clb_backends(rows: &Rows) -> Vec<(Ipv4Addr, u16, u16)> {
        let d = build(1, rows);
        let [rule] = d.gateways["cn-hangzhou"].clb.as_slice() else { panic!("one listener") };
        rule.backends.clone()
    }

    fn key(server: &str) -> (String, i64, String) {
        ("lb-1".into(), 80, server.into())
    }

    #[test]
    fn clb_rules_leave_abnormal_backends_out_unless_all_are_abnormal() {
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        let (a, b) = ((ip("172.16.1.1"), 8080, 100), (ip("172.16.1.2"), 8080, 50));
        let mut rows = clb_sample(true);
        assert_eq!(clb_backends(&rows), vec![a, b], "weight 0 gets no slot");
        rows.abnormal_backends.insert(key("i-b"));
        assert_eq!(clb_backends(&rows), vec![a], "abnormal i-b is left out");
        rows.abnormal_backends.insert(key("i-z"));
        assert_eq!(clb_backends(&rows), vec![a], "an abnormal weight-0 backend changes nothing");
        rows.abnormal_backends.insert(key("i-a"));
        assert_eq!(clb_backends(&rows), vec![a, b], "all abnormal: all keep their share");
        rows.abnormal_backends = BTreeSet::from([key("i-b"), ("lb-1".into(), 81, "i-a".into())]);
        assert_eq!(clb_backends(&rows), vec![a], "only this listener's results count");
        let mut off = clb_sample(false);
        off.abnormal_backends.insert(key("i-b"));
        assert_eq!(clb_backends(&off), vec![a, b], "health checks off: no backend is left out");
    }

    #[test]
    fn health_targets_are_the_backends_of_running_checked_listeners_of_clbs_with_an_eip() {
        let rows = clb_sample(true);
        let t = health_targets(&rows);
        let got: Vec<_> = t["cn-hangzhou"].iter().map(|t| (t.key.2.as_str(), t.addr.to_string())).collect();
        let want = [("i-a", "172.16.1.1:8080"), ("i-b", "172.16.1.2:8080"), ("i-z", "172.16.1.3:8080")];
        assert_eq!(got, want.map(|(s, a)| (s, a.to_string())));
        let t0 = &t["cn-hangzhou"][0];
        assert_eq!((t0.interval_s, t0.timeout_s, t0.healthy_threshold, t0.unhealthy_threshold), (1, 5, 2, 3));
        let mut port = clb_sample(true);
        port.clb_listeners[0].health_check_connect_port = Some(9000);
        assert!(health_targets(&port)["cn-hangzhou"].iter().all(|t| t.addr.port() == 9000));
        assert!(health_targets(&clb_sample(false)).is_empty(), "health checks off");
        let mut stopped = clb_sample(true);
        stopped.clb_listeners[0].status = "stopped".into();
        assert!(health_targets(&stopped).is_empty(), "a stopped listener");
        let mut no_eip = clb_sample(true);
        no_eip.eips.retain(|e| e.id != "eip-clb");
        assert!(health_targets(&no_eip).is_empty(), "a CLB without an EIP");
    }

    #[test]
    fn a_region_with_nothing_gets_no_gateway() {
        let d = build(1, &Rows { pools: vec![pool("cn-beijing", "198.18.16.0/20")], ..Rows::default() });
        assert!(d.gateways.is_empty());
        assert!(d.transitions.is_empty());
    }
}
