//! `eipd agent`: the data plane alone, on a gateway host, programmed from a
//! store the API nodes share (PostgreSQL in practice; the data directory's
//! SQLite file works too on the server's own host).
//!
//! The agent runs the same loop as `eipd serve --lab/--gateway`
//! (`eip-agent`), under a lease per region so that one agent at a time
//! programs a gateway and a standby takes over when it dies. It serves no
//! API and runs no task timers: the API nodes do that, and leave the EIP and
//! ENI transitions of its regions for its acknowledgements, so `InUse` means
//! its gateway carries the EIP.

use crate::store::{Create, StoreArgs};
use eip_agent::leased::{self, Leased};
use eip_agent::{Mode, check_gateways, check_host, health::DataplaneHealth};
use eip_controller::lease::Fence;
use eip_controller::{Config, Controller};
use std::collections::BTreeMap;
use std::sync::Arc;

/// `eipd agent`'s options.
#[derive(clap::Args)]
pub struct AgentArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Run a lab of network namespaces on this host, as `serve --lab` does, serving every
    /// region (its record of namespaces goes in --data-dir).
    #[arg(long, conflicts_with = "gateways")]
    pub lab: bool,
    /// Program the gateway of REGION in the existing network namespace NETNS (repeatable),
    /// as `serve --gateway` does.
    #[arg(long = "gateway", value_name = "REGION=NETNS", required_unless_present = "lab")]
    pub gateways: Vec<String>,
    /// The gateway's interface towards the internet, in every NETNS.
    #[arg(long, default_value = "pub0", requires = "gateways")]
    pub uplink: String,
    /// How long the agent's lease lasts unless renewed (ms): a standby takes over this long
    /// after the active agent died at most (plus a third of it).
    #[arg(long, default_value_t = leased::DEFAULT_LEASE_MS, env = "EIPD_LEASE_MS", value_parser = clap::value_parser!(i64).range(300..=600_000))]
    pub lease_ms: i64,
}

/// Parses repeated `REGION=NETNS` options.
pub fn parse_gateways(specs: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut gateways = BTreeMap::new();
    for spec in specs {
        let (region, ns) = spec
            .split_once('=')
            .filter(|(r, n)| !r.is_empty() && !n.is_empty())
            .ok_or_else(|| format!("--gateway {spec}: expected REGION=NETNS"))?;
        if eip_domain::catalogue::region(region).is_none() {
            return Err(format!("--gateway {spec}: unknown region {region}"));
        }
        if gateways.insert(region.to_owned(), ns.to_owned()).is_some() {
            return Err(format!("--gateway: region {region} named twice"));
        }
    }
    Ok(gateways)
}

/// The regions a data plane in `mode` serves, and a maker of the mode for
/// each term as the active agent.
pub fn plan(mode: &Mode) -> (Vec<String>, leased::MakeMode) {
    match mode {
        Mode::Lab { data_dir } => {
            let data_dir = data_dir.clone();
            let regions = eip_domain::catalogue::REGIONS.iter().map(|r| r.id.to_owned()).collect();
            (regions, Box::new(move || Mode::Lab { data_dir: data_dir.clone() }))
        }
        Mode::Operator { gateways, uplink } => {
            let (gateways, uplink) = (gateways.clone(), uplink.clone());
            (
                gateways.keys().cloned().collect(),
                Box::new(move || Mode::Operator { gateways: gateways.clone(), uplink: uplink.clone() }),
            )
        }
    }
}

/// Starts the data plane under its lease; says whether it is active.
pub async fn start_leased(
    ctl: Arc<Controller>,
    mode: Mode,
    lease_ms: i64,
    health: Arc<DataplaneHealth>,
) -> (Leased, bool) {
    let (regions, make_mode) = plan(&mode);
    let settings = leased::Settings { fence: Fence { holder: eip_controller::lease::process_id(), regions }, lease_ms };
    Leased::start(ctl, settings, make_mode, health).await
}

/// Runs the agent until SIGINT or SIGTERM.
pub async fn run(a: AgentArgs) -> Result<(), String> {
    check_host()?;
    let mode = if a.lab {
        std::fs::create_dir_all(&a.store.data_dir)
            .map_err(|e| format!("cannot create {}: {e}", a.store.data_dir.display()))?;
        Mode::Lab { data_dir: a.store.data_dir.clone() }
    } else {
        let gateways = parse_gateways(&a.gateways)?;
        check_gateways(&gateways, &a.uplink)?;
        Mode::Operator { gateways, uplink: a.uplink.clone() }
    };
    let store = a.store.open(Create::No)?;
    let ctl = eip_controller::clock::controller_following(store, Config { dataplane: true, ..Config::default() })
        .map_err(|e| format!("cannot read the control-plane clock: {e}"))?;
    let health = Arc::new(DataplaneHealth::default());
    let (agent, active) = start_leased(ctl, mode, a.lease_ms, health).await;
    println!(
        "openeip agent {} on {}: {}",
        env!("CARGO_PKG_VERSION"),
        a.store.describe(),
        if active { "active" } else { "standby (another agent holds the lease)" }
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
    }
    tracing::info!("agent shutting down");
    agent.shutdown().await;
    Ok(())
}
