//! The loop that drives the data plane from the store, and only then
//! acknowledges the EIP transitions it carried, so `InUse` means packets flow
//! and `Available` means no flow of the old association survives. It runs
//! embedded next to the API (`eipd serve --lab` / `--gateway`) or alone on a
//! gateway host (`eipd agent`, which holds a lease per region so that one
//! agent at a time programs a gateway).
//!
//! One loop, woken by the controller's changes, runs one of two rounds:
//!
//! - a *fast round* when only EIP actions wrote (the common case: associate,
//!   unassociate): it re-reads just those EIP rows and patches the gateways'
//!   maps with one netlink transaction, so its cost does not grow with the
//!   number of EIPs;
//! - a *full round* otherwise (instances, ENIs, NAT gateways, HaVips, CLBs, a
//!   write by another process, after a failure, or when a fast round cannot
//!   decide alone): a snapshot of the whole store, the lab brought to it, each
//!   gateway's table diffed and applied.
//!
//! Besides, the tables are read back now and then to repair drift, the
//! per-EIP counters are sampled for DescribeEipMonitorData, and CLB backends
//! are health-checked from the gateways ([`health_check`]).

pub mod health;
mod health_check;
pub mod leased;
mod meter;

use health::DataplaneHealth;

use eip_controller::monitor::Totals;
use eip_controller::{Controller, tasks};
use eip_dataplane::NftNetlink;
use eip_dataplane::desired::{self, Transition};
use eip_dataplane::lab::{self, Lab};
use eip_dataplane::reconciler::{PatchError, Reconciler};
use eip_store::StoreExt;
use eip_types::{EipStatus, EniStatus};
use meter::Meter;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How often the loop wakes without a change notification: to see whether
/// another process wrote to the store, and to sample counters.
const POLL: Duration = Duration::from_secs(2);
/// How often the tables are read back and compared, at least (reading back a
/// large table is not free: the interval grows so that drift checks take at
/// most 1/[`DRIFT_BUDGET`] of the time).
const DRIFT_CHECK: Duration = Duration::from_secs(10);
/// See [`DRIFT_CHECK`].
const DRIFT_BUDGET: u32 = 200;
/// How often the per-EIP counters are read (reading them lists whole sets,
/// which is not free with many EIPs; DescribeEipMonitorData's finest period
/// is 60 s).
const METER_EVERY: Duration = Duration::from_secs(5);

/// The file listing the namespaces the lab made.
pub fn record_path(data_dir: &Path) -> PathBuf {
    data_dir.join("lab-namespaces")
}

/// Whether this host can run the lab; the reason when not.
pub fn check_host() -> Result<(), String> {
    if !cfg!(target_os = "linux") {
        return Err("--lab needs Linux (network namespaces and nftables)".into());
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"));
    if !root {
        return Err("--lab needs root (it creates network namespaces and nftables tables)".into());
    }
    for (tool, arg) in [("ip", "-V"), ("nft", "--version"), ("conntrack", "--version")] {
        let ok = std::process::Command::new(tool).arg(arg).output().map(|o| o.status.success()).unwrap_or(false);
        if !ok {
            return Err(format!("--lab needs `{tool}` (Debian: iproute2, nftables, conntrack)"));
        }
    }
    Ok(())
}

/// Where the data plane runs.
pub enum Mode {
    /// `--lab`: namespaces eipd builds (recorded in the data directory) and
    /// removes on a clean stop.
    Lab {
        /// The data directory.
        data_dir: PathBuf,
    },
    /// `--gateway REGION=NETNS`: the table of each named region goes into a
    /// namespace the operator made, with a real uplink. eipd creates no
    /// namespace, link or route, and leaves the tables in place when it stops
    /// (forwarding goes on while the control plane restarts).
    Operator {
        /// Region → namespace.
        gateways: BTreeMap<String, String>,
        /// The uplink's name in every gateway namespace.
        uplink: String,
    },
}

/// Checks that each operator-named namespace exists and holds the uplink.
pub fn check_gateways(gateways: &BTreeMap<String, String>, uplink: &str) -> Result<(), String> {
    for (region, ns) in gateways {
        if !Path::new("/run/netns").join(ns).exists() {
            return Err(format!(
                "--gateway {region}={ns}: no network namespace {ns} (create it with `ip netns add {ns}`, or name the host's own with `ip netns attach {ns} 1`)"
            ));
        }
        let out = std::process::Command::new("ip")
            .args(["-n", ns, "link", "show", "dev", uplink])
            .output()
            .map_err(|e| format!("running ip: {e}"))?;
        if !out.status.success() {
            return Err(format!("--gateway {region}={ns}: namespace {ns} has no interface {uplink} (--uplink)"));
        }
    }
    Ok(())
}

struct State {
    /// The lab (`None` in operator mode).
    lab: Option<Lab>,
    /// The operator's uplink, when not the lab's.
    uplink: Option<String>,
    rec: Reconciler<NftNetlink>,
    meter: Meter,
    last_meter: Option<Instant>,
    /// Regions with a gateway as of the last full round.
    regions: Vec<String>,
    /// CLB backend health checks, one worker per gateway namespace.
    checker: health_check::Checker,
}

impl State {
    /// Region → gateway namespace, for the regions served here.
    fn namespaces(&self) -> BTreeMap<String, String> {
        self.regions.iter().filter_map(|r| Some((r.clone(), self.rec.namespace(r)?))).collect()
    }

    /// Samples the counters when due.
    fn meter_if_due(&mut self) -> Option<BTreeMap<String, Totals>> {
        let due = self.last_meter.is_none_or(|t| t.elapsed() >= METER_EVERY);
        due.then(|| {
            self.last_meter = Some(Instant::now());
            let namespaces = self.namespaces();
            self.meter.sample(&namespaces)
        })
    }
}

/// The running data plane.
pub struct DataPlane {
    ctl: Arc<Controller>,
    stop: Arc<Notify>,
    task: tokio::task::JoinHandle<Option<State>>,
}

/// What a round carried out: the EIP transitions of the applied generation
/// and the ENI attachments and detachments the lab completed.
struct Done {
    transitions: Vec<Transition>,
    enis: Vec<(String, EniStatus)>,
    /// New counter totals, when this round read them.
    totals: Option<BTreeMap<String, Totals>>,
    drifted: usize,
}

/// One round on a blocking thread: lab, then tables. Returns the EIP
/// transitions to acknowledge when the generation was applied.
fn round(st: &mut State, rows: &desired::Rows, generation: u64, repair: bool) -> Result<Done, String> {
    let mut d = desired::build(generation, rows);
    if let Some(up) = &st.uplink {
        d.gateways.values_mut().for_each(|g| g.uplink = Some(up.clone()));
    }
    let enis = match &mut st.lab {
        Some(lab) => {
            let plan = lab::plan(rows, &d);
            // A netlink socket keeps its namespace alive: close the sockets of
            // gateways about to go, so their links go with them.
            // So does a health-check thread inside it.
            for region in lab.built().gateways.keys().filter(|r| !plan.gateways.contains_key(*r)) {
                st.rec.kernel().forget(&eip_dataplane::gateway_ns(region));
                st.checker.forget(&eip_dataplane::gateway_ns(region));
            }
            if let Err(e) = lab.sync(&plan) {
                tracing::error!(error = %e, "lab sync incomplete; will retry");
            }
            lab::eni_transitions(rows, &plan, lab.built())
        }
        // The operator's instances are wired by the operator: attachments complete at once.
        None => lab::eni_transitions(rows, &Default::default(), &Default::default()),
    };
    let (drifted, r) = if repair { st.rec.repair(&d) } else { (vec![], st.rec.apply(&d)) };
    let report = r.map_err(|e| e.to_string())?;
    if !report.full.is_empty() || !report.delta.is_empty() || !report.flushed.is_empty() || !drifted.is_empty() {
        tracing::info!(generation, full = ?report.full, delta = ?report.delta, flushed = ?report.flushed, drifted = ?drifted, "data plane applied");
    }
    st.regions = d.gateways.keys().cloned().collect();
    let namespaces = st.namespaces();
    st.checker.set_targets(desired::health_targets(rows), &namespaces);
    st.meter.learn_all(rows);
    let totals = st.meter_if_due();
    Ok(Done { transitions: d.transitions, enis, totals, drifted: drifted.len() })
}

/// Why a fast round stopped.
enum FastError {
    /// A full round must decide (not an error).
    NeedFull(String),
    /// A real failure (counted, retried).
    Failed(String),
}

/// The fast round on a blocking thread: the translations of a few EIP rows,
/// patched into the gateways.
fn fast_round(st: &mut State, rows: &[eip_store::EipRow], generation: u64, poll: bool) -> Result<Done, FastError> {
    let mut patches = Vec::with_capacity(rows.len());
    let mut transitions = Vec::new();
    for e in rows {
        let translation = desired::nat_translation(e)
            .ok_or_else(|| FastError::NeedFull(format!("{} is not a NAT-mode ECS or ENI association", e.id)))?;
        let ip: Ipv4Addr = e.ip.parse().map_err(|_| FastError::NeedFull(format!("{} has no IPv4 address", e.id)))?;
        patches.push((e.region_id.clone(), ip, translation));
        if matches!(e.status, EipStatus::Associating | EipStatus::Unassociating) {
            transitions.push(Transition { eip_id: e.id.clone(), version: e.version, status: e.status });
        }
        if translation.is_some() {
            st.meter.learn(&e.region_id, ip, &e.id);
        }
    }
    let report = st.rec.apply_patch(generation, &patches).map_err(|e| match e {
        PatchError::NeedFull(why) => FastError::NeedFull(why),
        PatchError::Flush(e) => FastError::Failed(e.to_string()),
    })?;
    if !report.delta.is_empty() || !report.flushed.is_empty() {
        tracing::debug!(generation, delta = ?report.delta, flushed = ?report.flushed, "data plane patched");
    }
    let totals = if poll { st.meter_if_due() } else { None };
    Ok(Done { transitions, enis: Vec::new(), totals, drifted: 0 })
}

/// Runs `f` on the state on a blocking thread.
async fn blocking<T: Send + 'static>(state: State, f: impl FnOnce(&mut State) -> T + Send + 'static) -> (State, T) {
    let mut st = state;
    match tokio::task::spawn_blocking(move || {
        let r = f(&mut st);
        (st, r)
    })
    .await
    {
        Ok(x) => x,
        Err(e) => panic!("data-plane round panicked: {e}"),
    }
}

async fn run_round(state: State, ctl: &Controller, generation: u64, repair: bool) -> (State, Result<Done, String>) {
    let mut rows = match ctl.store().read(desired::read_rows) {
        Ok(r) => r,
        Err(e) => return (state, Err(format!("reading the store: {e}"))),
    };
    // What the health checks found so far: abnormal backends leave the rotation.
    rows.abnormal_backends = ctl.clb_health().abnormal();
    blocking(state, move |st| round(st, &rows, generation, repair)).await
}

/// A fast round for `eips`; `Ok(None)` when a full round must decide.
async fn run_fast(
    state: State,
    ctl: &Controller,
    generation: u64,
    eips: BTreeSet<String>,
    poll: bool,
) -> (State, Result<Option<Done>, String>) {
    let rows = match ctl.store().read(|tx| {
        let mut out = Vec::with_capacity(eips.len());
        for id in &eips {
            // A released EIP is gone: it was unassociated, so it maps nothing.
            out.extend(tx.eip_get(id)?);
        }
        Ok(out)
    }) {
        Ok(r) => r,
        Err(e) => return (state, Err(format!("reading the store: {e}"))),
    };
    let (st, r) = blocking(state, move |st| fast_round(st, &rows, generation, poll)).await;
    match r {
        Ok(done) => (st, Ok(Some(done))),
        Err(FastError::NeedFull(why)) => {
            tracing::debug!(reason = %why, "fast round handed to a full round");
            (st, Ok(None))
        }
        Err(FastError::Failed(e)) => (st, Err(e)),
    }
}

/// Writes the CLB backend health checks' states to the store when they
/// changed (DescribeHealthStatus reads them there); a failure is retried by
/// the next call.
async fn publish_health(ctl: &Controller) {
    if let Err(e) = ctl.publish_backend_health().await {
        tracing::warn!(error = %e, "publishing CLB backend health failed; will retry");
    }
}

/// Records counter totals in the monitor and persists what changed.
async fn record_totals(ctl: &Controller, totals: &BTreeMap<String, Totals>) {
    let now = ctl.now();
    let changed = ctl.monitor().record(totals);
    if let Err(e) = eip_controller::monitor::persist(ctl, now, changed).await {
        tracing::warn!(error = %e, "persisting EIP traffic samples failed");
    }
}

async fn acknowledge(ctl: &Controller, done: &Done) -> Result<usize, String> {
    if let Some(t) = &done.totals {
        record_totals(ctl, t).await;
    }
    let items = done.transitions.iter().map(|t| (t.eip_id.clone(), t.version, t.status)).collect();
    let enis = tasks::complete_eni_transitions(ctl, done.enis.clone()).await.map_err(|e| e.to_string())?;
    Ok(enis + tasks::complete_eip_transitions(ctl, items).await.map_err(|e| e.to_string())?)
}

impl DataPlane {
    /// Clears what a previous run left, builds the lab from the store and
    /// programs every association, then keeps both in sync.
    pub async fn start(ctl: Arc<Controller>, mode: Mode, health: Arc<DataplaneHealth>) -> Result<DataPlane, String> {
        check_host()?;
        // The traffic history and totals go on from where the last run left them.
        let restored = eip_controller::monitor::restore(&ctl).map_err(|e| format!("reading traffic samples: {e}"))?;
        if restored > 0 {
            tracing::info!(samples = restored, "EIP traffic history restored");
        }
        let meter = || Meter::resume(ctl.monitor().latest());
        let state = match mode {
            Mode::Lab { data_dir } => {
                let record = record_path(&data_dir);
                let leftover = record.clone();
                let removed = tokio::task::spawn_blocking(move || lab::teardown_recorded(&leftover))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| e.to_string())?;
                if !removed.is_empty() {
                    tracing::info!(namespaces = ?removed, "removed a previous lab");
                }
                State {
                    lab: Some(Lab::new(record)),
                    uplink: None,
                    rec: Reconciler::new(NftNetlink::new()),
                    meter: meter(),
                    last_meter: None,
                    regions: Vec::new(),
                    checker: health_check::Checker::new(ctl.clone()),
                }
            }
            Mode::Operator { gateways, uplink } => {
                check_gateways(&gateways, &uplink)?;
                State {
                    lab: None,
                    uplink: Some(uplink),
                    rec: Reconciler::with_namespaces(NftNetlink::new(), gateways),
                    meter: meter(),
                    last_meter: None,
                    regions: Vec::new(),
                    checker: health_check::Checker::new(ctl.clone()),
                }
            }
        };
        let started = Instant::now();
        // The first round reads everything: what changed before it is in.
        ctl.take_changes();
        let (state, first) = run_round(state, &ctl, 1, false).await;
        let d = match first {
            Ok(d) => d,
            Err(e) => {
                let mut st = state;
                let lab = st.lab.take();
                let _ = tokio::task::spawn_blocking(move || st.checker.stop_all()).await;
                if let Some(mut lab) = lab {
                    let _ = tokio::task::spawn_blocking(move || lab.teardown()).await;
                    return Err(format!("building the lab: {e}"));
                }
                return Err(format!("programming the gateways: {e}"));
            }
        };
        acknowledge(&ctl, &d).await?;
        health.applied(1, started.elapsed().as_micros() as u64, 0);
        let ms = started.elapsed().as_millis();
        match &state.uplink {
            None => {
                let gateways: Vec<&String> = state.regions.iter().collect();
                println!("lab: gateways {gateways:?}, internet namespace {} ({ms} ms)", eip_dataplane::INTERNET_NS);
            }
            Some(up) => {
                let served: Vec<String> =
                    state.regions.iter().filter_map(|r| Some(format!("{r} in {}", state.rec.namespace(r)?))).collect();
                println!("data plane: gateways {served:?}, uplink {up} ({ms} ms)");
                let unserved: Vec<&String> =
                    state.regions.iter().filter(|r| state.rec.namespace(r).is_none()).collect();
                if !unserved.is_empty() {
                    tracing::warn!(regions = ?unserved, "regions with EIPs but no --gateway: their associations are not carried by any data plane");
                }
            }
        }
        let stop = Arc::new(Notify::new());
        publish_health(&ctl).await;
        let task = tokio::spawn(run(ctl.clone(), state, stop.clone(), health));
        Ok(DataPlane { ctl, stop, task })
    }

    /// Stops the loop and tears the lab down (an operator's gateways keep
    /// their tables).
    pub async fn shutdown(self) {
        self.stop.notify_one();
        let Ok(Some(mut st)) = self.task.await else { return };
        // Health-check threads keep their namespaces alive: they stop first.
        let lab = st.lab.take();
        let _ = tokio::task::spawn_blocking(move || st.checker.stop_all()).await;
        // Nothing checks the backends here any more: they read unavailable
        // until the next data plane publishes its checks.
        publish_health(&self.ctl).await;
        if let Some(mut lab) = lab {
            match tokio::task::spawn_blocking(move || lab.teardown()).await {
                Ok(Ok(removed)) => tracing::info!(namespaces = ?removed, "lab torn down"),
                Ok(Err(e)) => tracing::error!(error = %e, "lab teardown incomplete (run `eipd lab down`)"),
                Err(e) => tracing::error!(error = %e, "lab teardown panicked"),
            }
        }
    }
}

async fn run(ctl: Arc<Controller>, mut state: State, stop: Arc<Notify>, health: Arc<DataplaneHealth>) -> Option<State> {
    let changes = ctl.changes();
    let mut generation = 1u64;
    let mut failures = 0u32;
    let mut last_check = Instant::now();
    let mut drift_every = DRIFT_CHECK;
    let mut external = ctl.store().external_version();
    let mut last_poll = Instant::now();
    loop {
        let wait = if failures > 0 { Duration::from_millis(200 * u64::from(failures.min(25))) } else { POLL };
        let timer = tokio::select! {
            _ = stop.notified() => return Some(state),
            _ = changes.notified() => false,
            _ = tokio::time::sleep(wait) => true,
        };
        let c = ctl.take_changes();
        // A health flip wakes the loop: DescribeHealthStatus sees it before
        // the round that takes the backend out of the rotation.
        publish_health(&ctl).await;
        let repair = last_check.elapsed() >= drift_every;
        // Polling happens on time even when changes keep the loop busy.
        let poll = timer || last_poll.elapsed() >= POLL;
        // Another process (an `eipd` admin command) wrote to the store, and
        // the store cannot say what (SQLite); a shared store's notes of
        // other processes arrive with the changes instead.
        let outside = poll && !ctl.hears_others() && {
            last_poll = Instant::now();
            let v = ctl.store().external_version();
            let moved = v.is_none() || v != external;
            external = v;
            moved
        };
        let full = c.other || outside || repair || failures > 0;
        if !full && c.eips.is_empty() {
            if poll {
                let (st, totals) = blocking(state, State::meter_if_due).await;
                state = st;
                if let Some(t) = totals {
                    record_totals(&ctl, &t).await;
                }
            }
            continue;
        }
        generation += 1;
        let t0 = Instant::now();
        let mut result = None;
        if !full {
            let (st, r) = run_fast(state, &ctl, generation, c.eips, poll).await;
            state = st;
            result = r.transpose();
        }
        let r = match result {
            Some(r) => r,
            None => {
                let (st, r) = run_round(state, &ctl, generation, repair).await;
                state = st;
                if repair {
                    last_check = Instant::now();
                    drift_every = DRIFT_CHECK.max(t0.elapsed() * DRIFT_BUDGET);
                }
                r
            }
        };
        // The round tracked the backends it checks (new ones start normal).
        publish_health(&ctl).await;
        match r {
            Ok(d) => {
                failures = 0;
                health.applied(generation, t0.elapsed().as_micros() as u64, d.drifted);
                match acknowledge(&ctl, &d).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(
                        generation,
                        completed = n,
                        micros = t0.elapsed().as_micros() as u64,
                        "EIP transitions acknowledged"
                    ),
                    Err(e) => tracing::error!(error = %e, "acknowledging the data plane generation failed; will retry"),
                }
            }
            Err(e) => {
                failures += 1;
                health.failed(&e);
                tracing::error!(error = %e, generation, failures, "data plane generation not applied; will retry");
            }
        }
    }
}
