//! TCP health checks of CLB backend servers, run from the gateways.
//!
//! Exists so a CLB TCP listener behaves as on Alibaba Cloud: a backend that
//! stops accepting connections stops getting new ones, and comes back when it
//! accepts again. For every running listener with health checks on, of a CLB
//! whose EIP is associated ([`eip_dataplane::desired::health_targets`]), each backend (its
//! primary private IP : `HealthCheckConnectPort`) is probed every
//! `HealthCheckInterval` seconds with a TCP connect that may take
//! `HealthCheckConnectTimeout` seconds, from inside the region's gateway
//! namespace (where the CLB's traffic comes from). [`step`] applies the
//! thresholds: `UnhealthyThreshold` failures in a row make a backend
//! abnormal, `HealthyThreshold` successes in a row make it normal again; a new
//! backend starts normal. Flips go to the controller
//! ([`Controller::report_backend_health`]), which serves them through
//! DescribeHealthStatus and makes the next data-plane round a full one, whose
//! [`eip_dataplane::desired::build`] leaves abnormal backends out of the gateway's rotation.
//!
//! One long-lived thread per gateway namespace: it enters the namespace once
//! (setns) and runs a single-threaded tokio runtime, so every probe socket is
//! opened there and hundreds of probes are in flight without a thread each.

use eip_controller::Controller;
use eip_controller::clb_health::{BackendHealth, BackendKey};
use eip_dataplane::desired::HealthTarget;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Most backends one gateway probes (the rest are not checked and keep
/// getting connections); with intervals of 1 s or more this bounds the probes
/// per second.
pub const MAX_TARGETS: usize = 512;
/// How often a worker looks for due probes.
const TICK: Duration = Duration::from_millis(100);

/// A backend's place in the threshold state machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probed {
    /// Normal, after `failures` failed probes in a row.
    Normal {
        /// Failures in a row so far (below the unhealthy threshold).
        failures: u8,
    },
    /// Abnormal, after `successes` successful probes in a row.
    Abnormal {
        /// Successes in a row so far (below the healthy threshold).
        successes: u8,
    },
}

impl Probed {
    /// A backend not probed yet: normal until proven otherwise.
    pub const NEW: Probed = Probed::Normal { failures: 0 };

    /// The state DescribeHealthStatus shows.
    pub fn health(self) -> BackendHealth {
        match self {
            Probed::Normal { .. } => BackendHealth::Normal,
            Probed::Abnormal { .. } => BackendHealth::Abnormal,
        }
    }
}

/// One probe's result applied: `ok` is whether the connect succeeded in time;
/// `healthy` / `unhealthy` are the listener's thresholds.
pub fn step(state: Probed, ok: bool, healthy: u8, unhealthy: u8) -> Probed {
    match (state, ok) {
        (Probed::Normal { .. }, true) => Probed::Normal { failures: 0 },
        (Probed::Normal { failures }, false) if failures.saturating_add(1) >= unhealthy => {
            Probed::Abnormal { successes: 0 }
        }
        (Probed::Normal { failures }, false) => Probed::Normal { failures: failures + 1 },
        (Probed::Abnormal { .. }, false) => Probed::Abnormal { successes: 0 },
        (Probed::Abnormal { successes }, true) if successes.saturating_add(1) >= healthy => {
            Probed::Normal { failures: 0 }
        }
        (Probed::Abnormal { successes }, true) => Probed::Abnormal { successes: successes + 1 },
    }
}

/// What a worker probes, shared with the data-plane loop.
struct Shared {
    targets: parking_lot::Mutex<Arc<Vec<HealthTarget>>>,
    stop: AtomicBool,
}

struct Worker {
    shared: Arc<Shared>,
    thread: std::thread::JoinHandle<()>,
}

/// The health checks of every gateway.
pub struct Checker {
    ctl: Arc<Controller>,
    /// Namespace → its worker.
    workers: BTreeMap<String, Worker>,
}

impl Checker {
    /// No checks yet.
    pub fn new(ctl: Arc<Controller>) -> Checker {
        Checker { ctl, workers: BTreeMap::new() }
    }

    /// Makes the probes those of `targets` (region → backends), run in each
    /// region's namespace (`namespaces`: region → namespace; a region without
    /// one is not checked). Workers start and stop with their namespace's
    /// targets; a backend still probed keeps its state.
    pub fn set_targets(
        &mut self,
        mut targets: BTreeMap<String, Vec<HealthTarget>>,
        namespaces: &BTreeMap<String, String>,
    ) {
        let mut by_ns: BTreeMap<String, Vec<HealthTarget>> = BTreeMap::new();
        let mut keys: BTreeMap<BackendKey, String> = BTreeMap::new();
        for (region, list) in targets.iter_mut() {
            let Some(ns) = namespaces.get(region) else { continue };
            if list.len() > MAX_TARGETS {
                tracing::warn!(
                    region,
                    backends = list.len(),
                    max = MAX_TARGETS,
                    "too many backends to health-check; the rest are not checked"
                );
                list.truncate(MAX_TARGETS);
            }
            keys.extend(list.iter().map(|t| (t.key.clone(), region.clone())));
            by_ns.entry(ns.clone()).or_default().append(list);
        }
        let regions: BTreeSet<String> = namespaces.keys().cloned().collect();
        let gone: Vec<String> = self.workers.keys().filter(|ns| !by_ns.contains_key(*ns)).cloned().collect();
        for ns in gone {
            self.forget(&ns);
        }
        // Tracked before the workers see them, so their first flips count.
        self.ctl.track_backends(&regions, &keys);
        for (ns, list) in by_ns {
            match self.workers.get(&ns) {
                Some(w) => {
                    let mut t = w.shared.targets.lock();
                    if **t != list {
                        *t = Arc::new(list);
                    }
                }
                None => {
                    let shared = Arc::new(Shared {
                        targets: parking_lot::Mutex::new(Arc::new(list)),
                        stop: AtomicBool::new(false),
                    });
                    let (sh, ctl, name) = (shared.clone(), self.ctl.clone(), ns.clone());
                    match std::thread::Builder::new().name(format!("hc-{ns}")).spawn(move || worker(&name, &sh, &ctl)) {
                        Ok(thread) => {
                            self.workers.insert(ns, Worker { shared, thread });
                        }
                        Err(e) => tracing::error!(namespace = ns, error = %e, "starting health checks failed"),
                    }
                }
            }
        }
    }

    /// Stops the namespace's worker and waits for it (a thread in a namespace
    /// keeps it alive: stop it before the namespace is deleted).
    pub fn forget(&mut self, ns: &str) {
        if let Some(w) = self.workers.remove(ns) {
            w.shared.stop.store(true, Ordering::Relaxed);
            let _ = w.thread.join();
        }
    }

    /// Stops every worker (before the lab is torn down) and forgets every
    /// backend's state.
    pub fn stop_all(&mut self) {
        let all: Vec<String> = self.workers.keys().cloned().collect();
        for ns in all {
            self.forget(&ns);
        }
        self.ctl.track_backends(&BTreeSet::new(), &BTreeMap::new());
    }
}

impl Drop for Checker {
    fn drop(&mut self) {
        let all: Vec<String> = self.workers.keys().cloned().collect();
        for ns in all {
            self.forget(&ns);
        }
    }
}

/// One TCP connect with a deadline; the connection is closed at once.
async fn probe(addr: SocketAddr, timeout: Duration) -> bool {
    matches!(tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await, Ok(Ok(_)))
}

/// A worker thread: probes its namespace's targets until told to stop.
fn worker(ns: &str, shared: &Shared, ctl: &Controller) {
    if let Err(e) = eip_dataplane::enter_netns(ns) {
        tracing::error!(namespace = ns, error = %e, "health checks cannot enter the gateway namespace");
        return;
    }
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(namespace = ns, error = %e, "health checks: no runtime");
            return;
        }
    };
    rt.block_on(async {
        let mut states: HashMap<BackendKey, Probed> = HashMap::new();
        let mut next: HashMap<BackendKey, Instant> = HashMap::new();
        let mut in_flight: HashSet<BackendKey> = HashSet::new();
        let mut probes: tokio::task::JoinSet<(BackendKey, bool)> = tokio::task::JoinSet::new();
        let mut current: Arc<Vec<HealthTarget>> = Arc::new(Vec::new());
        while !shared.stop.load(Ordering::Relaxed) {
            let targets = shared.targets.lock().clone();
            if !Arc::ptr_eq(&targets, &current) {
                let keys: HashSet<&BackendKey> = targets.iter().map(|t| &t.key).collect();
                states.retain(|k, _| keys.contains(k));
                next.retain(|k, _| keys.contains(k));
                current = targets;
            }
            let now = Instant::now();
            for t in current.iter() {
                if in_flight.contains(&t.key) || next.get(&t.key).is_some_and(|n| *n > now) {
                    continue;
                }
                next.insert(t.key.clone(), now + Duration::from_secs(t.interval_s.into()));
                in_flight.insert(t.key.clone());
                let (key, addr, timeout) = (t.key.clone(), SocketAddr::V4(t.addr), Duration::from_secs(t.timeout_s.into()));
                probes.spawn(async move { (key, probe(addr, timeout).await) });
            }
            let deadline = tokio::time::Instant::now() + TICK;
            loop {
                let done = if probes.is_empty() {
                    tokio::time::sleep_until(deadline).await;
                    None
                } else {
                    match tokio::time::timeout_at(deadline, probes.join_next()).await {
                        Ok(Some(Ok(r))) => Some(r),
                        Ok(_) | Err(_) => None,
                    }
                };
                let Some((key, ok)) = done else { break };
                in_flight.remove(&key);
                // A backend no longer probed (its listener changed meanwhile).
                let Some(t) = current.iter().find(|t| t.key == key) else { continue };
                let before = states.get(&key).copied().unwrap_or(Probed::NEW);
                let after = step(before, ok, t.healthy_threshold, t.unhealthy_threshold);
                states.insert(key.clone(), after);
                if before.health() != after.health() && ctl.report_backend_health(&key, after.health()) {
                    tracing::info!(lb = key.0, listener = key.1, server = key.2, backend = %t.addr, health = after.health().as_str(), "CLB backend health changed");
                }
            }
        }
        probes.abort_all();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (state, result) pair, thresholds 2 (healthy) and 3 (unhealthy).
    #[test]
    fn thresholds_every_transition() {
        use Probed::{Abnormal, Normal};
        let cases = [
            (Normal { failures: 0 }, true, Normal { failures: 0 }),
            (Normal { failures: 1 }, true, Normal { failures: 0 }),
            (Normal { failures: 2 }, true, Normal { failures: 0 }),
            (Normal { failures: 0 }, false, Normal { failures: 1 }),
            (Normal { failures: 1 }, false, Normal { failures: 2 }),
            (Normal { failures: 2 }, false, Abnormal { successes: 0 }),
            (Abnormal { successes: 0 }, false, Abnormal { successes: 0 }),
            (Abnormal { successes: 1 }, false, Abnormal { successes: 0 }),
            (Abnormal { successes: 0 }, true, Abnormal { successes: 1 }),
            (Abnormal { successes: 1 }, true, Normal { failures: 0 }),
        ];
        for (from, ok, to) in cases {
            assert_eq!(step(from, ok, 2, 3), to, "{from:?} then {}", if ok { "success" } else { "failure" });
        }
    }

    /// Runs results from a new backend; returns the health after each.
    fn run(results: &[bool], healthy: u8, unhealthy: u8) -> Vec<BackendHealth> {
        let mut s = Probed::NEW;
        results
            .iter()
            .map(|ok| {
                s = step(s, *ok, healthy, unhealthy);
                s.health()
            })
            .collect()
    }

    #[test]
    fn a_new_backend_is_normal_and_flips_only_after_enough_results_in_a_row() {
        use BackendHealth::{Abnormal as A, Normal as N};
        assert_eq!(Probed::NEW.health(), N);
        // Unhealthy threshold 2: two failures in a row, not two in total.
        assert_eq!(run(&[false, true, false, false], 2, 2), [N, N, N, A]);
        // Healthy threshold 3: three successes in a row bring it back.
        assert_eq!(run(&[false, false, true, true, false, true, true, true], 3, 2), [N, A, A, A, A, A, A, N]);
        for (h, u) in [(2, 2), (10, 10), (2, 10), (10, 2)] {
            let mut r = vec![false; usize::from(u)];
            r.extend(vec![true; usize::from(h)]);
            let got = run(&r, h, u);
            assert_eq!(got.iter().position(|x| *x == A), Some(usize::from(u) - 1), "h={h} u={u}");
            assert_eq!(got.last(), Some(&N), "h={h} u={u}");
            assert_eq!(got[got.len() - 2], A, "h={h} u={u}");
        }
    }
}
