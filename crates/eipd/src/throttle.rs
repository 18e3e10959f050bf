//! The API edge's per-account rate limiter (`serve --throttle`): one token
//! bucket ([`eip_domain::throttle::Bucket`]) per account and action, kept in
//! this node's memory. With several nodes behind a balancer each node keeps
//! its own, so an account gets up to N times the allowance (docs/quotas.md).
//! Bounded: at most [`MAX_BUCKETS`] buckets; when that many are live, full
//! ones are forgotten first.

use eip_domain::throttle::{Bucket, Limit};
use parking_lot::Mutex;
use std::collections::HashMap;

/// Most buckets kept at once (about 10 MiB).
pub const MAX_BUCKETS: usize = 100_000;

/// The limits in force and the buckets.
pub struct Throttle {
    limits: HashMap<String, Limit>,
    buckets: Mutex<HashMap<(String, &'static str), Bucket>>,
}

impl Throttle {
    /// A limiter for these allowances per action name.
    pub fn new(limits: HashMap<String, Limit>) -> Throttle {
        Throttle { limits, buckets: Mutex::new(HashMap::new()) }
    }

    /// The allowances in force, sorted by action (for the start-up banner).
    pub fn describe(&self) -> String {
        let mut v: Vec<String> = self.limits.iter().map(|(a, l)| format!("{a} {l}")).collect();
        v.sort();
        v.join(", ")
    }

    /// Takes a call of `action` by `account` at `now` (ms), or says how long
    /// to wait (ms) before the next one passes.
    pub fn check(&self, account: &str, action: &'static str, now: i64) -> Result<(), u64> {
        let Some(&limit) = self.limits.get(action) else { return Ok(()) };
        let mut buckets = self.buckets.lock();
        let key = (account.to_owned(), action);
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(&key) {
            let limits = &self.limits;
            buckets.retain(|(_, a), b| limits.get(*a).is_some_and(|l| !b.is_full(*l, now)));
            if buckets.len() >= MAX_BUCKETS {
                // Every one is busy: start over rather than grow (fails open).
                buckets.clear();
            }
        }
        buckets.entry(key).or_insert_with(|| Bucket::full(limit, now)).take(limit, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_per_second() -> Throttle {
        Throttle::new(HashMap::from([("AllocateEipAddress".to_owned(), Limit { calls: 2, per_ms: 1000 })]))
    }

    #[test]
    fn each_account_has_its_own_allowance_per_action() {
        let t = two_per_second();
        assert_eq!(t.check("a", "AllocateEipAddress", 0), Ok(()));
        assert_eq!(t.check("a", "AllocateEipAddress", 0), Ok(()));
        assert_eq!(t.check("a", "AllocateEipAddress", 0), Err(500));
        assert_eq!(t.check("b", "AllocateEipAddress", 0), Ok(()), "another account");
        assert_eq!(t.check("a", "DescribeEipAddresses", 0), Ok(()), "an action without a limit");
        assert_eq!(t.check("a", "AllocateEipAddress", 500), Ok(()));
    }

    #[test]
    fn buckets_stay_bounded() {
        let t = two_per_second();
        for i in 0..MAX_BUCKETS + 10 {
            let _ = t.check(&format!("acc-{i}"), "AllocateEipAddress", 0);
        }
        assert!(t.buckets.lock().len() <= MAX_BUCKETS);
        // Later, full buckets make room first.
        assert_eq!(t.check("late", "AllocateEipAddress", 10_000), Ok(()));
        assert!(t.buckets.lock().len() <= MAX_BUCKETS);
    }
}
