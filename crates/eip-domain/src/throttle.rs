//! Per-account API rate limits ("flow control"), like the cloud's: each
//! account has its own allowance per action, shared by all its AccessKeys.
//! A call beyond it is refused with `Throttling.User` and told how long to
//! wait. Off unless `eipd serve --throttle` (or a `--throttle-limit`) turns
//! it on.
//!
//! Each allowance is a token bucket: `calls` tokens that refill evenly over
//! `per_ms`, so a burst of `calls` passes at once and the rate after it is
//! `calls / per_ms`. Pure: the caller keeps the buckets and the clock.

use std::fmt;

/// An allowance: `calls` calls per `per_ms` milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Calls allowed in one period (the burst).
    pub calls: u32,
    /// The period, in ms.
    pub per_ms: u64,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}s", self.calls, self.per_ms / 1000)
    }
}

/// The limits the cloud publishes, per action (`../shared/spec/billing-quotas.md`
/// §6: only AllocateEipAddress's is public).
pub const PUBLISHED: &[(&str, Limit)] = &[("AllocateEipAddress", Limit { calls: 120, per_ms: 60_000 })];

/// Parses `ACTION=CALLS/SECONDS` (`AllocateEipAddress=120/60`).
pub fn parse_limit(s: &str) -> Result<(String, Limit), String> {
    let bad = || format!("{s:?} is not ACTION=CALLS/SECONDS (e.g. AllocateEipAddress=120/60)");
    let (action, rate) = s.split_once('=').ok_or_else(bad)?;
    let (calls, secs) = rate.split_once('/').ok_or_else(bad)?;
    let calls: u32 = calls.trim().parse().map_err(|_| bad())?;
    let secs: u64 = secs.trim().parse().map_err(|_| bad())?;
    let action = action.trim();
    if action.is_empty() || !action.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(bad());
    }
    if calls == 0 || !(1..=86_400).contains(&secs) || calls > 1_000_000 {
        return Err(format!("{s:?}: CALLS is 1 to 1000000 and SECONDS 1 to 86400"));
    }
    Ok((action.to_owned(), Limit { calls, per_ms: secs * 1000 }))
}

/// One account's allowance for one action.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    tokens: f64,
    at_ms: i64,
}

impl Bucket {
    /// A bucket with the whole allowance, at `now`.
    pub fn full(limit: Limit, now: i64) -> Bucket {
        Bucket { tokens: f64::from(limit.calls), at_ms: now }
    }

    fn refill(&mut self, limit: Limit, now: i64) {
        let elapsed = (now - self.at_ms).max(0) as f64;
        let rate = f64::from(limit.calls) / limit.per_ms as f64;
        self.tokens = (self.tokens + elapsed * rate).min(f64::from(limit.calls));
        self.at_ms = self.at_ms.max(now);
    }

    /// Takes one call's token at `now`, or says how many ms until one is there.
    pub fn take(&mut self, limit: Limit, now: i64) -> Result<(), u64> {
        self.refill(limit, now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let rate = f64::from(limit.calls) / limit.per_ms as f64;
        Err((((1.0 - self.tokens) / rate).ceil() as u64).max(1))
    }

    /// Whether the bucket is full again at `now` (it can be forgotten).
    pub fn is_full(&self, limit: Limit, now: i64) -> bool {
        let mut b = *self;
        b.refill(limit, now);
        b.tokens >= f64::from(limit.calls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Limit = Limit { calls: 120, per_ms: 60_000 };

    #[test]
    fn a_burst_of_the_allowance_passes_then_the_rate_holds() {
        let mut b = Bucket::full(L, 0);
        for _ in 0..120 {
            assert_eq!(b.take(L, 0), Ok(()));
        }
        // One token every 500 ms.
        assert_eq!(b.take(L, 0), Err(500));
        assert_eq!(b.take(L, 250), Err(250));
        assert_eq!(b.take(L, 500), Ok(()));
        assert_eq!(b.take(L, 500), Err(500));
        assert!(!b.is_full(L, 30_000));
        assert!(b.is_full(L, 61_000));
        // A full bucket does not overflow.
        for _ in 0..120 {
            assert_eq!(b.take(L, 200_000), Ok(()));
        }
        assert!(b.take(L, 200_000).is_err());
    }

    #[test]
    fn a_clock_running_back_changes_nothing() {
        let mut b = Bucket::full(L, 10_000);
        for _ in 0..120 {
            b.take(L, 10_000).unwrap();
        }
        assert!(b.take(L, 5_000).is_err());
        assert_eq!(b.take(L, 10_500), Ok(()));
    }

    #[test]
    fn limits_parse_and_refuse_nonsense() {
        assert_eq!(parse_limit("AllocateEipAddress=120/60"), Ok(("AllocateEipAddress".into(), L)));
        for bad in ["", "X", "X=1", "X=0/60", "X=1/0", "X=1/100000", "=1/1", "A-b=1/1", "X=-1/1", "X=1.5/1"] {
            assert!(parse_limit(bad).is_err(), "{bad:?} parsed");
        }
        assert_eq!(PUBLISHED[0].1.to_string(), "120/60s");
    }
}
