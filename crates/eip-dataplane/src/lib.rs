//! The data plane of openeip: what makes an association real.
//!
//! The control plane decides; this crate makes the kernel agree, in four
//! steps that are each a module so each can be tested on its own:
//!
//! - [`desired`]: a pure snapshot of what every region's gateway must do,
//!   built from store rows ([`desired::build`]). No I/O, so the mapping from
//!   rows to NAT entries is unit-tested without a kernel.
//! - [`render`]: turns one gateway's desired state into one nftables batch for
//!   one table (`table ip openeip`), either a full resync (delete and re-add the
//!   table, one kernel transaction) or a delta of map elements. Rules are fixed;
//!   every per-EIP fact lives in maps and sets, so a new connection costs the
//!   same at 1 or 100k EIPs. Golden files pin the output.
//! - [`kernel`]: the only module that touches the host, behind the [`kernel::Kernel`]
//!   trait: apply a batch in a namespace, read the table back, delete conntrack
//!   entries. [`kernel::NftCli`] runs `ip netns exec NS nft -f -` and `conntrack -D`;
//!   [`kernel::FakeKernel`] models the same semantics in memory for tests.
//! - [`reconciler`]: applies desired generations, remembers what it applied,
//!   deletes the conntrack entries of unmapped EIPs after the maps changed
//!   (never before), reads the kernel back and repairs drift.
//!
//! [`lab`] builds a small cloud of network namespaces on one machine (an
//! internet, one gateway per region, a bridge per vSwitch, a namespace per ECS
//! instance) so the above can be exercised with real TCP.
//!
//! Speed: the `nft` CLI costs 1.5–20 ms per change, mostly process start-up
//! and the netlink socket's close. [`netlink::NftNetlink`] keeps one netlink
//! socket open per gateway namespace (`netlink-packet-netfilter` for nf_tables
//! and ctnetlink), where a map element change costs microseconds; `nft -f`
//! stays for bootstrap and full resync.

pub mod desired;
pub mod kernel;
pub mod lab;
pub mod netlink;
pub mod reconciler;
pub mod render;

pub use eip_domain::cidr::Cidr;
pub use netlink::NftNetlink;

/// The nftables table the data plane owns in each gateway namespace. It never
/// touches any other table.
pub const TABLE: &str = "openeip";

/// Prefix of every namespace the lab creates (instance namespaces are named
/// after their instance id instead).
pub const NS_PREFIX: &str = "openeip-";

/// The namespace standing for the internet in the lab.
pub const INTERNET_NS: &str = "openeip-internet";

/// The gateway namespace of a region.
pub fn gateway_ns(region: &str) -> String {
    format!("{NS_PREFIX}gw-{region}")
}

/// Moves the calling thread into the named network namespace
/// (`/run/netns/<ns>`). Sockets it opens afterwards live there, even after
/// the thread ends; so do the connections it makes.
pub fn enter_netns(ns: &str) -> std::io::Result<()> {
    let file = std::fs::File::open(format!("/run/netns/{ns}"))?;
    rustix::thread::move_into_link_name_space(
        std::os::fd::AsFd::as_fd(&file),
        Some(rustix::thread::LinkNameSpaceType::Network),
    )?;
    Ok(())
}

/// Formats a prefix as `a.b.c.d/n`.
pub fn cidr_text(c: &Cidr) -> String {
    format!("{}/{}", std::net::Ipv4Addr::from(c.base), c.len)
}
