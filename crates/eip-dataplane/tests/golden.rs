//! Golden files for the rendered nftables batches: the exact text the kernel
//! gets. `UPDATE_GOLDEN=1 cargo test -p eip-dataplane --test golden` rewrites
//! them; review the diff like code.

use eip_dataplane::Cidr;
use eip_dataplane::desired::{ClbRule, DnatRule, GatewayState, SnatRule};
use eip_dataplane::render;
use eip_types::IpProtocol;
use std::net::Ipv4Addr;
use std::path::PathBuf;

fn check(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1 to create it)", path.display()));
    assert_eq!(actual, expected, "{name} differs from the golden file (UPDATE_GOLDEN=1 rewrites it)");
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn gateway() -> GatewayState {
    GatewayState {
        pools: vec![Cidr::parse("198.18.80.0/20").unwrap()],
        private_nets: ["10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16"]
            .iter()
            .map(|c| Cidr::parse(c).unwrap())
            .collect(),
        nat: [("198.18.80.5", "172.16.1.1"), ("198.18.80.6", "172.16.1.2")]
            .iter()
            .map(|(e, p)| (ip(e), ip(p)))
            .collect(),
        havip: [(ip("198.18.80.7"), ip("172.16.1.100"))].into(),
        visible: [ip("198.18.80.9")].into(),
        snat: vec![SnatRule { source: Cidr::parse("172.16.2.0/24").unwrap(), eips: vec![ip("198.18.80.11")] }],
        dnat: vec![
            DnatRule {
                eip: ip("198.18.80.11"),
                external_port: Some(8081),
                internal_ip: ip("172.16.2.5"),
                internal_port: Some(80),
                protocol: IpProtocol::Tcp,
            },
            DnatRule {
                eip: ip("198.18.80.12"),
                external_port: None,
                internal_ip: ip("172.16.2.6"),
                internal_port: None,
                protocol: IpProtocol::Any,
            },
        ],
        clb: vec![ClbRule {
            eip: ip("198.18.80.13"),
            port: 80,
            backends: vec![(ip("172.16.3.5"), 8080, 100), (ip("172.16.3.6"), 8080, 100), (ip("172.16.3.7"), 8080, 50)],
        }],
        uplink: None,
    }
}

#[test]
fn empty_gateway_has_only_guards() {
    let g = GatewayState { pools: gateway().pools, private_nets: gateway().private_nets, ..GatewayState::default() };
    check("empty.nft", &render::full(&g).script);
}

#[test]
fn full_resync_with_every_slot() {
    check("full.nft", &render::full(&gateway()).script);
}

#[test]
fn delta_unassociate_and_associate() {
    let old = gateway();
    let mut new = old.clone();
    new.nat.remove(&ip("198.18.80.6"));
    new.nat.insert(ip("198.18.80.8"), ip("172.16.1.3"));
    new.visible.clear();
    check("delta.nft", &render::delta(&old, &new).unwrap().script);
}
