//! Public address pools. Each region hands out EIPs from one or more CIDR
//! blocks. Allocation walks a fixed pseudo-random permutation of the block
//! with a persisted cursor, so picking a never-used address is O(1) and needs
//! no row per address; addresses come back into play only after the whole
//! block has been handed out once (which keeps released addresses untouched,
//! and so retrievable, for as long as possible: GEN-03).

use crate::catalogue;
use crate::cidr::Cidr;
use std::net::Ipv4Addr;

/// The lab default range (RFC 2544 benchmarking), never a provider's range.
pub const LAB_RANGE: &str = "198.18.0.0/15";

/// The default pool of a region: the region's /20 slot inside [`LAB_RANGE`].
pub fn default_pool(region: &str) -> Option<Cidr> {
    let idx = catalogue::region_index(region)? as u32;
    let lab = Cidr::parse(LAB_RANGE)?;
    (idx < 32).then(|| Cidr { base: lab.base + idx * 4096, len: 20 })
}

/// A permutation of the usable offsets of a block: every address but the
/// block's first and last, visited once each in a scrambled order.
#[derive(Clone, Copy, Debug)]
pub struct Permutation {
    cidr: Cidr,
    n: u64,
    step: u64,
    seed: u64,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Permutation {
    /// The permutation of `cidr`, derived from the block itself so every node
    /// computes the same order.
    pub fn of(cidr: Cidr) -> Permutation {
        let n = cidr.size().saturating_sub(2).max(1);
        let mut step = (n as f64 * 0.618_033_988_75) as u64 | 1;
        while gcd(step, n) != 1 {
            step += 1;
        }
        let seed = u64::from(cidr.base.rotate_left(7)) % n;
        Permutation { cidr, n, step: step % n.max(1), seed }
    }

    /// How many addresses the permutation visits.
    pub fn len(&self) -> u64 {
        self.n
    }

    /// Whether the block has no usable address.
    pub fn is_empty(&self) -> bool {
        self.cidr.size() < 3
    }

    /// The address at position `cursor` (0-based, `< len()`).
    pub fn at(&self, cursor: u64) -> Option<Ipv4Addr> {
        if cursor >= self.n || self.is_empty() {
            return None;
        }
        let off = ((cursor as u128 * self.step as u128 + self.seed as u128) % self.n as u128) as u64;
        self.cidr.nth(off + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn default_pools_are_disjoint_and_in_the_lab_range() {
        let lab = Cidr::parse(LAB_RANGE).unwrap();
        let pools: Vec<Cidr> = catalogue::REGIONS.iter().map(|r| default_pool(r.id).unwrap()).collect();
        for (i, a) in pools.iter().enumerate() {
            assert!(lab.contains_cidr(a));
            for b in &pools[i + 1..] {
                assert!(!a.overlaps(b));
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn permutation_visits_each_usable_address_once(len in 22u8..=30, slot in 0u32..64) {
            let cidr = Cidr { base: (10u32 << 24) | (slot << (32 - u32::from(len))), len };
            let p = Permutation::of(cidr);
            let seen: HashSet<Ipv4Addr> = (0..p.len()).map(|c| p.at(c).unwrap()).collect();
            proptest::prop_assert_eq!(seen.len() as u64, cidr.size() - 2);
            proptest::prop_assert!(!seen.contains(&Ipv4Addr::from(cidr.base)));
            proptest::prop_assert!(!seen.contains(&Ipv4Addr::from(cidr.last())));
            proptest::prop_assert!(p.at(p.len()).is_none());
        }
    }
}
