//! Health of CLB backend servers, as the data plane's health checks find
//! it, served by SLB `DescribeHealthStatus`.
//!
//! Exists so the API answers from what the gateways really measured: the
//! data plane's checker [`ClbHealth::track`]s the backends it probes (every
//! backend of a running listener with health checks on, on a CLB whose EIP is
//! associated; a new one starts `normal`) and [`Controller::report_backend_health`]s
//! each flip between `normal` and `abnormal`, which also makes the data
//! plane's next round a full one so the gateway stops (or resumes) sending new
//! connections to the backend. The states live here, in the process that
//! runs the checks, and the data-plane loop [`Controller::publish_backend_health`]s
//! them to the store whenever they changed (the regions it serves replaced as
//! a whole, in order): DescribeHealthStatus reads the store, so every node
//! answers alike, also when the checks run in an agent on another host.
//! Without a data plane nothing is tracked and every backend reads
//! `unavailable`, as Alibaba reports for a listener without health checks.

use crate::Controller;
use eip_store::{BackendHealthRow, Changes, StoreExt};
use std::collections::{BTreeMap, BTreeSet};

pub use eip_types::BackendHealth;

/// One backend of one listener: (CLB id, listener port, server id).
pub type BackendKey = (String, i64, String);

/// How often the checked backends are written again even when nothing
/// changed: a region another process cleared (a data plane handing over
/// while the next one already wrote) is whole again within this.
pub const REFRESH: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Debug, Default)]
struct States {
    /// Checked backends: their region and state.
    backends: BTreeMap<BackendKey, (String, BackendHealth)>,
    /// Regions checked here, as of the last [`ClbHealth::track`].
    served: BTreeSet<String>,
    /// Regions no longer checked here whose rows are still to be cleared.
    dropped: BTreeSet<String>,
    /// Bumped by every change.
    generation: u64,
}

#[derive(Debug, Default)]
struct Published {
    generation: u64,
    at: Option<std::time::Instant>,
}

/// The backends being checked and their states.
#[derive(Debug, Default)]
pub struct ClbHealth {
    states: parking_lot::Mutex<States>,
    /// What was last written to the store (publications run one at a time,
    /// from the data-plane loop).
    published: parking_lot::Mutex<Published>,
}

impl ClbHealth {
    /// Makes `keys` (backend → its region) the checked backends, and
    /// `regions` the regions checked here: new backends start `normal`, those
    /// not in `keys` are forgotten (they read `unavailable` again). Returns
    /// whether a forgotten backend was abnormal.
    pub fn track(&self, regions: &BTreeSet<String>, keys: &BTreeMap<BackendKey, String>) -> bool {
        let mut s = self.states.lock();
        let mut dropped_abnormal = false;
        let mut changed = false;
        s.backends.retain(|k, (_, v)| {
            let keep = keys.contains_key(k);
            dropped_abnormal |= !keep && *v == BackendHealth::Abnormal;
            changed |= !keep;
            keep
        });
        for (k, region) in keys {
            match s.backends.get_mut(k) {
                Some((r, _)) if r == region => {}
                Some((r, _)) => {
                    *r = region.clone();
                    changed = true;
                }
                None => {
                    s.backends.insert(k.clone(), (region.clone(), BackendHealth::Normal));
                    changed = true;
                }
            }
        }
        if s.served != *regions {
            let gone: Vec<String> = s.served.difference(regions).cloned().collect();
            s.dropped.extend(gone);
            for r in regions {
                s.dropped.remove(r);
            }
            s.served = regions.clone();
            changed = true;
        }
        if changed {
            s.generation += 1;
        }
        dropped_abnormal
    }

    /// Sets a tracked backend's state; returns whether it changed (an
    /// untracked backend is ignored: its listener went away meanwhile).
    pub fn set(&self, key: &BackendKey, health: BackendHealth) -> bool {
        let mut s = self.states.lock();
        match s.backends.get_mut(key) {
            Some((_, v)) if *v != health => *v = health,
            _ => return false,
        }
        s.generation += 1;
        true
    }

    /// A backend's state, when it is checked here.
    pub fn get(&self, key: &BackendKey) -> Option<BackendHealth> {
        self.states.lock().backends.get(key).map(|(_, h)| *h)
    }

    /// The abnormal backends (what the gateway leaves out of the rotation).
    pub fn abnormal(&self) -> BTreeSet<BackendKey> {
        let s = self.states.lock();
        s.backends.iter().filter(|(_, (_, v))| *v == BackendHealth::Abnormal).map(|(k, _)| k.clone()).collect()
    }

    /// What to write when something changed since the last publication, or
    /// [`REFRESH`] passed since it: the generation, the regions to replace
    /// (those checked here and those to clear) and their rows.
    fn unpublished(&self) -> Option<(u64, Vec<String>, Vec<BackendHealthRow>)> {
        let s = self.states.lock();
        let p = self.published.lock();
        let stale = p.at.is_some_and(|t| t.elapsed() >= REFRESH) && !s.served.is_empty();
        if s.generation == p.generation && !stale {
            return None;
        }
        let rows = s
            .backends
            .iter()
            .map(|((lb, port, server), (region, health))| BackendHealthRow {
                region_id: region.clone(),
                lb_id: lb.clone(),
                listener_port: *port,
                server_id: server.clone(),
                health: *health,
            })
            .collect();
        let regions = s.served.union(&s.dropped).cloned().collect();
        Some((s.generation, regions, rows))
    }

    /// Marks `generation` written for `regions`.
    fn published(&self, generation: u64, regions: &[String]) {
        let mut s = self.states.lock();
        *self.published.lock() = Published { generation, at: Some(std::time::Instant::now()) };
        for r in regions {
            s.dropped.remove(r);
        }
    }
}

impl Controller {
    /// Health of CLB backends as this process's data-plane checks find it.
    pub fn clb_health(&self) -> &ClbHealth {
        &self.clb_health
    }

    /// Records a checked backend's new state; when it flipped, the data
    /// plane's next round is a full one (the gateway's rotation changes).
    /// Returns whether it flipped.
    pub fn report_backend_health(&self, key: &BackendKey, health: BackendHealth) -> bool {
        let flipped = self.clb_health.set(key, health);
        if flipped {
            self.changed(|c| c.other = true);
        }
        flipped
    }

    /// [`ClbHealth::track`], and a full round when an abnormal backend was
    /// forgotten (it goes back into the rotation).
    pub fn track_backends(&self, regions: &BTreeSet<String>, keys: &BTreeMap<BackendKey, String>) {
        if self.clb_health.track(regions, keys) {
            self.changed(|c| c.other = true);
        }
    }

    /// Writes the checked backends of the regions served here to the store,
    /// where DescribeHealthStatus reads them, when they changed or
    /// [`REFRESH`] passed (otherwise a no-op). Called by the data-plane loop, one at a time; a failed
    /// write is tried again by the next call. Redoable: health is measured
    /// again after a crash.
    pub async fn publish_backend_health(&self) -> eip_types::Result<()> {
        let Some((generation, regions, rows)) = self.clb_health.unpublished() else {
            return Ok(());
        };
        let written = regions.clone();
        self.store()
            .write_redoable(move |tx| {
                tx.backend_health_replace(&regions, &rows)?;
                tx.note_changes(&Changes::default());
                Ok(())
            })
            .await?;
        self.clb_health.published(generation, &written);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(server: &str) -> BackendKey {
        ("lb-1".into(), 80, server.into())
    }

    #[test]
    fn tracked_backends_start_normal_flip_and_are_forgotten() {
        let h = ClbHealth::default();
        let regions = BTreeSet::from(["cn-a".to_owned()]);
        let keys = |ks: &[BackendKey]| ks.iter().map(|k| (k.clone(), "cn-a".to_owned())).collect();
        assert_eq!(h.get(&key("i-1")), None, "unchecked: unavailable");
        assert!(!h.set(&key("i-1"), BackendHealth::Abnormal), "an untracked backend is ignored");
        assert!(!h.track(&regions, &keys(&[key("i-1"), key("i-2")])));
        assert_eq!(h.get(&key("i-1")), Some(BackendHealth::Normal));
        assert!(h.set(&key("i-2"), BackendHealth::Abnormal));
        assert!(!h.set(&key("i-2"), BackendHealth::Abnormal), "no flip, no change");
        assert_eq!(h.abnormal(), BTreeSet::from([key("i-2")]));
        // Tracking again keeps the states of the backends still checked.
        assert!(!h.track(&regions, &keys(&[key("i-1"), key("i-2")])));
        assert_eq!(h.get(&key("i-2")), Some(BackendHealth::Abnormal));
        assert!(h.track(&regions, &keys(&[key("i-1")])), "an abnormal backend was forgotten");
        assert_eq!(h.get(&key("i-2")), None);
        assert!(h.abnormal().is_empty());
    }

    #[test]
    fn changes_are_published_once_per_generation_and_dropped_regions_cleared() {
        let h = ClbHealth::default();
        let a = BTreeSet::from(["cn-a".to_owned()]);
        let one = || BTreeMap::from([(key("i-1"), "cn-a".to_owned())]);
        assert!(h.unpublished().is_none(), "nothing tracked, nothing to write");
        h.track(&a, &one());
        let (g, regions, rows) = h.unpublished().unwrap();
        assert_eq!((regions.clone(), rows.len()), (vec!["cn-a".to_owned()], 1));
        h.published(g, &regions);
        assert!(h.unpublished().is_none(), "published");
        h.track(&a, &one());
        assert!(h.unpublished().is_none(), "the same backends again: nothing new");
        assert!(h.set(&key("i-1"), BackendHealth::Abnormal));
        let (g2, regions, rows) = h.unpublished().unwrap();
        assert_eq!(rows[0].health, BackendHealth::Abnormal);
        // A change while the write ran stays to be written.
        assert!(h.set(&key("i-1"), BackendHealth::Normal));
        h.published(g2, &regions);
        let (g3, regions, rows) = h.unpublished().unwrap();
        assert_eq!(rows[0].health, BackendHealth::Normal);
        h.published(g3, &regions);
        // No longer serving the region: its rows are cleared once.
        h.track(&BTreeSet::new(), &BTreeMap::new());
        let (g4, regions, rows) = h.unpublished().unwrap();
        assert_eq!((regions.clone(), rows), (vec!["cn-a".to_owned()], vec![]));
        h.published(g4, &regions);
        assert!(h.unpublished().is_none(), "cleared, and nothing served: no refresh either");
    }
}
