//! Per-EIP traffic totals from the gateways' accounting sets.
//!
//! Exists because the kernel's counters are per address and reset whenever a
//! table is replaced or an element re-created, while DescribeEipMonitorData
//! wants monotonic totals per allocation: a counter that went down was reset,
//! so its whole value is new traffic; growth is attributed to whoever owns
//! the address.

use eip_controller::monitor::Totals;
use eip_dataplane::desired::Rows;
use eip_dataplane::kernel::NftCli;
use eip_dataplane::render::Count;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// Counter readings and totals.
#[derive(Default)]
pub struct Meter {
    /// Last raw reading per (region, address, inbound).
    last: BTreeMap<(String, Ipv4Addr, bool), Count>,
    /// Totals per allocation id.
    totals: BTreeMap<String, Totals>,
    /// Who owns each public address (region, address) → allocation id.
    owner: BTreeMap<(String, Ipv4Addr), String>,
}

impl Meter {
    /// A meter whose totals go on from `totals` (restored after a restart).
    pub fn resume(totals: BTreeMap<String, Totals>) -> Meter {
        Meter { totals, ..Meter::default() }
    }

    /// Re-learns the owners from a full snapshot.
    pub fn learn_all(&mut self, rows: &Rows) {
        self.owner =
            rows.eips.iter().filter_map(|e| Some(((e.region_id.clone(), e.ip.parse().ok()?), e.id.clone()))).collect();
    }

    /// Learns one owner (an EIP the fast path just associated).
    pub fn learn(&mut self, region: &str, ip: Ipv4Addr, allocation_id: &str) {
        self.owner.insert((region.to_owned(), ip), allocation_id.to_owned());
    }

    /// Reads the counters of every gateway (region → namespace) and returns
    /// the totals so far.
    pub fn sample(&mut self, namespaces: &BTreeMap<String, String>) -> BTreeMap<String, Totals> {
        for (region, ns) in namespaces {
            for (set, inbound) in [("eip_rx", true), ("eip_tx", false)] {
                let counts = match NftCli.counters(ns, set) {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, region = %region, "reading the EIP counters failed");
                        continue;
                    }
                };
                for (ip, c) in counts {
                    let prev = self.last.insert((region.clone(), ip, inbound), c);
                    let new = match prev {
                        Some(p) if c.bytes >= p.bytes && c.packets >= p.packets => {
                            Count { packets: c.packets - p.packets, bytes: c.bytes - p.bytes }
                        }
                        _ => c,
                    };
                    let Some(id) = self.owner.get(&(region.clone(), ip)) else { continue };
                    let t = self.totals.entry(id.clone()).or_default();
                    if inbound {
                        t.rx_bytes += new.bytes;
                        t.rx_packets += new.packets;
                    } else {
                        t.tx_bytes += new.bytes;
                        t.tx_packets += new.packets;
                    }
                }
            }
        }
        self.totals.clone()
    }
}
