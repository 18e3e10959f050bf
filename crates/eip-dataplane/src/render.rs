//! Rendering a gateway's desired state into nftables batches.
//!
//! Exists so the exact text the kernel gets is a pure function, pinned by
//! golden files. The design rules, from the data-plane measurements:
//!
//! - one table, `table ip openeip`, and nothing outside it;
//! - a fixed set of chains and rules; every per-EIP fact is a map or set
//!   element (`eip2priv`, `priv2eip`, `visible`), never a rule, so lookups
//!   stay O(1) whatever the number of EIPs;
//! - a full resync is `add table` + `delete table` + the whole table in one
//!   `nft -f` batch: one kernel transaction, no window without guards;
//! - guards are always there: forward policy drop except translated,
//!   visible or established traffic; no private source leaves through the
//!   uplink; traffic still addressed to a pool address after DNAT (an
//!   unassociated EIP) is dropped.

use crate::desired::GatewayState;
use crate::{TABLE, cidr_text};
use eip_types::IpProtocol;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::net::Ipv4Addr;

/// The gateway's interface towards the internet.
pub const UPLINK: &str = "pub0";

/// The cloud's internal service range (metadata, DNS, ...): a visible-mode
/// EIP is a public address, so the gateway refuses it as a source towards
/// this range (VIS-02); the guest reaches it through its primary ENI.
pub const SERVICE_NET: &str = "100.64.0.0/10";

/// What a batch does, in terms a fake kernel can apply and a reader can check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// The table is replaced by this content.
    Full(TableState),
    /// Map and set elements change; the table must exist and every deleted
    /// element must be present (else the kernel refuses the whole batch).
    Delta(Delta),
}

/// Element changes of a delta batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delta {
    /// Translation entries removed (EIP, private).
    pub unmap: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// Translation entries added (EIP, private).
    pub map: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// Visible EIPs removed.
    pub unvisible: Vec<Ipv4Addr>,
    /// Visible EIPs added.
    pub visible: Vec<Ipv4Addr>,
}

/// One `nft -f` input and its meaning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// The script.
    pub script: String,
    /// What it does.
    pub effect: Effect,
}

/// The part of the table the reconciler reads back and compares: the chains
/// and the per-EIP elements. (Interval sets are left out: the kernel merges
/// their elements, so they do not read back verbatim.)
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableState {
    /// Chain names.
    pub chains: BTreeSet<String>,
    /// `eip2priv`.
    pub eip2priv: BTreeMap<Ipv4Addr, Ipv4Addr>,
    /// `priv2eip`.
    pub priv2eip: BTreeMap<Ipv4Addr, Ipv4Addr>,
    /// `visible`.
    pub visible: BTreeSet<Ipv4Addr>,
}

/// The chains every table has.
pub const CHAINS: [&str; 8] =
    ["prerouting", "pool_guard", "forward", "input", "postrouting", "egress_guard", "acct_in", "acct_out"];

/// The per-EIP accounting sets (inbound, outbound): dynamic sets whose
/// elements, one per public address, carry a packet and byte counter.
pub const ACCOUNTING_SETS: [&str; 2] = ["eip_rx", "eip_tx"];

/// What reading the table back should give once `g` is applied.
pub fn expected(g: &GatewayState) -> TableState {
    let m = g.mappings();
    TableState {
        chains: CHAINS.iter().map(|c| c.to_string()).collect(),
        priv2eip: m.iter().map(|(e, p)| (*p, *e)).collect(),
        eip2priv: m,
        visible: g.visible.clone(),
    }
}

fn elements<I: IntoIterator<Item = String>>(out: &mut String, items: I) {
    let items: Vec<String> = items.into_iter().collect();
    if items.is_empty() {
        return;
    }
    out.push_str("\t\telements = {\n");
    let n = items.len();
    for (i, it) in items.into_iter().enumerate() {
        let sep = if i + 1 < n { "," } else { "" };
        let _ = writeln!(out, "\t\t\t{it}{sep}");
    }
    out.push_str("\t\t}\n");
}

/// The full resync batch: replaces the table atomically.
pub fn full(g: &GatewayState) -> Batch {
    let mut s = String::new();
    let _ = writeln!(s, "# openeip gateway table: generated, replaced whole on every resync.");
    // `add table` first so that `delete table` succeeds on a fresh namespace;
    // all three statements are one transaction.
    let _ = writeln!(s, "add table ip {TABLE}");
    let _ = writeln!(s, "delete table ip {TABLE}");
    let _ = writeln!(s, "table ip {TABLE} {{");

    s.push_str("\t# the region's public pools: a pool address not translated below is dropped\n");
    s.push_str("\tset pool {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tauto-merge\n");
    elements(&mut s, g.pools.iter().map(cidr_text));
    s.push_str("\t}\n");

    s.push_str("\t# sources that must never reach the uplink untranslated\n");
    s.push_str("\tset private {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tauto-merge\n");
    elements(&mut s, g.private_nets.iter().map(cidr_text));
    s.push_str("\t}\n");

    s.push_str("\t# visible-mode EIPs: routed to the ENI, not translated\n");
    s.push_str("\tset visible {\n\t\ttype ipv4_addr\n");
    elements(&mut s, g.visible.iter().map(|ip| ip.to_string()));
    s.push_str("\t}\n");

    let m = g.mappings();
    s.push_str("\t# NAT mode (ECS, ENI, HaVip, CLB): EIP -> private address\n");
    s.push_str("\tmap eip2priv {\n\t\ttype ipv4_addr : ipv4_addr\n");
    elements(&mut s, m.iter().map(|(e, p)| format!("{e} : {p}")));
    s.push_str("\t}\n");
    s.push_str("\tmap priv2eip {\n\t\ttype ipv4_addr : ipv4_addr\n");
    let rev: BTreeMap<_, _> = m.iter().map(|(e, p)| (*p, *e)).collect();
    elements(&mut s, rev.iter().map(|(p, e)| format!("{p} : {e}")));
    s.push_str("\t}\n");

    s.push_str("\t# NAT gateway SNAT entries: source block -> EIP\n");
    s.push_str("\tmap snat_src {\n\t\ttype ipv4_addr : ipv4_addr\n\t\tflags interval\n");
    elements(&mut s, g.snat.iter().filter_map(|r| r.eips.first().map(|e| format!("{} : {e}", cidr_text(&r.source)))));
    s.push_str("\t}\n");

    let (ports, whole) = forward_elements(g);
    s.push_str("\t# NAT gateway forward (DNAT) entries with ports: EIP . protocol . port -> private . port\n");
    s.push_str("\tmap fwd_port {\n\t\ttype ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service\n");
    elements(&mut s, ports);
    s.push_str("\t}\n");
    s.push_str("\t# NAT gateway forward entries of any protocol and port (IP mapping): EIP -> private\n");
    s.push_str("\tmap fwd_ip {\n\t\ttype ipv4_addr : ipv4_addr\n");
    elements(&mut s, whole);
    s.push_str("\t}\n");
    s.push_str("\t# CLB TCP listeners: EIP . port . slot (numgen random mod CLB_SLOTS) -> backend . port\n");
    let _ = writeln!(
        s,
        "\tmap clb_be {{\n\t\ttypeof ip daddr . tcp dport . numgen random mod {CLB_SLOTS} : ip daddr . tcp dport"
    );
    elements(&mut s, clb_elements(g));
    s.push_str("\t}\n");
    s.push_str("\t# per-EIP accounting: one counted element per public address seen on the uplink\n");
    for set in ACCOUNTING_SETS {
        let _ =
            writeln!(s, "\tset {set} {{\n\t\ttype ipv4_addr\n\t\tsize 1048576\n\t\tflags dynamic\n\t\tcounter\n\t}}");
    }

    let up = g.uplink.as_deref().unwrap_or(UPLINK);
    let _ = write!(
        s,
        "\tchain prerouting {{
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\tiifname != \"{up}\" return
\t\tmeta l4proto tcp dnat ip to ip daddr . tcp dport . numgen random mod {CLB_SLOTS} map @clb_be
\t\tdnat to ip daddr map @eip2priv
\t\tmeta l4proto {{ tcp, udp }} dnat ip to ip daddr . meta l4proto . th dport map @fwd_port
\t\tdnat to ip daddr map @fwd_ip
\t}}
\tchain pool_guard {{
\t\ttype filter hook prerouting priority dstnat + 10; policy accept;
\t\tiifname != \"{up}\" return
\t\tip daddr @visible return
\t\tip daddr @pool counter drop
\t}}
\tchain forward {{
\t\ttype filter hook forward priority filter; policy drop;
\t\tct state established,related accept
\t\tct state invalid drop
\t\tiifname \"{up}\" ct status dnat accept
\t\tiifname \"{up}\" ip daddr @visible accept
\t\tip saddr @visible ip daddr {SERVICE_NET} counter drop
\t\tiifname != \"{up}\" accept
\t}}
\tchain input {{
\t\ttype filter hook input priority filter; policy accept;
\t\tip saddr @visible ip daddr {SERVICE_NET} counter drop
\t\tiifname != \"{up}\" accept
\t\tct state established,related accept
\t\tcounter drop
\t}}
\tchain postrouting {{
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\toifname != \"{up}\" return
\t\tsnat to ip saddr map @priv2eip
\t\tsnat to ip saddr map @snat_src
\t}}
\tchain egress_guard {{
\t\ttype filter hook postrouting priority srcnat + 10; policy accept;
\t\toifname \"{up}\" ip saddr @private counter drop
\t}}
\tchain acct_in {{
\t\ttype filter hook prerouting priority raw; policy accept;
\t\tiifname \"{up}\" ip daddr @pool update @eip_rx {{ ip daddr }}
\t}}
\tchain acct_out {{
\t\ttype filter hook postrouting priority srcnat + 20; policy accept;
\t\toifname \"{up}\" ip saddr @pool update @eip_tx {{ ip saddr }}
\t}}
}}
"
    );
    Batch { script: s, effect: Effect::Full(expected(g)) }
}

/// Slots per CLB listener: a new connection picks one at random
/// (`numgen random mod CLB_SLOTS`); the slots are shared among the backends in
/// proportion to their weights, so the rule set stays fixed and a listener is
/// only map elements. Established connections keep their backend (conntrack).
pub const CLB_SLOTS: u32 = 16;

/// The elements of `clb_be`.
fn clb_elements(g: &GatewayState) -> Vec<String> {
    let mut out = Vec::new();
    for r in &g.clb {
        let total: u32 = r.backends.iter().map(|b| u32::from(b.2)).sum();
        if total == 0 {
            continue;
        }
        // Every backend gets at least one slot (while slots last); the rest
        // follow the weights, by smooth weighted round robin.
        let mut current: Vec<i64> = vec![0; r.backends.len()];
        for slot in 0..CLB_SLOTS {
            let pick = if (slot as usize) < r.backends.len() {
                slot as usize
            } else {
                for (c, b) in current.iter_mut().zip(&r.backends) {
                    *c += i64::from(b.2);
                }
                let i = (0..current.len()).max_by_key(|&i| (current[i], std::cmp::Reverse(i))).unwrap_or(0);
                current[i] -= i64::from(total);
                i
            };
            let (ip, port, _) = r.backends[pick];
            out.push(format!("{} . {} . {slot} : {ip} . {port}", r.eip, r.port));
        }
    }
    out
}

/// The elements of `fwd_port` and `fwd_ip` for the gateway's forward
/// entries. A TCP or UDP entry with ports goes to `fwd_port` (`Any` with
/// ports to both protocols); an `Any` entry without ports is an IP mapping
/// (`fwd_ip`). Entries with neither shape (a port range) are not carried.
fn forward_elements(g: &GatewayState) -> (Vec<String>, Vec<String>) {
    let (mut ports, mut whole) = (BTreeSet::new(), BTreeSet::new());
    for d in &g.dnat {
        match (d.protocol, d.external_port, d.internal_port) {
            (IpProtocol::Any, None, None) => {
                whole.insert(format!("{} : {}", d.eip, d.internal_ip));
            }
            (proto, Some(ext), Some(int)) => {
                let protos: &[&str] = match proto {
                    IpProtocol::Tcp => &["tcp"],
                    IpProtocol::Udp => &["udp"],
                    IpProtocol::Any => &["tcp", "udp"],
                };
                for p in protos {
                    ports.insert(format!("{} . {p} . {ext} : {} . {int}", d.eip, d.internal_ip));
                }
            }
            _ => tracing::warn!(eip = %d.eip, "forward entry without a single port on both sides; not carried"),
        }
    }
    (ports.into_iter().collect(), whole.into_iter().collect())
}

/// Whether `old` and `new` differ only in per-EIP elements, so a delta batch
/// can take one to the other.
pub fn delta_possible(old: &GatewayState, new: &GatewayState) -> bool {
    old.pools == new.pools
        && old.uplink == new.uplink
        && old.private_nets == new.private_nets
        && old.snat == new.snat
        && old.dnat == new.dnat
        && old.clb == new.clb
}

/// The element changes taking `old` to `new` (None when nothing changes or
/// when something beyond elements differs: use [`full`] then). A re-mapped
/// EIP is deleted and re-added in the same batch.
pub fn delta(old: &GatewayState, new: &GatewayState) -> Option<Batch> {
    if !delta_possible(old, new) {
        return None;
    }
    let (om, nm) = (old.mappings(), new.mappings());
    let mut d = Delta::default();
    for (e, p) in &om {
        if nm.get(e) != Some(p) {
            d.unmap.push((*e, *p));
        }
    }
    for (e, p) in &nm {
        if om.get(e) != Some(p) {
            d.map.push((*e, *p));
        }
    }
    d.unvisible = old.visible.difference(&new.visible).copied().collect();
    d.visible = new.visible.difference(&old.visible).copied().collect();
    if d == Delta::default() {
        return None;
    }
    Some(Batch { script: delta_script(&d), effect: Effect::Delta(d) })
}

/// The batch of an element delta computed elsewhere (the reconciler's fast
/// path, which knows the change without comparing whole states).
pub fn delta_batch(d: Delta) -> Batch {
    Batch { script: delta_script(&d), effect: Effect::Delta(d) }
}

fn delta_script(d: &Delta) -> String {
    let mut s = String::new();
    let list = |v: &mut dyn Iterator<Item = String>| v.collect::<Vec<_>>().join(", ");
    if !d.unmap.is_empty() {
        let _ = writeln!(
            s,
            "delete element ip {TABLE} eip2priv {{ {} }}",
            list(&mut d.unmap.iter().map(|(e, _)| e.to_string()))
        );
        let _ = writeln!(
            s,
            "delete element ip {TABLE} priv2eip {{ {} }}",
            list(&mut d.unmap.iter().map(|(_, p)| p.to_string()))
        );
    }
    if !d.unvisible.is_empty() {
        let _ = writeln!(
            s,
            "delete element ip {TABLE} visible {{ {} }}",
            list(&mut d.unvisible.iter().map(|e| e.to_string()))
        );
    }
    if !d.map.is_empty() {
        let _ = writeln!(
            s,
            "add element ip {TABLE} eip2priv {{ {} }}",
            list(&mut d.map.iter().map(|(e, p)| format!("{e} : {p}")))
        );
        let _ = writeln!(
            s,
            "add element ip {TABLE} priv2eip {{ {} }}",
            list(&mut d.map.iter().map(|(e, p)| format!("{p} : {e}")))
        );
    }
    if !d.visible.is_empty() {
        let _ =
            writeln!(s, "add element ip {TABLE} visible {{ {} }}", list(&mut d.visible.iter().map(|e| e.to_string())));
    }
    s
}

/// EIPs whose translation `old` had and `new` lacks or changes (1:1 maps,
/// visible set, or a NAT gateway EIP no SNAT/forward entry uses any more):
/// their conntrack entries must go once the batch is applied.
pub fn unmapped(old: &GatewayState, new: &GatewayState) -> Vec<Ipv4Addr> {
    let nm = new.mappings();
    let mut out: Vec<Ipv4Addr> =
        old.mappings().into_iter().filter(|(e, p)| nm.get(e) != Some(p)).map(|(e, _)| e).collect();
    out.extend(old.visible.difference(&new.visible));
    // A NAT gateway EIP no SNAT or forward entry uses any more.
    let natgw = |g: &GatewayState| -> BTreeSet<Ipv4Addr> {
        g.snat.iter().flat_map(|r| r.eips.iter().copied()).chain(g.dnat.iter().map(|d| d.eip)).collect()
    };
    out.extend(natgw(old).difference(&natgw(new)));
    out.sort();
    out.dedup();
    out
}

/// Packets and bytes counted for one address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Count {
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
}

/// Parses `nft -j list set ip openeip eip_rx` (or `eip_tx`): the counter of
/// every element.
pub fn parse_counters(json: &str) -> Result<BTreeMap<Ipv4Addr, Count>, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("nft JSON: {e}"))?;
    let items = v.get("nftables").and_then(|x| x.as_array()).ok_or("nft JSON: no nftables array")?;
    let mut out = BTreeMap::new();
    for it in items {
        let Some(elems) = it.get("set").and_then(|s| s.get("elem")).and_then(|x| x.as_array()) else { continue };
        for e in elems {
            let Some(e) = e.get("elem") else { continue };
            let ip = e.get("val").and_then(|x| x.as_str()).and_then(|x| x.parse().ok());
            let c = e.get("counter");
            let n = |k: &str| c.and_then(|c| c.get(k)).and_then(|x| x.as_u64()).unwrap_or(0);
            if let Some(ip) = ip {
                out.insert(ip, Count { packets: n("packets"), bytes: n("bytes") });
            }
        }
    }
    Ok(out)
}

/// Parses `nft -j list table ip openeip` output into the compared state.
pub fn parse_listing(json: &str) -> Result<TableState, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("nft JSON: {e}"))?;
    let items = v.get("nftables").and_then(|x| x.as_array()).ok_or("nft JSON: no nftables array")?;
    let mut t = TableState::default();
    let ip = |x: &serde_json::Value| -> Result<Ipv4Addr, String> {
        x.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| format!("nft JSON: not an address: {x}"))
    };
    for it in items {
        if let Some(c) = it.get("chain") {
            if c.get("table").and_then(|x| x.as_str()) == Some(TABLE)
                && let Some(n) = c.get("name").and_then(|x| x.as_str())
            {
                t.chains.insert(n.to_owned());
            }
            continue;
        }
        let (obj, is_map) = match (it.get("map"), it.get("set")) {
            (Some(m), _) => (m, true),
            (None, Some(s)) => (s, false),
            _ => continue,
        };
        let name = obj.get("name").and_then(|x| x.as_str()).unwrap_or_default();
        let elems = obj.get("elem").and_then(|x| x.as_array()).cloned().unwrap_or_default();
        match (is_map, name) {
            (true, "eip2priv" | "priv2eip") => {
                let m = if name == "eip2priv" { &mut t.eip2priv } else { &mut t.priv2eip };
                for e in &elems {
                    let pair = e.as_array().ok_or("nft JSON: map element is not a pair")?;
                    if pair.len() != 2 {
                        return Err("nft JSON: map element is not a pair".into());
                    }
                    m.insert(ip(&pair[0])?, ip(&pair[1])?);
                }
            }
            (false, "visible") => {
                for e in &elems {
                    t.visible.insert(ip(e)?);
                }
            }
            _ => {}
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::{build, tests::sample};

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn clb_slots_follow_weights_and_cover_every_backend() {
        let count = |backends: Vec<(Ipv4Addr, u16, u16)>| {
            let g = GatewayState {
                clb: vec![crate::desired::ClbRule { eip: ip("198.18.0.9"), port: 80, backends }],
                ..GatewayState::default()
            };
            let els = clb_elements(&g);
            assert_eq!(els.len(), CLB_SLOTS as usize);
            let mut n = BTreeMap::new();
            for e in els {
                *n.entry(e.split(" : ").nth(1).unwrap().to_owned()).or_insert(0) += 1;
            }
            n
        };
        let even = count(vec![(ip("10.0.0.1"), 8080, 100), (ip("10.0.0.2"), 8080, 100)]);
        assert_eq!(even.values().copied().collect::<Vec<_>>(), vec![8, 8]);
        let skew = count(vec![(ip("10.0.0.1"), 8080, 100), (ip("10.0.0.2"), 8080, 1)]);
        assert_eq!(skew["10.0.0.2 . 8080"], 1, "a light backend still gets a slot");
        assert_eq!(skew["10.0.0.1 . 8080"], 15);
    }

    #[test]
    fn an_operator_uplink_replaces_the_lab_one_everywhere() {
        let mut g = crate::desired::build(1, &crate::desired::tests::sample()).gateways["cn-hangzhou"].clone();
        let lab = full(&g).script;
        g.uplink = Some("ens5".into());
        let op = full(&g).script;
        assert!(!op.contains(UPLINK), "{op}");
        assert_eq!(op.matches("\"ens5\"").count(), lab.matches(&format!("\"{UPLINK}\"")).count());
        let old = crate::desired::build(1, &crate::desired::tests::sample()).gateways["cn-hangzhou"].clone();
        assert!(!delta_possible(&old, &g), "a new uplink means new rules: full resync");
    }

    #[test]
    fn delta_adds_removes_and_remaps_in_one_batch() {
        let old = build(1, &sample()).gateways["cn-hangzhou"].clone();
        let mut new = old.clone();
        new.nat.remove(&ip("198.18.0.5"));
        new.nat.insert(ip("198.18.0.6"), ip("172.16.1.9")); // re-mapped
        new.nat.insert(ip("198.18.0.20"), ip("172.16.1.20"));
        let b = delta(&old, &new).unwrap();
        assert_eq!(
            b.script,
            "delete element ip openeip eip2priv { 198.18.0.5, 198.18.0.6 }\n\
             delete element ip openeip priv2eip { 172.16.1.1, 172.16.1.2 }\n\
             add element ip openeip eip2priv { 198.18.0.6 : 172.16.1.9, 198.18.0.20 : 172.16.1.20 }\n\
             add element ip openeip priv2eip { 172.16.1.9 : 198.18.0.6, 172.16.1.20 : 198.18.0.20 }\n"
        );
        assert_eq!(unmapped(&old, &new), vec![ip("198.18.0.5"), ip("198.18.0.6")]);
        assert!(delta(&old, &old).is_none());
        let mut pools = old.clone();
        pools.pools.clear();
        assert!(delta(&old, &pools).is_none(), "a pool change needs a full resync");
    }

    #[test]
    fn a_nat_gateway_eip_left_by_every_entry_is_unmapped() {
        use crate::desired::{DnatRule, SnatRule};
        let mut old = build(1, &sample()).gateways["cn-hangzhou"].clone();
        old.snat.push(SnatRule { source: crate::Cidr::parse("172.16.1.0/24").unwrap(), eips: vec![ip("198.18.0.11")] });
        old.dnat.push(DnatRule {
            eip: ip("198.18.0.12"),
            external_port: Some(80),
            internal_ip: ip("172.16.1.2"),
            internal_port: Some(8080),
            protocol: eip_types::IpProtocol::Tcp,
        });
        let mut new = old.clone();
        new.dnat.clear();
        assert!(delta(&old, &new).is_none(), "entries change the rules' maps: full resync");
        assert_eq!(unmapped(&old, &new), vec![ip("198.18.0.12")]);
        assert!(full(&old).script.contains("198.18.0.12 . tcp . 80 : 172.16.1.2 . 8080"));
    }

    #[test]
    fn accounting_sets_parse_into_counts() {
        let json = r#"{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"set": {"family": "ip", "name": "eip_rx", "table": "openeip", "type": "ipv4_addr", "elem": [{"elem": {"val": "198.18.0.5", "counter": {"packets": 8, "bytes": 1164}}}], "stmt": [{"counter": null}]}}]}"#;
        let c = parse_counters(json).unwrap();
        assert_eq!(c[&ip("198.18.0.5")], Count { packets: 8, bytes: 1164 });
        assert_eq!(parse_counters(r#"{"nftables": [{"set": {"name": "eip_rx"}}]}"#).unwrap().len(), 0);
    }

    #[test]
    fn listing_parses_maps_sets_and_chains() {
        let json = r#"{"nftables": [{"metainfo": {"version": "1.0.6"}},
            {"table": {"family": "ip", "name": "openeip", "handle": 2}},
            {"map": {"family": "ip", "name": "eip2priv", "table": "openeip", "type": "ipv4_addr", "map": "ipv4_addr", "elem": [["198.18.0.5", "172.16.1.1"]]}},
            {"map": {"family": "ip", "name": "priv2eip", "table": "openeip", "type": "ipv4_addr", "map": "ipv4_addr"}},
            {"set": {"family": "ip", "name": "visible", "table": "openeip", "type": "ipv4_addr", "elem": ["198.18.0.9"]}},
            {"set": {"family": "ip", "name": "pool", "table": "openeip", "type": "ipv4_addr", "flags": ["interval"], "elem": [{"prefix": {"addr": "198.18.0.0", "len": 20}}]}},
            {"chain": {"family": "ip", "table": "openeip", "name": "prerouting", "handle": 1}}]}"#;
        let t = parse_listing(json).unwrap();
        assert_eq!(t.eip2priv, BTreeMap::from([(ip("198.18.0.5"), ip("172.16.1.1"))]));
        assert!(t.priv2eip.is_empty());
        assert_eq!(t.visible, BTreeSet::from([ip("198.18.0.9")]));
        assert_eq!(t.chains, BTreeSet::from(["prerouting".to_string()]));
    }
}
