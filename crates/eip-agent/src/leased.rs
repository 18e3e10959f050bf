//! The data plane under a lease, for a store that other hosts share.
//!
//! Several agents (or `eipd serve` nodes with a data plane) may be started
//! for the same gateways; only the one holding every region's lease
//! programs them and acknowledges transitions. The others stand by and
//! retry; when the active one dies its lease lapses and a standby takes
//! over with a full round from a fresh reconciler, which replaces whatever
//! the gateway's table holds (drift included) with the store's state. An
//! active agent that finds its lease taken (it was paused or cut off from
//! the store for longer than the lease) stops at once; its acknowledgements
//! are fenced meanwhile ([`eip_controller::lease`]).

use crate::health::DataplaneHealth;
use crate::{DataPlane, Mode};
use eip_controller::Controller;
use eip_controller::lease::{self, Decision, Fence};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How long a lease lasts unless renewed, by default (ms).
pub const DEFAULT_LEASE_MS: i64 = 6000;

/// What the supervisor needs.
pub struct Settings {
    /// Who this process is and which regions it serves.
    pub fence: Fence,
    /// Lease length (ms); it is renewed every third of it.
    pub lease_ms: i64,
}

/// Builds the data plane's mode afresh for each term as the active agent.
pub type MakeMode = Box<dyn Fn() -> Mode + Send + Sync>;

/// The running supervisor.
pub struct Leased {
    stop: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

struct Term {
    dp: Option<DataPlane>,
    /// When the lease was last confirmed ours.
    confirmed: Instant,
}

impl Leased {
    /// Tries the lease once (so that a process that gets it starts serving
    /// before it says it is up), then keeps renewing or retrying it.
    /// Returns whether this process is active now.
    pub async fn start(
        ctl: Arc<Controller>,
        settings: Settings,
        make_mode: MakeMode,
        health: Arc<DataplaneHealth>,
    ) -> (Leased, bool) {
        let mut term = Term { dp: None, confirmed: Instant::now() };
        step(&ctl, &settings, &make_mode, &health, &mut term).await;
        let active = term.dp.is_some();
        let stop = Arc::new(Notify::new());
        let task = tokio::spawn(supervise(ctl, settings, make_mode, health, term, stop.clone()));
        (Leased { stop, task }, active)
    }

    /// Stops the data plane if active and lets the leases go, so a standby
    /// takes over at once.
    pub async fn shutdown(self) {
        self.stop.notify_one();
        let _ = self.task.await;
    }
}

async fn supervise(
    ctl: Arc<Controller>,
    settings: Settings,
    make_mode: MakeMode,
    health: Arc<DataplaneHealth>,
    mut term: Term,
    stop: Arc<Notify>,
) {
    let every = Duration::from_millis((settings.lease_ms / 3).max(1) as u64);
    loop {
        tokio::select! {
            _ = stop.notified() => break,
            _ = tokio::time::sleep(every) => {}
        }
        step(&ctl, &settings, &make_mode, &health, &mut term).await;
    }
    if let Some(dp) = term.dp.take() {
        dp.shutdown().await;
        match lease::release(&ctl, &settings.fence).await {
            Ok(n) => tracing::info!(regions = ?settings.fence.regions, released = n, "data-plane leases released"),
            Err(e) => tracing::warn!(error = %e, "releasing the data-plane leases failed; they lapse by themselves"),
        }
    }
    ctl.set_fence(None);
}

/// One renewal or attempt.
async fn step(
    ctl: &Arc<Controller>,
    settings: &Settings,
    make_mode: &MakeMode,
    health: &Arc<DataplaneHealth>,
    term: &mut Term,
) {
    let fence = &settings.fence;
    match lease::acquire(ctl, fence, settings.lease_ms).await {
        Ok(Decision::Take(_)) => {
            term.confirmed = Instant::now();
            if term.dp.is_some() {
                return;
            }
            tracing::info!(holder = %fence.holder, regions = ?fence.regions, "data-plane lease taken: active");
            ctl.set_fence(Some(fence.clone()));
            match DataPlane::start(ctl.clone(), make_mode(), health.clone()).await {
                Ok(dp) => term.dp = Some(dp),
                Err(e) => {
                    tracing::error!(error = %e, "the data plane did not start; letting the lease go and retrying");
                    health.failed(&e);
                    ctl.set_fence(None);
                    let _ = lease::release(ctl, fence).await;
                }
            }
        }
        Ok(Decision::Wait { region, holder, until }) => {
            if let Some(dp) = term.dp.take() {
                tracing::warn!(region = %region, holder = %holder, "another agent holds the data-plane lease: standing down");
                ctl.set_fence(None);
                dp.shutdown().await;
            } else {
                let in_ms = until - eip_controller::clock::real_now_ms();
                tracing::debug!(region = %region, holder = %holder, lapses_in_ms = in_ms, "standby: the lease is held");
            }
        }
        Err(e) => {
            // Without the store nothing can be acknowledged anyway (the fence
            // refuses); once the lease may have lapsed, another agent may be
            // programming the gateway: stop touching it.
            let lapsed = term.confirmed.elapsed() >= Duration::from_millis(settings.lease_ms as u64);
            tracing::warn!(error = %e, lapsed, "renewing the data-plane lease failed");
            if lapsed && let Some(dp) = term.dp.take() {
                tracing::warn!("the data-plane lease may have lapsed: standing down until it is ours again");
                ctl.set_fence(None);
                dp.shutdown().await;
            }
        }
    }
}
