//! Health of CLB backend servers, as the data plane's health checks find
//! it, served by SLB `DescribeHealthStatus`.
//!
//! Exists so the API answers from what the gateways really measured: the
//! data plane's checker [`ClbHealth::track`]s the backends it probes (every
//! backend of a running listener with health checks on, on a CLB whose EIP is
//! associated; a new one starts `normal`) and [`Controller::report_backend_health`]s
//! each flip between `normal` and `abnormal`, which also makes the data
//! plane's next round a full one so the gateway stops (or resumes) sending new
//! connections to the backend. Without a data plane nothing is tracked and
//! every backend reads `unavailable`, as Alibaba reports for a listener without
//! health checks.

use crate::Controller;
use std::collections::{BTreeMap, BTreeSet};

/// One backend of one listener: (CLB id, listener port, server id).
pub type BackendKey = (String, i64, String);

/// A checked backend's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendHealth {
    /// Gets new connections.
    Normal,
    /// Failed `UnhealthyThreshold` probes in a row: no new connections.
    Abnormal,
}

impl BackendHealth {
    /// As DescribeHealthStatus spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendHealth::Normal => "normal",
            BackendHealth::Abnormal => "abnormal",
        }
    }
}

/// The backends being checked and their states.
#[derive(Debug, Default)]
pub struct ClbHealth {
    states: parking_lot::Mutex<BTreeMap<BackendKey, BackendHealth>>,
}

impl ClbHealth {
    /// Makes `keys` the checked backends: new ones start `normal`, those not
    /// in `keys` are forgotten (they read `unavailable` again). Returns whether
    /// a forgotten backend was abnormal.
    pub fn track(&self, keys: &BTreeSet<BackendKey>) -> bool {
        let mut s = self.states.lock();
        let mut dropped_abnormal = false;
        s.retain(|k, v| {
            let keep = keys.contains(k);
            dropped_abnormal |= !keep && *v == BackendHealth::Abnormal;
            keep
        });
        for k in keys {
            s.entry(k.clone()).or_insert(BackendHealth::Normal);
        }
        dropped_abnormal
    }

    /// Sets a tracked backend's state; returns whether it changed (an
    /// untracked backend is ignored: its listener went away meanwhile).
    pub fn set(&self, key: &BackendKey, health: BackendHealth) -> bool {
        match self.states.lock().get_mut(key) {
            Some(v) if *v != health => {
                *v = health;
                true
            }
            _ => false,
        }
    }

    /// A backend's state, when it is checked.
    pub fn get(&self, key: &BackendKey) -> Option<BackendHealth> {
        self.states.lock().get(key).copied()
    }

    /// The abnormal backends (what the gateway leaves out of the rotation).
    pub fn abnormal(&self) -> BTreeSet<BackendKey> {
        self.states.lock().iter().filter(|(_, v)| **v == BackendHealth::Abnormal).map(|(k, _)| k.clone()).collect()
    }
}

impl Controller {
    /// Health of CLB backends as the data plane's checks find it.
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
    pub fn track_backends(&self, keys: &BTreeSet<BackendKey>) {
        if self.clb_health.track(keys) {
            self.changed(|c| c.other = true);
        }
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
        assert_eq!(h.get(&key("i-1")), None, "unchecked: unavailable");
        assert!(!h.set(&key("i-1"), BackendHealth::Abnormal), "an untracked backend is ignored");
        assert!(!h.track(&BTreeSet::from([key("i-1"), key("i-2")])));
        assert_eq!(h.get(&key("i-1")), Some(BackendHealth::Normal));
        assert!(h.set(&key("i-2"), BackendHealth::Abnormal));
        assert!(!h.set(&key("i-2"), BackendHealth::Abnormal), "no flip, no change");
        assert_eq!(h.abnormal(), BTreeSet::from([key("i-2")]));
        // Tracking again keeps the states of the backends still checked.
        assert!(!h.track(&BTreeSet::from([key("i-1"), key("i-2")])));
        assert_eq!(h.get(&key("i-2")), Some(BackendHealth::Abnormal));
        assert!(h.track(&BTreeSet::from([key("i-1")])), "an abnormal backend was forgotten");
        assert_eq!(h.get(&key("i-2")), None);
        assert!(h.abnormal().is_empty());
    }
}
