//! The application layer: one module per resource, each turning a parsed
//! request into reads and writes of the store under the rules of
//! `eip-domain`. Every mutating action runs in one serialised, durable
//! transaction together with its `ClientToken` bookkeeping and the tasks it
//! schedules; the [`tasks`] runner later completes asynchronous transitions
//! (`Associating` → `InUse`, `Pending` → `Running`, …).

pub mod accounts;
mod bind;
pub mod clb_health;
pub mod clock;
pub mod demo;
mod ecs;
mod ecs_eip;
mod eip;
mod eni;
mod havip;
pub use havip::set_master as set_havip_master;
pub mod bss;
pub mod idempotency;
mod lb;
pub mod lease;
pub mod monitor;
pub mod nat;
mod net;
pub mod quota_center;
pub mod quotas;
mod render;
pub mod secrets;
mod tags;
pub mod tasks;
mod vpc;

use clock::Clock;
use eip_api::{Params, Product};
use eip_store::{Store, StoreExt, Tx};
use eip_types::{Error, Result};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Response body of an action (without `RequestId`).
pub type Body = Map<String, Value>;

/// Settings of the control plane.
#[derive(Clone, Debug)]
pub struct Config {
    /// How long asynchronous transitions take.
    pub task_delay_ms: i64,
    /// A data plane runs: EIP association and unassociation complete when it
    /// acknowledges the generation carrying them
    /// ([`tasks::complete_eip_transitions`]), not when their task's timer fires.
    pub dataplane: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config { task_delay_ms: 500, dataplane: false }
    }
}

/// Who is calling and what.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The caller's account.
    pub account: String,
    /// Product of the action.
    pub product: Product,
    /// Action name (from the registry).
    pub action: &'static str,
    /// Request id, echoed in the response.
    pub request_id: String,
    /// The request's signature nonce ("AccessKeyId\nnonce") and when it may
    /// be used again (real ms). A write records it in its own transaction, so
    /// replaying an acknowledged write is refused after a restart too.
    pub nonce: Option<(String, i64)>,
}

/// Facts a write closure needs, captured before it moves to the writer.
#[derive(Clone, Debug)]
pub(crate) struct Env {
    pub account: String,
    pub now: i64,
    pub task_delay_ms: i64,
}

/// The control plane.
pub struct Controller {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: Config,
    tasks: Arc<tasks::Signal>,
    changes: Arc<tokio::sync::Notify>,
    pending: Arc<parking_lot::Mutex<Changes>>,
    /// Other processes' changes arrive through the store ([`Store::subscribe`]).
    hears_others: bool,
    /// Set in an agent: its acknowledgements hold only while it holds its leases.
    fence: parking_lot::Mutex<Option<lease::Fence>>,
    monitor: Arc<monitor::Monitor>,
    clb_health: clb_health::ClbHealth,
    /// Whose claims this process's task runner holds on a shared store.
    runner_id: String,
    /// Seals AccessKey secrets at rest, once [`secrets::protect`] gave it one.
    secrets: std::sync::OnceLock<Arc<secrets::SecretBox>>,
}

/// What changed since the data plane last took the changes: the EIPs an
/// EIP action wrote (the data plane's fast path re-reads just those rows), or
/// anything else (it rebuilds its whole desired state). Writes of other
/// processes sharing the store arrive here too, when the store can tell.
pub use eip_store::Changes;

impl Controller {
    /// A controller over a store and a clock.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: Config) -> Arc<Controller> {
        let changes = Arc::new(tokio::sync::Notify::new());
        let pending: Arc<parking_lot::Mutex<Changes>> = Default::default();
        // Only a data plane takes the changes; without one they would pile up.
        let hears_others = config.dataplane && {
            let (changes, pending) = (changes.clone(), pending.clone());
            store.subscribe(Arc::new(move |c: &Changes| {
                if !c.is_empty() {
                    pending.lock().merge(c);
                    changes.notify_one();
                }
            }))
        };
        Arc::new(Controller {
            store,
            clock,
            config,
            tasks: Arc::new(tasks::Signal::default()),
            changes,
            pending,
            hears_others,
            fence: Default::default(),
            monitor: Arc::new(monitor::Monitor::default()),
            clb_health: clb_health::ClbHealth::default(),
            runner_id: lease::process_id(),
            secrets: std::sync::OnceLock::new(),
        })
    }

    /// Whether other processes' writes reach [`Controller::take_changes`]
    /// (the store tells); otherwise a data plane polls
    /// [`Store::external_version`] and rebuilds when it moved.
    pub fn hears_others(&self) -> bool {
        self.hears_others
    }

    /// Makes every later acknowledgement of the data plane check, in its own
    /// transaction, that `fence` still holds its leases (see [`lease`]).
    pub fn set_fence(&self, fence: Option<lease::Fence>) {
        *self.fence.lock() = fence;
    }

    pub(crate) fn fence(&self) -> Option<lease::Fence> {
        self.fence.lock().clone()
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Per-EIP traffic counters the data plane records (DescribeEipMonitorData).
    pub fn monitor(&self) -> &Arc<monitor::Monitor> {
        &self.monitor
    }

    /// Notified after every write and task batch that changed something: the
    /// data plane's cue to look at [`Controller::take_changes`] (one waiter; a
    /// notification while it is busy is kept).
    pub fn changes(&self) -> Arc<tokio::sync::Notify> {
        self.changes.clone()
    }

    /// What changed since the last call.
    pub fn take_changes(&self) -> Changes {
        std::mem::take(&mut *self.pending.lock())
    }

    /// Records a change and wakes the data plane. Without one nobody takes
    /// the changes, so nothing is recorded (the set would only grow).
    pub(crate) fn changed(&self, f: impl FnOnce(&mut Changes)) {
        if !self.config.dataplane {
            return;
        }
        f(&mut self.pending.lock());
        self.changes.notify_one();
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Now, on the control plane's clock.
    /// Uses `b` for AccessKey secrets from now on ([`secrets::protect`]).
    pub(crate) fn set_secrets(&self, b: Arc<secrets::SecretBox>) {
        let _ = self.secrets.set(b);
    }

    /// Seals secrets as the store keeps them (when this process has a key),
    /// for use inside a write.
    pub(crate) fn sealer(&self) -> secrets::Sealer {
        secrets::Sealer(self.secrets.get().cloned())
    }

    /// A stored secret, opened.
    pub(crate) fn open_secret(&self, stored: &str) -> Result<String> {
        match self.secrets.get() {
            Some(b) => b.open(stored),
            None if secrets::is_sealed(stored) => {
                Err(Error::Internal("a sealed AccessKey secret, and no secrets key in this process".into()))
            }
            None => Ok(stored.to_owned()),
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(crate) fn env(&self, ctx: &Ctx) -> Env {
        Env { account: ctx.account.clone(), now: self.now(), task_delay_ms: self.config.task_delay_ms }
    }

    /// Runs one action.
    pub async fn call(&self, ctx: &Ctx, p: &Params) -> Result<Body> {
        use Product::{Alb, Bss, Ecs, Nlb, Quotas, Slb, Sts, Vpc};
        match (ctx.product, ctx.action) {
            (Vpc | Ecs, "DescribeRegions") => vpc::describe_regions(ctx, p),
            (Vpc | Ecs, "DescribeZones") => vpc::describe_zones(ctx, p),
            (Vpc, "CreateVpc") => vpc::create_vpc(self, ctx, p).await,
            (Vpc, "DescribeVpcs") => vpc::describe_vpcs(self, ctx, p),
            (Vpc, "DeleteVpc") => vpc::delete_vpc(self, ctx, p).await,
            (Vpc, "CreateVSwitch") => vpc::create_vswitch(self, ctx, p).await,
            (Vpc, "DescribeVSwitches") => vpc::describe_vswitches(self, ctx, p),
            (Vpc, "DescribeVpcAttribute") => vpc::describe_vpc_attribute(self, ctx, p),
            (Vpc, "ModifyVpcAttribute") => vpc::modify_vpc_attribute(self, ctx, p).await,
            (Vpc, "ModifyVSwitchAttribute") => vpc::modify_vswitch_attribute(self, ctx, p).await,
            (Vpc, "DescribeRouteTables") => vpc::describe_route_tables(self, ctx, p),
            (Vpc, "DescribeRouteTableList") => vpc::describe_route_table_list(self, ctx, p),
            (Vpc, "AssociateVpcCidrBlock") => vpc::associate_vpc_cidr_block(self, ctx, p).await,
            (Vpc, "UnassociateVpcCidrBlock") => vpc::unassociate_vpc_cidr_block(self, ctx, p).await,
            (Vpc, "DescribeVSwitchAttributes") => vpc::describe_vswitch_attributes(self, ctx, p),
            (Vpc, "DeleteVSwitch") => vpc::delete_vswitch(self, ctx, p).await,
            (Vpc, "AllocateEipAddress") => eip::allocate(self, ctx, p).await,
            (Vpc, "AssociateEipAddress") => eip::associate(self, ctx, p).await,
            (Vpc, "UnassociateEipAddress") => eip::unassociate(self, ctx, p).await,
            (Vpc, "ReleaseEipAddress") => eip::release(self, ctx, p).await,
            (Vpc, "DescribeEipAddresses") => eip::describe(self, ctx, p),
            (Vpc, "DescribeEipMonitorData") => monitor::describe_eip_monitor_data(self, ctx, p),
            (Vpc, "ModifyEipAddressAttribute") => eip::modify(self, ctx, p).await,
            (Vpc, "AssociateEipAddressBatch") => eip::associate_batch(self, ctx, p).await,
            (Vpc, "CreateNatGateway") => nat::create(self, ctx, p).await,
            (Vpc, "DescribeNatGateways") => nat::describe(self, ctx, p),
            (Vpc, "DeleteNatGateway") => nat::delete(self, ctx, p).await,
            (Vpc, "CreateSnatEntry") => nat::create_snat(self, ctx, p).await,
            (Vpc, "DescribeSnatTableEntries") => nat::describe_snat(self, ctx, p),
            (Vpc, "DeleteSnatEntry") => nat::delete_snat(self, ctx, p).await,
            (Vpc, "CreateForwardEntry") => nat::create_forward(self, ctx, p).await,
            (Vpc, "DescribeForwardTableEntries") => nat::describe_forward(self, ctx, p),
            (Vpc, "DeleteForwardEntry") => nat::delete_forward(self, ctx, p).await,
            (Vpc, "CreateHaVip") => havip::create(self, ctx, p).await,
            (Vpc, "DescribeHaVips") => havip::describe(self, ctx, p),
            (Vpc, "AssociateHaVip") => havip::associate(self, ctx, p).await,
            (Vpc, "UnassociateHaVip") => havip::unassociate(self, ctx, p).await,
            (Vpc, "DeleteHaVip") => havip::delete(self, ctx, p).await,
            (Vpc, "TagResources") => tags::tag_resources(self, ctx, p).await,
            (Vpc, "UnTagResources") => tags::untag_resources(self, ctx, p).await,
            (Vpc, "ListTagResources") => tags::list_tag_resources(self, ctx, p),
            (Vpc, "DeletionProtection") => tags::deletion_protection(self, ctx, p).await,
            (Vpc, "MoveResourceGroup") => tags::move_resource_group(self, ctx, p).await,
            (Vpc, "ModifyEipForwardMode") => eip::modify_forward_mode(self, ctx, p).await,
            (Ecs, "CreateNetworkInterface") => eni::create(self, ctx, p).await,
            (Ecs, "DescribeNetworkInterfaces") => eni::describe(self, ctx, p),
            (Ecs, "AttachNetworkInterface") => eni::attach(self, ctx, p).await,
            (Ecs, "DetachNetworkInterface") => eni::detach(self, ctx, p).await,
            (Ecs, "DeleteNetworkInterface") => eni::delete(self, ctx, p).await,
            (Ecs, "AssignPrivateIpAddresses") => eni::assign_private_ips(self, ctx, p).await,
            (Ecs, "UnassignPrivateIpAddresses") => eni::unassign_private_ips(self, ctx, p).await,
            (Ecs, "DescribeInstanceTypes") => eni::describe_instance_types(p),
            (Slb, "CreateLoadBalancer") => lb::create_clb(self, ctx, p).await,
            (Slb, "DescribeLoadBalancers") => lb::describe_clb(self, ctx, p),
            (Slb, "DescribeLoadBalancerAttribute") => lb::describe_clb_attribute(self, ctx, p),
            (Slb, "TagResources") => tags::tag_resources(self, ctx, p).await,
            (Slb, "UntagResources") => tags::untag_resources(self, ctx, p).await,
            (Slb, "ListTagResources") => tags::list_tag_resources(self, ctx, p),
            (Slb, "DeleteLoadBalancer") => lb::delete_clb(self, ctx, p).await,
            (Slb, "CreateLoadBalancerTCPListener") => lb::create_tcp_listener(self, ctx, p).await,
            (Slb, "StartLoadBalancerListener") => lb::set_listener_running(self, ctx, p, true).await,
            (Slb, "StopLoadBalancerListener") => lb::set_listener_running(self, ctx, p, false).await,
            (Slb, "DeleteLoadBalancerListener") => lb::delete_listener(self, ctx, p).await,
            (Slb, "RemoveBackendServers") => lb::change_backend_servers(self, ctx, p, true).await,
            (Slb, "SetBackendServers") => lb::change_backend_servers(self, ctx, p, false).await,
            (Slb, "DescribeHealthStatus") => lb::describe_health_status(self, ctx, p),
            (Slb, "AddBackendServers") => lb::add_backend_servers(self, ctx, p).await,
            (Slb, "DescribeLoadBalancerTCPListenerAttribute") => lb::describe_tcp_listener(self, ctx, p),
            (Slb, "SetLoadBalancerTCPListenerAttribute") => lb::set_tcp_listener(self, ctx, p).await,
            (Slb, "SetLoadBalancerDeleteProtection") => lb::set_clb_delete_protection(self, ctx, p).await,
            (Alb | Nlb, "CreateLoadBalancer") => lb::create_v2(self, ctx, p).await,
            (Alb | Nlb, "GetLoadBalancerAttribute") => lb::get_v2(self, ctx, p),
            (Alb | Nlb, "ListLoadBalancers") => lb::list_v2(self, ctx, p),
            (Alb | Nlb, "UpdateLoadBalancerAddressTypeConfig") => lb::update_address_type(self, ctx, p).await,
            (Alb | Nlb, "DeleteLoadBalancer") => lb::delete_v2(self, ctx, p).await,
            (Alb, "EnableDeletionProtection") => lb::set_alb_deletion_protection(self, ctx, p, true).await,
            (Alb, "DisableDeletionProtection") => lb::set_alb_deletion_protection(self, ctx, p, false).await,
            (Ecs, "CreateSecurityGroup") => ecs::create_security_group(self, ctx, p).await,
            (Ecs, "DeleteSecurityGroup") => ecs::delete_security_group(self, ctx, p).await,
            (Ecs, "DescribeSecurityGroups") => ecs::describe_security_groups(self, ctx, p),
            (Ecs, "RunInstances") => ecs::run_instances(self, ctx, p, true).await,
            (Ecs, "CreateInstance") => ecs::run_instances(self, ctx, p, false).await,
            (Ecs, "DescribeInstances") => ecs::describe_instances(self, ctx, p),
            (Ecs, "DescribeInstanceStatus") => ecs::describe_instance_status(self, ctx, p),
            (Ecs, "DescribeInstanceAttribute") => ecs::describe_instance_attribute(self, ctx, p),
            (Ecs, "DescribeUserData") => ecs::describe_user_data(self, ctx, p),
            (Ecs, "AllocateEipAddress") => ecs_eip::allocate(self, ctx, p).await,
            (Ecs, "DescribeEipAddresses") => ecs_eip::describe(self, ctx, p),
            (Ecs, "AssociateEipAddress") => eip::associate(self, ctx, p).await,
            (Ecs, "UnassociateEipAddress") => eip::unassociate(self, ctx, p).await,
            (Ecs, "ReleaseEipAddress") => eip::release(self, ctx, p).await,
            (Ecs, "ModifyEipAddressAttribute") => ecs_eip::modify(self, ctx, p).await,
            (Ecs, "DescribeDisks") => ecs::describe_disks(self, ctx, p),
            (Ecs, "StartInstance") => ecs::start_instance(self, ctx, p).await,
            (Ecs, "StopInstance") => ecs::stop_instance(self, ctx, p).await,
            (Ecs, "DeleteInstance") => ecs::delete_instance(self, ctx, p).await,
            (Ecs, "AllocatePublicIpAddress") => ecs::allocate_public_ip(self, ctx, p).await,
            (Sts, "GetCallerIdentity") => accounts::get_caller_identity(ctx),
            (Quotas, "ListProductQuotas") => quota_center::list_product_quotas(self, ctx, p),
            (Quotas, "GetProductQuota") => quota_center::get_product_quota(self, ctx, p),
            (Quotas, "CreateQuotaApplication") => quota_center::create_quota_application(self, ctx, p).await,
            (Quotas, "ListQuotaApplications") => quota_center::list_quota_applications(self, ctx, p),
            (Quotas, "GetQuotaApplication") => quota_center::get_quota_application(self, ctx, p),
            (Bss, "QueryAccountBalance") => bss::query_account_balance(self, ctx),
            (Bss, "QueryAvailableInstances") => bss::query_available_instances(self, ctx, p),
            (product, action) => {
                Err(Error::Internal(format!("registered action {action} of {product:?} has no handler")))
            }
        }
    }

    /// Runs a mutating closure in one durable transaction, honouring
    /// `ClientToken` when the action takes one, then wakes the task runner.
    /// The closure may run more than once (the store runs a write again
    /// after a conflict): everything it does goes through the transaction.
    pub(crate) async fn write<F>(&self, ctx: &Ctx, p: &Params, mut f: F) -> Result<Body>
    where
        F: FnMut(&mut dyn Tx, &Env) -> Result<Body> + Send + 'static,
    {
        let env = self.env(ctx);
        let takes_token = eip_api::catalog::find(ctx.product, ctx.action).map(|a| a.token).unwrap_or(false);
        let token = match p.opt("ClientToken") {
            Some(t) if takes_token => {
                idempotency::check_token(t)?;
                Some((t.to_owned(), idempotency::fingerprint(p)))
            }
            _ => None,
        };
        let action = ctx.action;
        let nonce = ctx.nonce.clone();
        let change = data_plane_change(ctx, p);
        let noted = change.clone();
        let out = self
            .store
            .write(move |tx| {
                if let Some((key, until)) = &nonce
                    && !tx.nonce_claim(key, *until, clock::real_now_ms())?
                {
                    return Err(Error::SignatureNonceUsed);
                }
                tx.note_changes(&noted);
                if let Some((tok, fp)) = &token
                    && let idempotency::Seen::Replay(body) = idempotency::lookup(tx, &env.account, action, tok, fp)?
                {
                    return Ok(body);
                }
                let body = f(tx, &env)?;
                if let Some((tok, fp)) = &token {
                    idempotency::remember(tx, &env.account, action, tok, fp, &body, env.now)?;
                }
                Ok(body)
            })
            .await;
        self.tasks.wake();
        if out.is_ok() && !change.is_empty() {
            self.changed(|c| c.merge(&change));
        }
        out
    }

    /// Runs a read on a snapshot.
    pub(crate) fn read<T: Send>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T> + Send) -> Result<T> {
        self.store.read(f)
    }

    /// Number of scheduled asynchronous tasks (the backlog metric).
    pub fn task_backlog(&self) -> Result<i64> {
        self.read(|tx| Ok(tx.task_count()?))
    }
}

/// What a write of this action may change in a data plane's desired state:
/// the EIP rows of an EIP action (the fast path re-reads just those),
/// nothing for actions whose effects never reach the tables, or anything.
fn data_plane_change(ctx: &Ctx, p: &Params) -> Changes {
    let mut c = Changes::default();
    match (ctx.product, ctx.action) {
        (
            Product::Vpc | Product::Ecs,
            "AssociateEipAddress" | "UnassociateEipAddress" | "ReleaseEipAddress" | "ModifyEipAddressAttribute",
        ) => match p.opt("AllocationId") {
            Some(id) => {
                c.eips.insert(id.to_owned());
            }
            None => c.other = true,
        },
        // A new EIP is unassociated: no table changes; tags, protection and
        // resource groups never reach the data plane.
        (
            Product::Vpc,
            "AllocateEipAddress"
            | "TagResources"
            | "UnTagResources"
            | "DeletionProtection"
            | "MoveResourceGroup"
            | "ModifyVpcAttribute"
            | "ModifyVSwitchAttribute",
        )
        | (Product::Ecs, "AllocateEipAddress")
        | (Product::Slb, "TagResources" | "UntagResources") => {}
        _ => c.other = true,
    }
    c
}

/// The region of a request: `RegionId`, required and known.
pub(crate) fn region_param(p: &Params) -> Result<&'static str> {
    let r = p.req("RegionId")?;
    eip_domain::catalogue::region(r).map(|r| r.id).ok_or_else(|| Error::RegionNotFound(r.to_owned()))
}

/// An optional `RegionId`, checked when present.
pub(crate) fn region_opt(p: &Params) -> Result<Option<&'static str>> {
    match p.opt("RegionId") {
        None => Ok(None),
        Some(r) => {
            eip_domain::catalogue::region(r).map(|r| Some(r.id)).ok_or_else(|| Error::RegionNotFound(r.to_owned()))
        }
    }
}

/// Standard paging: `PageNumber` (from 1) and `PageSize` (1..=max, default `def`).
pub(crate) fn paging(p: &Params, def: i64, max: i64) -> Result<(i64, i64)> {
    let number = p.int("PageNumber", 1, 1_000_000)?.unwrap_or(1);
    let size = p.int("PageSize", 1, max)?.unwrap_or(def);
    Ok((number, size))
}

/// A `json!({...})` response as a body (anything but an object is a bug and gives an empty body).
pub(crate) fn body(v: Value) -> Body {
    match v {
        Value::Object(m) => m,
        _ => Body::new(),
    }
}

/// Which slice of a listing to return: `MaxResults`/`NextToken` when the
/// caller sends `MaxResults` (the newer ECS style), else `PageNumber`/`PageSize`.
pub(crate) struct Window {
    /// `PageNumber` (echoed).
    pub page: i64,
    /// Rows to skip.
    pub offset: i64,
    /// Rows to return.
    pub limit: i64,
    /// Whether the caller pages with tokens.
    pub by_token: bool,
}

impl Window {
    /// Reads the window; `max_page` bounds `PageSize`, `max_results` bounds `MaxResults`.
    pub(crate) fn read(p: &Params, max_page: i64, max_results: i64) -> Result<Window> {
        let (page, size) = paging(p, 10, max_page)?;
        match p.int("MaxResults", 1, max_results)? {
            Some(limit) => Window::by_token(p, limit),
            None => Ok(Window { page, offset: (page - 1) * size, limit: size, by_token: false }),
        }
    }

    /// A `MaxResults`/`NextToken` window of `limit` rows (the caller read
    /// `MaxResults` its own way).
    pub(crate) fn by_token(p: &Params, limit: i64) -> Result<Window> {
        let offset = match p.opt("NextToken") {
            Some(t) => {
                t.parse::<i64>().map_err(|_| Error::invalid("NextToken", "is not a token this server issued"))?
            }
            None => 0,
        };
        Ok(Window { page: 1, offset: offset.max(0), limit, by_token: true })
    }

    /// The `NextToken` to return after a listing of `total` rows.
    pub(crate) fn next_token(&self, total: i64) -> String {
        if self.by_token && self.offset + self.limit < total {
            (self.offset + self.limit).to_string()
        } else {
            String::new()
        }
    }
}

/// `DryRun=true`: the request is valid; say so instead of doing it.
pub(crate) fn dry_run(p: &Params) -> Result<()> {
    if p.bool("DryRun")?.unwrap_or(false) { Err(Error::DryRunOperation) } else { Ok(()) }
}

#[cfg(test)]
mod tests;
