//! `serve --lab`: runs the data plane next to the API. One loop takes a
//! snapshot of the store whenever the controller reports a change (and every
//! few seconds, for writes made by other processes), brings the namespace lab
//! and the gateways' nftables tables to it, and only then acknowledges the
//! EIP transitions that snapshot carried, so `InUse` means packets flow and
//! `Available` means no flow of the old association survives.

use crate::health::DataplaneHealth;
use eip_controller::monitor::Totals;
use eip_controller::{Controller, tasks};
use eip_dataplane::desired::{self, DesiredState};
use eip_dataplane::kernel::NftCli;
use eip_dataplane::lab::{self, Lab};
use eip_dataplane::reconciler::Reconciler;
use eip_dataplane::render::Count;
use eip_store::StoreExt;
use eip_types::EniStatus;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How often the store is re-read without a change notification.
const POLL: Duration = Duration::from_secs(2);
/// How often the tables are read back and compared.
const DRIFT_CHECK: Duration = Duration::from_secs(10);
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
fn check_gateways(gateways: &BTreeMap<String, String>, uplink: &str) -> Result<(), String> {
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
    rec: Reconciler<NftCli>,
    meter: Meter,
    last_meter: Option<Instant>,
}

/// Turns the gateways' accounting sets into monotonic per-EIP totals: a
/// counter that went down was reset (the table was replaced, or the
/// element re-created), so its whole value is new traffic.
#[derive(Default)]
struct Meter {
    /// Last raw reading per (region, address, inbound).
    last: BTreeMap<(String, Ipv4Addr, bool), Count>,
    /// Totals per allocation id.
    totals: BTreeMap<String, Totals>,
}

impl Meter {
    /// Reads the counters of every gateway (region → namespace).
    fn sample(&mut self, rows: &desired::Rows, namespaces: &BTreeMap<String, String>) -> BTreeMap<String, Totals> {
        let owner: BTreeMap<(&str, Ipv4Addr), &str> = rows
            .eips
            .iter()
            .filter_map(|e| Some(((e.region_id.as_str(), e.ip.parse().ok()?), e.id.as_str())))
            .collect();
        for (region, ns) in namespaces {
            for (set, inbound) in [("eip_rx", true), ("eip_tx", false)] {
                let counts = match NftCli.counters(ns, set) {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, region = %region, "reading the EIP counters failed");
                        continue;
                    }
                };
                for (ip, c) in counts {
                    let prev = self.last.insert((region.clone(), ip, inbound), c);
                    let new = match prev {
                        Some(p) if c.bytes >= p.bytes && c.packets >= p.packets => {
                            Count { packets: c.packets - p.packets, bytes: c.bytes - p.bytes }
                        }
                        _ => c,
                    };
                    let Some(id) = owner.get(&(region.as_str(), ip)) else { continue };
                    let t = self.totals.entry((*id).to_owned()).or_default();
                    if inbound {
                        t.rx_bytes += new.bytes;
                        t.rx_packets += new.packets;
                    } else {
                        t.tx_bytes += new.bytes;
                        t.tx_packets += new.packets;
                    }
                }
            }
        }
        self.totals.clone()
    }
}

/// The running data plane.
pub struct DataPlane {
    stop: Arc<Notify>,
    task: tokio::task::JoinHandle<Option<State>>,
}

/// What a round carried out: the applied generation (its EIP transitions)
/// and the ENI attachments and detachments the lab completed.
struct Done {
    d: DesiredState,
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
    let plan = lab::plan(rows, &d);
    let enis = match &mut st.lab {
        Some(lab) => {
            if let Err(e) = lab.sync(&plan) {
                tracing::error!(error = %e, "lab sync incomplete; will retry");
            }
            lab::eni_transitions(rows, &plan, lab.built())
        }
        // The operator's instances are wired by the operator: attachments complete at once.
        None => lab::eni_transitions(rows, &plan, &plan),
    };
    let (drifted, r) = if repair { st.rec.repair(&d) } else { (vec![], st.rec.apply(&d)) };
    let report = r.map_err(|e| e.to_string())?;
    if !report.full.is_empty() || !report.delta.is_empty() || !report.flushed.is_empty() || !drifted.is_empty() {
        tracing::info!(generation, full = ?report.full, delta = ?report.delta, flushed = ?report.flushed, drifted = ?drifted, "data plane applied");
    }
    let due = st.last_meter.is_none_or(|t| t.elapsed() >= METER_EVERY);
    let totals = due.then(|| {
        st.last_meter = Some(Instant::now());
        let namespaces = d.gateways.keys().filter_map(|r| Some((r.clone(), st.rec.namespace(r)?))).collect();
        st.meter.sample(rows, &namespaces)
    });
    Ok(Done { d, enis, totals, drifted: drifted.len() })
}

async fn run_round(state: State, ctl: &Controller, generation: u64, repair: bool) -> (State, Result<Done, String>) {
    let rows = match ctl.store().read(desired::read_rows) {
        Ok(r) => r,
        Err(e) => return (state, Err(format!("reading the store: {e}"))),
    };
    let mut st = state;
    match tokio::task::spawn_blocking(move || {
        let r = round(&mut st, &rows, generation, repair);
        (st, r)
    })
    .await
    {
        Ok(x) => x,
        Err(e) => panic!("data-plane round panicked: {e}"),
    }
}

async fn acknowledge(ctl: &Controller, done: &Done) -> Result<usize, String> {
    if let Some(t) = &done.totals {
        ctl.monitor().record(ctl.now(), t);
    }
    let items = done.d.transitions.iter().map(|t| (t.eip_id.clone(), t.version, t.status)).collect();
    let enis = tasks::complete_eni_transitions(ctl, done.enis.clone()).await.map_err(|e| e.to_string())?;
    Ok(enis + tasks::complete_eip_transitions(ctl, items).await.map_err(|e| e.to_string())?)
}

impl DataPlane {
    /// Clears what a previous run left, builds the lab from the store and
    /// programs every association, then keeps both in sync.
    pub async fn start(ctl: Arc<Controller>, mode: Mode, health: Arc<DataplaneHealth>) -> Result<DataPlane, String> {
        check_host()?;
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
                    rec: Reconciler::new(NftCli),
                    meter: Meter::default(),
                    last_meter: None,
                }
            }
            Mode::Operator { gateways, uplink } => {
                check_gateways(&gateways, &uplink)?;
                State {
                    lab: None,
                    uplink: Some(uplink),
                    rec: Reconciler::with_namespaces(NftCli, gateways),
                    meter: Meter::default(),
                    last_meter: None,
                }
            }
        };
        let started = Instant::now();
        let (state, first) = run_round(state, &ctl, 1, false).await;
        let d = match first {
            Ok(d) => d,
            Err(e) => {
                let mut st = state;
                if let Some(mut lab) = st.lab.take() {
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
                let gateways: Vec<&String> = d.d.gateways.keys().collect();
                println!("lab: gateways {gateways:?}, internet namespace {} ({ms} ms)", eip_dataplane::INTERNET_NS);
            }
            Some(up) => {
                let served: Vec<String> =
                    d.d.gateways.keys().filter_map(|r| Some(format!("{r} in {}", state.rec.namespace(r)?))).collect();
                println!("data plane: gateways {served:?}, uplink {up} ({ms} ms)");
                let unserved: Vec<&String> = d.d.gateways.keys().filter(|r| state.rec.namespace(r).is_none()).collect();
                if !unserved.is_empty() {
                    tracing::warn!(regions = ?unserved, "regions with EIPs but no --gateway: their associations are not carried by any data plane");
                }
            }
        }
        let stop = Arc::new(Notify::new());
        let task = tokio::spawn(run(ctl, state, stop.clone(), health));
        Ok(DataPlane { stop, task })
    }

    /// Stops the loop and tears the lab down (an operator's gateways keep
    /// their tables).
    pub async fn shutdown(self) {
        self.stop.notify_one();
        if let Ok(Some(State { lab: Some(mut lab), .. })) = self.task.await {
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
    loop {
        let wait = if failures > 0 { Duration::from_millis(200 * u64::from(failures.min(25))) } else { POLL };
        tokio::select! {
            _ = stop.notified() => return Some(state),
            _ = changes.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
        generation += 1;
        let repair = last_check.elapsed() >= DRIFT_CHECK;
        let t0 = Instant::now();
        let (st, r) = run_round(state, &ctl, generation, repair).await;
        state = st;
        if repair {
            last_check = Instant::now();
        }
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
