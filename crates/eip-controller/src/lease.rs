//! Data-plane leases: at most one agent programs a region's gateway.
//!
//! An agent (`eipd agent`) on a gateway host takes the lease of every region
//! it serves, all or none in one transaction, and renews it well before it
//! lapses; a standby keeps trying and takes over once the active agent's
//! lease has lapsed (it died, or lost the store). While an agent holds a
//! lease its acknowledgements are fenced: each checks, in its own
//! transaction, that the lease is still its own, so an agent that was paused
//! past its lease cannot complete a transition the new holder did not carry.
//!
//! Lease times are real wall-clock milliseconds, never the control plane's
//! movable clock: moving that clock a month must not hand gateways around.

use crate::Controller;
use crate::clock::real_now_ms;
use eip_store::{Changes, LeaseRow, StoreExt, Tx};
use eip_types::{Error, Result};

/// A process-unique id: host name, process id, start time. Names the holder
/// of leases and task claims.
pub fn process_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0) as u64;
    format!("{}/{}-{:x}", host.trim(), std::process::id(), nanos & 0xffff_ffff)
}

/// An agent's claim: who it is and which regions it serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fence {
    /// The agent's process-unique id.
    pub holder: String,
    /// The regions whose gateways it programs.
    pub regions: Vec<String>,
}

/// What [`decide`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Every region is free, lapsed or already ours: take (or renew) them all.
    Take(Vec<LeaseRow>),
    /// Another holder's lease is live on `region` until `until`: take none.
    Wait {
        /// A region held by someone else.
        region: String,
        /// Its holder.
        holder: String,
        /// When its lease lapses unless renewed.
        until: i64,
    },
}

/// The pure rule: given every lease row, may `fence` take its regions at
/// `now` for `ttl_ms`? All or none, so two agents cannot each hold half.
pub fn decide(rows: &[LeaseRow], fence: &Fence, now: i64, ttl_ms: i64) -> Decision {
    let mut take = Vec::with_capacity(fence.regions.len());
    for region in &fence.regions {
        let current = rows.iter().find(|r| &r.region_id == region);
        let acquired_at = match current {
            Some(r) if r.holder != fence.holder && r.expires_at > now => {
                return Decision::Wait { region: region.clone(), holder: r.holder.clone(), until: r.expires_at };
            }
            // Ours and live: a renewal keeps the original acquisition time.
            Some(r) if r.holder == fence.holder && r.expires_at > now => r.acquired_at,
            _ => now,
        };
        take.push(LeaseRow {
            region_id: region.clone(),
            holder: fence.holder.clone(),
            acquired_at,
            expires_at: now + ttl_ms,
        });
    }
    Decision::Take(take)
}

/// Whether `fence` holds every one of its regions' leases at `now`.
pub fn holds(rows: &[LeaseRow], fence: &Fence, now: i64) -> bool {
    fence
        .regions
        .iter()
        .all(|region| rows.iter().any(|r| &r.region_id == region && r.holder == fence.holder && r.expires_at > now))
}

/// Takes or renews every lease of `fence` for `ttl_ms`, or none. Returns the
/// decision: [`Decision::Take`] means the agent is (still) active.
pub async fn acquire(ctl: &Controller, fence: &Fence, ttl_ms: i64) -> Result<Decision> {
    let fence = fence.clone();
    ctl.store()
        .write(move |tx| {
            // A lease changes nothing a data plane builds.
            tx.note_changes(&Changes::default());
            let d = decide(&tx.lease_list()?, &fence, real_now_ms(), ttl_ms);
            if let Decision::Take(rows) = &d {
                for r in rows {
                    tx.lease_put(r)?;
                }
            }
            Ok(d)
        })
        .await
}

/// Lets every lease of `fence` lapse now (a clean stop), so a standby takes
/// over at once instead of waiting the lease out.
pub async fn release(ctl: &Controller, fence: &Fence) -> Result<usize> {
    let fence = fence.clone();
    ctl.store()
        .write(move |tx| {
            tx.note_changes(&Changes::default());
            let now = real_now_ms();
            let mut n = 0;
            for region in &fence.regions {
                n += usize::from(tx.lease_release(region, &fence.holder, now)?);
            }
            Ok(n)
        })
        .await
}

/// Inside a transaction: refuses when `fence` no longer holds its leases.
pub(crate) fn check(tx: &mut dyn Tx, fence: &Fence) -> Result<()> {
    if holds(&tx.lease_list()?, fence, real_now_ms()) {
        Ok(())
    } else {
        Err(Error::Internal(format!("agent {} no longer holds the lease of {:?}", fence.holder, fence.regions)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(region: &str, holder: &str, acquired_at: i64, expires_at: i64) -> LeaseRow {
        LeaseRow { region_id: region.into(), holder: holder.into(), acquired_at, expires_at }
    }

    fn fence(holder: &str, regions: &[&str]) -> Fence {
        Fence { holder: holder.into(), regions: regions.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn free_or_lapsed_regions_are_taken_and_a_live_lease_of_another_blocks_all() {
        let a = fence("a", &["r1", "r2"]);
        assert_eq!(decide(&[], &a, 100, 50), Decision::Take(vec![row("r1", "a", 100, 150), row("r2", "a", 100, 150)]));
        // r2 held by b until 120: a takes nothing, not even the free r1.
        let rows = [row("r2", "b", 90, 120)];
        assert_eq!(decide(&rows, &a, 100, 50), Decision::Wait { region: "r2".into(), holder: "b".into(), until: 120 });
        // Once b's lease lapsed, a takes both.
        assert!(matches!(decide(&rows, &a, 120, 50), Decision::Take(_)));
    }

    #[test]
    fn a_renewal_keeps_the_acquisition_time_and_holding_needs_every_region_live() {
        let a = fence("a", &["r1", "r2"]);
        let rows = [row("r1", "a", 10, 150), row("r2", "a", 10, 150)];
        assert_eq!(decide(&rows, &a, 100, 50), Decision::Take(vec![row("r1", "a", 10, 150), row("r2", "a", 10, 150)]));
        assert!(holds(&rows, &a, 149));
        assert!(!holds(&rows, &a, 150), "a lease lapses at its expiry");
        assert!(!holds(&rows[..1], &a, 100), "one region missing");
        assert!(!holds(&[row("r1", "a", 10, 150), row("r2", "b", 10, 150)], &a, 100));
    }
}
