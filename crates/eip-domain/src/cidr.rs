//! IPv4 CIDR arithmetic for VPCs, vSwitches and address pools.

use std::net::Ipv4Addr;

/// An IPv4 block, normalised so the host bits of `base` are zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    /// First address as an integer.
    pub base: u32,
    /// Prefix length, 0..=32.
    pub len: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n`. Host bits must be zero, as the cloud requires.
    pub fn parse(s: &str) -> Option<Cidr> {
        let (addr, len) = s.split_once('/')?;
        let addr: Ipv4Addr = addr.parse().ok()?;
        if len.is_empty() || len.len() > 2 || !len.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let len: u8 = len.parse().ok()?;
        if len > 32 {
            return None;
        }
        let base = u32::from(addr);
        (base & !Self::mask_of(len) == 0).then_some(Cidr { base, len })
    }

    fn mask_of(len: u8) -> u32 {
        if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) }
    }

    /// Number of addresses.
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.len))
    }

    /// Last address as an integer.
    pub fn last(&self) -> u32 {
        self.base | !Self::mask_of(self.len)
    }

    /// Whether `ip` is inside.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & Self::mask_of(self.len) == self.base
    }

    /// Whether `other` lies entirely inside `self`.
    pub fn contains_cidr(&self, other: &Cidr) -> bool {
        other.len >= self.len && other.base & Self::mask_of(self.len) == self.base
    }

    /// Whether the two blocks share an address.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.contains_cidr(other) || other.contains_cidr(self)
    }

    /// The address at `offset` from the base.
    pub fn nth(&self, offset: u64) -> Option<Ipv4Addr> {
        (offset < self.size()).then(|| Ipv4Addr::from(self.base.wrapping_add(offset as u32)))
    }

    /// Whether the block is inside one of the RFC 1918 ranges (allowed VPC CIDRs).
    pub fn is_private(&self) -> bool {
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
            .iter()
            .filter_map(|s| Cidr::parse(s))
            .any(|p| p.contains_cidr(self))
    }

    /// Usable host addresses of a vSwitch: Alibaba reserves the first address
    /// and the last three of every vSwitch block.
    pub fn vswitch_usable(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        let size = self.size();
        (1..size.saturating_sub(3)).filter_map(move |o| self.nth(o))
    }

    /// Whether `ip` is a usable (non-reserved) vSwitch address.
    pub fn vswitch_is_usable(&self, ip: Ipv4Addr) -> bool {
        let v = u32::from(ip);
        self.contains(ip) && v != self.base && v < self.last().saturating_sub(2)
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.base), self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_relations() {
        let vpc = Cidr::parse("172.16.0.0/12").unwrap();
        let vsw = Cidr::parse("172.16.1.0/24").unwrap();
        assert!(vpc.contains_cidr(&vsw) && vpc.is_private());
        assert!(vsw.overlaps(&Cidr::parse("172.16.1.128/25").unwrap()));
        assert!(!vsw.overlaps(&Cidr::parse("172.16.2.0/24").unwrap()));
        assert!(Cidr::parse("172.16.1.1/24").is_none(), "host bits set");
        assert!(Cidr::parse("300.1.1.0/24").is_none());
        assert!(!Cidr::parse("198.18.0.0/15").unwrap().is_private());
    }

    #[test]
    fn vswitch_reserved_addresses() {
        let vsw = Cidr::parse("192.168.1.0/24").unwrap();
        let usable: Vec<_> = vsw.vswitch_usable().collect();
        assert_eq!(usable.first(), Some(&Ipv4Addr::new(192, 168, 1, 1)));
        assert_eq!(usable.last(), Some(&Ipv4Addr::new(192, 168, 1, 252)));
        assert_eq!(usable.len(), 252);
        assert!(!vsw.vswitch_is_usable(Ipv4Addr::new(192, 168, 1, 253)));
        assert!(vsw.vswitch_is_usable(Ipv4Addr::new(192, 168, 1, 252)));
        assert!(!vsw.vswitch_is_usable(Ipv4Addr::new(192, 168, 1, 0)));
    }
}
