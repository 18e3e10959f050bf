//! The task runner: asynchronous transitions that the real cloud performs
//! in the background. A task is a row (so it survives restarts) with a due
//! time; the runner sleeps until the earliest one, completes every due task
//! in one durable transaction, and is woken early whenever a write may have
//! scheduled something sooner. A task whose resource moved on in the meantime
//! is stale and completes as a no-op.

use crate::{Controller, Env};
use eip_domain::rules::{EipEvent, eip_transition, instance_task_step};
use eip_store::{AddressRow, Changes, StoreExt, TaskRow, Tx};
use eip_types::{EipStatus, EniStatus, Error, HaVipStatus, InstanceStatus, LbStatus, NatGatewayStatus, Result};
use std::sync::Arc;
use tokio::sync::Notify;

/// Wakes the runner.
#[derive(Default)]
pub struct Signal(Notify);

impl Signal {
    /// Something may be due sooner than the runner thinks.
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// What a task does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskKind {
    /// `Associating` → `InUse`.
    EipAssociate,
    /// `Unassociating` → `Available`.
    EipUnassociate,
    /// `Releasing` → gone.
    EipRelease,
    /// One step of an instance's lifecycle.
    InstanceStep,
    /// ENI `Attaching` → `InUse`.
    EniAttach,
    /// ENI `Detaching` → `Available`.
    EniDetach,
    /// NAT gateway `Creating` → `Available`.
    NatActivate,
    /// HaVip `Creating` → `Available`.
    HaVipActivate,
    /// ALB/NLB `Provisioning` → `Active`.
    LbActivate,
}

impl TaskKind {
    fn as_str(self) -> &'static str {
        match self {
            TaskKind::EipAssociate => "eip.associate",
            TaskKind::EipUnassociate => "eip.unassociate",
            TaskKind::EipRelease => "eip.release",
            TaskKind::InstanceStep => "instance.step",
            TaskKind::EniAttach => "eni.attach",
            TaskKind::EniDetach => "eni.detach",
            TaskKind::NatActivate => "nat.activate",
            TaskKind::HaVipActivate => "havip.activate",
            TaskKind::LbActivate => "lb.activate",
        }
    }

    fn parse(s: &str) -> Option<TaskKind> {
        match s {
            "eip.associate" => Some(TaskKind::EipAssociate),
            "eip.unassociate" => Some(TaskKind::EipUnassociate),
            "eip.release" => Some(TaskKind::EipRelease),
            "instance.step" => Some(TaskKind::InstanceStep),
            "eni.attach" => Some(TaskKind::EniAttach),
            "eni.detach" => Some(TaskKind::EniDetach),
            "nat.activate" => Some(TaskKind::NatActivate),
            "havip.activate" => Some(TaskKind::HaVipActivate),
            "lb.activate" => Some(TaskKind::LbActivate),
            _ => None,
        }
    }
}

/// Schedules a task `env.task_delay_ms` from now.
pub(crate) fn schedule(tx: &mut dyn Tx, kind: TaskKind, resource: &str, env: &Env) -> Result<()> {
    schedule_at(tx, kind, resource, env.now + env.task_delay_ms, env.now)
}

fn schedule_at(tx: &mut dyn Tx, kind: TaskKind, resource: &str, due: i64, now: i64) -> Result<()> {
    tx.task_insert(&TaskRow {
        id: format!("t-{}", eip_types::EipId::generate().as_str().trim_start_matches("eip-")),
        kind: kind.as_str().to_owned(),
        resource_id: resource.to_owned(),
        due_at: due,
        created_at: now,
    })?;
    Ok(())
}

/// Moves an EIP out of `Associating`/`Unassociating`; a stale event is a no-op.
fn complete_eip(tx: &mut dyn Tx, eip: &mut eip_store::EipRow, event: EipEvent) -> Result<bool> {
    let Ok(next) = eip_transition(eip.status, event) else {
        return Ok(false);
    };
    eip.status = next;
    if next == EipStatus::Available {
        crate::bind::clear(tx, eip)?;
    }
    eip.version += 1;
    tx.eip_update(eip)?;
    Ok(true)
}

/// The data plane applied a generation: completes the EIP transitions it
/// carried. Each is `(AllocationId, row version seen in the snapshot, status
/// seen)`; an EIP whose row has moved on since is left for a later generation.
/// Returns how many completed.
pub async fn complete_eip_transitions(ctl: &Controller, items: Vec<(String, i64, EipStatus)>) -> Result<usize> {
    if items.is_empty() {
        return Ok(0);
    }
    let fence = ctl.fence();
    let n = ctl
        .store
        .write(move |tx| {
            if let Some(f) = &fence {
                crate::lease::check(tx, f)?;
            }
            // Associating → InUse and Unassociating → Available translate the same.
            tx.note_changes(&Changes::default());
            let mut n = 0;
            for (id, version, status) in &items {
                let Some(mut eip) = tx.eip_get(id)? else { continue };
                if eip.version != *version || eip.status != *status {
                    continue;
                }
                let event = match status {
                    EipStatus::Associating => EipEvent::AssociateDone,
                    EipStatus::Unassociating => EipEvent::UnassociateDone,
                    _ => continue,
                };
                if complete_eip(tx, &mut eip, event)? {
                    n += 1;
                }
            }
            Ok(n)
        })
        .await?;
    // Associating → InUse and Unassociating → Available translate the same:
    // no table changes, nothing to record.
    Ok(n)
}

/// With a data plane: completes the ENI transitions the lab has carried out,
/// each given with the status it had in the snapshot the lab acted on
/// (`Attaching` → `InUse` once its NIC is wired, `Detaching` → `Available`
/// once it is unwired). An ENI whose status moved on since is left alone.
/// Returns how many completed.
pub async fn complete_eni_transitions(ctl: &Controller, items: Vec<(String, EniStatus)>) -> Result<usize> {
    if items.is_empty() {
        return Ok(0);
    }
    let fence = ctl.fence();
    let n = ctl
        .store
        .write(move |tx| {
            if let Some(f) = &fence {
                crate::lease::check(tx, f)?;
            }
            let mut n = 0;
            for (id, status) in &items {
                let Some(mut eni) = tx.eni_get(id)? else { continue };
                if eni.status != *status {
                    continue;
                }
                match status {
                    EniStatus::Attaching => eni.status = EniStatus::InUse,
                    EniStatus::Detaching => {
                        eni.status = EniStatus::Available;
                        eni.instance_id = None;
                    }
                    EniStatus::Available | EniStatus::InUse => continue,
                }
                tx.eni_update(&eni)?;
                n += 1;
            }
            Ok(n)
        })
        .await?;
    if n > 0 {
        ctl.changed(|c| c.other = true);
    }
    Ok(n)
}

/// Completes one task inside the caller's transaction.
/// `acked(region)`: whether a data plane acknowledges the region's EIP and
/// ENI transitions (this process's own, or an agent's: a region with a lease
/// row).
fn apply(tx: &mut dyn Tx, task: &TaskRow, now: i64, delay: i64, acked: &dyn Fn(&str) -> bool) -> Result<()> {
    let Some(kind) = TaskKind::parse(&task.kind) else {
        tracing::warn!(kind = %task.kind, "unknown task kind dropped");
        return Ok(());
    };
    match kind {
        TaskKind::EipAssociate | TaskKind::EipUnassociate => {
            let Some(mut eip) = tx.eip_get(&task.resource_id)? else {
                return Ok(());
            };
            // With a data plane, the acknowledgement of the applied
            // generation completes these (complete_eip_transitions), never
            // the timer.
            if acked(&eip.region_id) {
                return Ok(());
            }
            let event =
                if kind == TaskKind::EipAssociate { EipEvent::AssociateDone } else { EipEvent::UnassociateDone };
            complete_eip(tx, &mut eip, event)?;
        }
        TaskKind::EipRelease => {
            let Some(eip) = tx.eip_get(&task.resource_id)? else {
                return Ok(());
            };
            if eip.status != EipStatus::Releasing {
                return Ok(());
            }
            tx.eip_delete(&eip.id)?;
            // GEN-03: remember who held the address and when it came back.
            tx.address_put(&AddressRow {
                ip: eip.ip.clone(),
                region_id: eip.region_id.clone(),
                holder_kind: None,
                holder_id: None,
                last_account_id: Some(eip.account_id.clone()),
                released_at: Some(now),
            })?;
            tx.address_set_last_eip(&eip.ip, &eip.id)?;
        }
        TaskKind::InstanceStep => {
            let Some(mut inst) = tx.instance_get(&task.resource_id)? else {
                return Ok(());
            };
            let (next, more) = instance_task_step(inst.status, inst.want_running);
            if next != inst.status {
                inst.status = next;
                if next == InstanceStatus::Running {
                    inst.started_at = Some(now);
                }
                tx.instance_update(&inst)?;
            }
            if more {
                schedule_at(tx, TaskKind::InstanceStep, &inst.id, now + delay, now)?;
            }
        }
        TaskKind::EniAttach | TaskKind::EniDetach => {
            let Some(mut eni) = tx.eni_get(&task.resource_id)? else {
                return Ok(());
            };
            // With a data plane, the lab completes these once the NIC is
            // wired or unwired (complete_eni_transitions).
            if acked(&eni.region_id) {
                return Ok(());
            }
            match (kind, eni.status) {
                (TaskKind::EniAttach, EniStatus::Attaching) => eni.status = EniStatus::InUse,
                (TaskKind::EniDetach, EniStatus::Detaching) => {
                    eni.status = EniStatus::Available;
                    eni.instance_id = None;
                }
                // A stale task: the ENI moved on.
                (_, EniStatus::Available | EniStatus::Attaching | EniStatus::InUse | EniStatus::Detaching) => {
                    return Ok(());
                }
            }
            tx.eni_update(&eni)?;
        }
        TaskKind::NatActivate => {
            if let Some(mut n) = tx.nat_get(&task.resource_id)?
                && n.status == NatGatewayStatus::Creating
            {
                n.status = NatGatewayStatus::Available;
                tx.nat_update(&n)?;
            }
        }
        TaskKind::HaVipActivate => {
            if let Some(mut h) = tx.havip_get(&task.resource_id)?
                && h.status == HaVipStatus::Creating
            {
                h.status = HaVipStatus::Available;
                tx.havip_update(&h)?;
            }
        }
        TaskKind::LbActivate => {
            if let Some(mut lb) = tx.lb_get(&task.resource_id)?
                && lb.status == LbStatus::Provisioning.as_str()
            {
                lb.status = LbStatus::Active.as_str().to_owned();
                tx.lb_update(&lb)?;
            }
        }
    }
    Ok(())
}

/// How long a node's claim on the tasks it is running lasts (controller ms):
/// far longer than a batch takes, and short enough that the tasks of a node
/// that died mid-batch are run by another soon after.
const CLAIM_MS: i64 = 3000;

/// Most tasks one batch runs.
const BATCH: i64 = 256;

/// Completes every task due now; returns how many ran.
///
/// On a store of its own the process runs each due task in one transaction.
/// On a shared store (several nodes) it first claims a batch of due tasks
/// (`FOR UPDATE SKIP LOCKED`: nodes racing for them split them instead of
/// failing each other), then completes the batch in one serializable
/// transaction that takes only the tasks still claimed by this node. A node
/// that dies between the two leaves its claims to lapse after [`CLAIM_MS`];
/// another node then runs them. A task runs exactly once either way: the
/// transaction that completes it deletes its row.
pub async fn run_due(ctl: &Controller) -> Result<usize> {
    let now = ctl.now();
    let claimed = if ctl.store.shared() {
        let holder = ctl.runner_id.clone();
        let until = now + CLAIM_MS;
        let tasks = ctl.store.claim(move |tx| Ok(tx.task_claim(now, BATCH, &holder, until)?)).await?;
        if tasks.is_empty() {
            return Ok(0);
        }
        Some(tasks)
    } else {
        None
    };
    let delay = ctl.config.task_delay_ms;
    let dataplane = ctl.config.dataplane;
    let holder = ctl.runner_id.clone();
    // Completions are redoable: each deletes its task row in the same
    // transaction, so a completion lost in a crash simply runs again.
    ctl.store
        .write_redoable(move |tx| {
            let due = match &claimed {
                None => {
                    let due = tx.task_due(now, BATCH)?;
                    for t in &due {
                        tx.task_delete(&t.id)?;
                    }
                    due
                }
                Some(tasks) => {
                    let mut mine = Vec::with_capacity(tasks.len());
                    for t in tasks {
                        // Gone or claimed again by another: another node ran it.
                        if tx.task_take(&t.id, &holder)? {
                            mine.push(t.clone());
                        }
                    }
                    mine
                }
            };
            let agents: std::collections::BTreeSet<String> = if dataplane || due.is_empty() {
                Default::default()
            } else {
                tx.lease_list()?.into_iter().map(|l| l.region_id).collect()
            };
            let acked = |region: &str| dataplane || agents.contains(region);
            for t in &due {
                apply(tx, t, now, delay, &acked)?;
            }
            // EIP timers change no translation (under a data plane its
            // acknowledgement completes associations; a released EIP was
            // unassociated), and ENI timers are the lab's to complete: only
            // the rest (instances, NAT gateways, …) may change what the data
            // plane builds.
            let relevant = due.iter().any(|t| {
                !matches!(
                    TaskKind::parse(&t.kind),
                    Some(
                        TaskKind::EipAssociate
                            | TaskKind::EipUnassociate
                            | TaskKind::EipRelease
                            | TaskKind::EniAttach
                            | TaskKind::EniDetach
                    )
                )
            });
            tx.note_changes(&if relevant { Changes::anything() } else { Changes::default() });
            Ok((due.len(), relevant))
        })
        .await
        .map(|(n, relevant)| {
            if relevant {
                ctl.changed(|c| c.other = true);
            }
            n
        })
}

/// Longest the runner sleeps before looking for due tasks again, in ms.
const RESCAN_MS: i64 = 1000;

/// The runner loop; returns only if the store fails persistently.
pub async fn run(ctl: Arc<Controller>) {
    let mut failures = 0u32;
    loop {
        let next = ctl.read(|tx| Ok(tx.task_next_due()?));
        let wait_ms = match next {
            Ok(None) => None,
            Ok(Some(due)) => Some((due - ctl.now()).max(0)),
            Err(e) => {
                tracing::error!(error = %e, "task runner cannot read the store");
                Some(1000)
            }
        };
        match wait_ms {
            Some(0) => match run_due(&ctl).await {
                Ok(n) => {
                    failures = 0;
                    tracing::debug!(completed = n, "tasks completed");
                }
                Err(e) => {
                    failures += 1;
                    tracing::error!(error = %e, failures, "task batch failed; will retry");
                    tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(failures.min(25)))).await;
                }
            },
            // Cancel-safety: both arms only wait; no state is held across them.
            // The store is looked at again at least every RESCAN, for tasks
            // other processes scheduled (another node, or one that died
            // before completing its own).
            wait => {
                let ms = wait.map_or(RESCAN_MS, |ms| ms.min(RESCAN_MS));
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_millis(ms as u64)) => {}
                    _ = ctl.tasks.0.notified() => {}
                }
            }
        }
    }
}

/// Drops recorded signature nonces whose window has passed (run periodically).
pub async fn expire_nonces(ctl: &Controller) -> Result<i64> {
    let now = crate::clock::real_now_ms();
    ctl.store.write(move |tx| tx.nonce_expire(now).map_err(Error::from)).await
}

/// The recorded nonces still inside their window, for the edge's nonce cache
/// at start.
pub fn live_nonces(ctl: &Controller) -> Result<Vec<(String, i64)>> {
    let now = crate::clock::real_now_ms();
    ctl.read(|tx| Ok(tx.nonce_live(now)?))
}

/// Drops ClientTokens past their lifetime (run periodically).
pub async fn expire_tokens(ctl: &Controller) -> Result<i64> {
    let before = ctl.now() - crate::idempotency::TOKEN_TTL_MS;
    ctl.store.write(move |tx| tx.token_expire(before).map_err(Error::from)).await
}
