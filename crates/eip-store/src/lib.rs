//! Persistence for openeip, independent of any database. The invariant
//! logic lives once, in the controller, written against the [`Tx`] handle of
//! row primitives; a backend (`eip-store-sqlite`, the embedded default) only
//! stores rows, keeps concurrent writers from seeing each other half-done and
//! makes commits durable.
//!
//! Writes go through [`Store::submit`] (or [`StoreExt::write`]): the closure
//! runs inside one transaction and its result is handed back only after the
//! commit is on disk, so nothing acknowledged can be lost. Reads see one
//! snapshot for the whole closure.
//!
//! Each backend keeps its own migrations; the schemas say the same things
//! (unique indexes, CHECK constraints, `BIGINT` epoch milliseconds, text ids).
//! The `contract` module (feature `contract`) is the suite every backend's tests
//! run to show it behaves as this crate says.

pub mod changes;
#[cfg(feature = "contract")]
pub mod contract;
pub mod rows;
pub mod sql;

pub use changes::Changes;
pub use rows::*;

use eip_types::{Error, Result};
use std::future::Future;
use std::pin::Pin;

/// A failure inside the store, before the controller gives it meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// A UNIQUE or PRIMARY KEY constraint refused the row; carries the index or column names.
    UniqueViolation(String),
    /// A CHECK or FOREIGN KEY constraint refused the row.
    ConstraintViolation(String),
    /// The transaction lost to a concurrent one (a serialization failure, a
    /// deadlock, a busy database): it was rolled back, and running the whole
    /// write again may succeed.
    Conflict(String),
    /// The database cannot be reached (a lost connection, a server that is
    /// restarting): nothing was acknowledged, and trying later may succeed.
    Unavailable(String),
    /// Anything else (I/O, corruption, SQL bug).
    Other(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::UniqueViolation(s) => write!(f, "unique violation: {s}"),
            StoreError::ConstraintViolation(s) => write!(f, "constraint violation: {s}"),
            StoreError::Conflict(s) => write!(f, "transaction conflict: {s}"),
            StoreError::Unavailable(s) => write!(f, "store unavailable: {s}"),
            StoreError::Other(s) => write!(f, "store error: {s}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(s) => Error::StoreConflict(s),
            StoreError::Unavailable(s) => Error::StoreUnavailable(s),
            StoreError::UniqueViolation(_) | StoreError::ConstraintViolation(_) | StoreError::Other(_) => {
                Error::Internal(e.to_string())
            }
        }
    }
}

/// Result of a row primitive.
pub type StoreResult<T> = std::result::Result<T, StoreError>;

/// What one run of a write job asks the backend to do with its transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The work succeeded: commit.
    Commit,
    /// The work refused (a rule, a missing row): roll back, deliver the refusal.
    Rollback,
    /// The work met a [`StoreError::Conflict`]: roll back and run it again.
    Retry,
}

/// A unit of work for one write transaction.
///
/// `run` may be called more than once: when a run ends in
/// [`Outcome::Retry`], or its commit fails with a conflict, the backend rolls
/// the transaction back and calls `run` again in a new one, at most
/// [`Store::write_attempts`] times in all ([`MAX_ATTEMPTS`] unless the
/// backend says otherwise), waiting [`backoff`] between attempts. Only the
/// last run's result counts. `deliver` is called once, with the outcome of
/// the last commit.
pub struct WriteJob {
    /// The work.
    pub run: JobFn,
    /// Hands the last run's result over, given the commit's outcome.
    pub deliver: Deliver,
    /// Whether the commit must reach the disk before delivery. Only work that
    /// can be redone from durable state (task completions, which delete their
    /// own task row in the same transaction) may skip the flush: if it is lost
    /// in a crash, the task is still there and runs again.
    pub durable: bool,
    /// How the job's transaction is isolated from other writers.
    pub isolation: Isolation,
}

/// How a [`WriteJob`]'s transaction is isolated from concurrent writers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Isolation {
    /// As if the writers ran one after another: every rule-checking write.
    #[default]
    Serializable,
    /// Work that only claims queue rows with [`Tx::task_claim`]: row locks
    /// decide who gets which row, and writers that lose a race skip the rows
    /// instead of failing (PostgreSQL runs it in `READ COMMITTED`; a backend
    /// whose writers are serialised anyway treats it as `Serializable`).
    Claim,
}
/// The body of a [`WriteJob`].
pub type JobFn = Box<dyn FnMut(&mut dyn Tx) -> Outcome + Send>;
/// Delivers a job's result given the commit outcome.
pub type Deliver = Box<dyn FnOnce(Result<()>) + Send>;

/// Most runs of one write job before its conflict is given to the caller,
/// unless a backend allows more (see [`Store::write_attempts`]).
pub const MAX_ATTEMPTS: u32 = 8;

/// How long to wait before attempt `attempt` (2, 3, …) of a write job:
/// 1 ms doubling up to 64 ms, with up to half of it again at random so
/// writers that collided do not collide again in step.
pub fn backoff(attempt: u32) -> std::time::Duration {
    let base_us = 1000u64 << attempt.saturating_sub(2).min(6);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let jitter = u64::from(nanos) % (base_us / 2 + 1);
    std::time::Duration::from_micros(base_us + jitter)
}

/// A backend.
pub trait Store: Send + Sync + 'static {
    /// Runs a write job in one transaction, isolated from every other writer
    /// (again after a conflict, see [`WriteJob`]), and calls its deliver
    /// callback after the durable commit (or failure).
    fn submit(&self, job: WriteJob);

    /// Runs `f` on a read snapshot.
    fn read_dyn(&self, f: &mut (dyn FnMut(&mut dyn Tx) -> Result<()> + Send)) -> Result<()>;

    /// Backend name for logs and metrics.
    fn backend(&self) -> &'static str;

    /// A value that changes when another process commits to the store (this
    /// process's own writes leave it alone): lets a poller skip re-reading a
    /// store nobody else touched. A backend that cannot tell returns `None`
    /// (treat as changed).
    fn external_version(&self) -> Option<i64> {
        None
    }

    /// How many times write jobs have been run again after a conflict since
    /// the store was opened (a metric).
    fn write_retries(&self) -> u64 {
        0
    }

    /// Most runs of one write job before its conflict reaches the caller.
    fn write_attempts(&self) -> u32 {
        MAX_ATTEMPTS
    }

    /// Asks to be told, as their commits land, what other processes sharing
    /// the store changed (each commit's [`Tx::note_changes`], or
    /// [`Changes::anything`] for a commit without a note or after notices may
    /// have been missed). Returns false when the backend cannot: then poll
    /// [`Store::external_version`].
    fn subscribe(&self, sink: ChangeSink) -> bool {
        let _ = sink;
        false
    }

    /// Whether other hosts may share this store (several nodes, agents): then
    /// a data plane takes a lease before it programs a gateway.
    fn shared(&self) -> bool {
        false
    }
}

/// Receives other processes' [`Changes`] (see [`Store::subscribe`]); called
/// on the backend's listener thread, so it must be quick.
pub type ChangeSink = std::sync::Arc<dyn Fn(&Changes) + Send + Sync>;

/// Typed helpers over any [`Store`].
pub trait StoreExt: Store {
    /// Runs `f` in a write transaction. `Ok` is returned only after the
    /// commit is durable; an `Err` from `f` rolls back everything `f` did.
    /// `f` may run more than once (see [`WriteJob`]): it must not have effects
    /// outside the transaction.
    fn write<T, F>(&self, f: F) -> Pin<Box<dyn Future<Output = Result<T>> + Send + '_>>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T> + Send + 'static,
    {
        self.write_with(true, f)
    }

    /// Like [`StoreExt::write`], but the commit need not be flushed before the
    /// result is delivered (see [`WriteJob::durable`]). Later durable commits
    /// flush it anyway, in order.
    fn write_redoable<T, F>(&self, f: F) -> Pin<Box<dyn Future<Output = Result<T>> + Send + '_>>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T> + Send + 'static,
    {
        self.write_with(false, f)
    }

    /// Runs `f`, which only claims queue rows ([`Tx::task_claim`]), as an
    /// [`Isolation::Claim`] job: redoable (a claim lost in a crash lapses
    /// like any other), and writers racing for the same rows split them
    /// instead of conflicting.
    fn claim<T, F>(&self, f: F) -> Pin<Box<dyn Future<Output = Result<T>> + Send + '_>>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T> + Send + 'static,
    {
        self.submit_fn(false, Isolation::Claim, f)
    }

    /// Submits a serializable write with the given durability.
    fn write_with<T, F>(&self, durable: bool, f: F) -> Pin<Box<dyn Future<Output = Result<T>> + Send + '_>>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T> + Send + 'static,
    {
        self.submit_fn(durable, Isolation::Serializable, f)
    }

    /// Wraps `f` in a [`WriteJob`] and submits it.
    fn submit_fn<T, F>(
        &self,
        durable: bool,
        isolation: Isolation,
        mut f: F,
    ) -> Pin<Box<dyn Future<Output = Result<T>> + Send + '_>>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T> + Send + 'static,
    {
        let (send, recv) = tokio::sync::oneshot::channel::<Result<T>>();
        let slot: std::sync::Arc<std::sync::Mutex<Option<Result<T>>>> = Default::default();
        let last = slot.clone();
        let job = WriteJob {
            run: Box::new(move |tx: &mut dyn Tx| {
                let r = f(tx);
                let outcome = match &r {
                    Ok(_) => Outcome::Commit,
                    Err(Error::StoreConflict(_)) => Outcome::Retry,
                    Err(_) => Outcome::Rollback,
                };
                *last.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(r);
                outcome
            }),
            deliver: Box::new(move |commit: Result<()>| {
                let r = slot
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take()
                    .unwrap_or_else(|| Err(Error::Internal("write job never ran".into())));
                let _ = send.send(commit.and(r));
            }),
            durable,
            isolation,
        };
        self.submit(job);
        Box::pin(async move { recv.await.unwrap_or_else(|_| Err(Error::Internal("store writer stopped".into()))) })
    }

    /// Runs `f` on a read snapshot and returns its value.
    fn read<T: Send>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T> + Send) -> Result<T> {
        let mut f = Some(f);
        let mut out = None;
        self.read_dyn(&mut |tx| {
            let f = f.take().ok_or_else(|| Error::Internal("read closure reused".into()))?;
            out = Some(f(tx)?);
            Ok(())
        })?;
        out.ok_or_else(|| Error::Internal("read produced nothing".into()))
    }
}

impl<S: Store + ?Sized> StoreExt for S {}

/// Row primitives. Every method is one statement or a small fixed group;
/// none of them checks a business rule.
pub trait Tx {
    // --- accounts and keys
    /// Inserts an account.
    fn account_insert(&mut self, row: &AccountRow) -> StoreResult<()>;
    /// All accounts.
    fn account_list(&mut self) -> StoreResult<Vec<AccountRow>>;
    /// Enables or disables an account; whether it exists.
    fn account_set_active(&mut self, id: &str, active: bool) -> StoreResult<bool>;
    /// An account's balance in micros (millionths of a dollar), if it exists.
    fn account_balance(&mut self, id: &str) -> StoreResult<Option<i64>>;
    /// Adds `delta` micros (negative for a charge) to an account's balance;
    /// the new balance, or `None` when there is no such account.
    fn account_balance_add(&mut self, id: &str, delta: i64) -> StoreResult<Option<i64>>;
    /// Inserts an access key.
    fn access_key_insert(&mut self, row: &AccessKeyRow) -> StoreResult<()>;
    /// Looks an access key up.
    fn access_key_get(&mut self, id: &str) -> StoreResult<Option<AccessKeyRow>>;
    /// Replaces the secret (and activity) of a key.
    fn access_key_update(&mut self, row: &AccessKeyRow) -> StoreResult<()>;
    /// Keys of an account.
    fn access_key_list(&mut self, account: &str) -> StoreResult<Vec<AccessKeyRow>>;
    /// Deletes a key; whether it existed.
    fn access_key_delete(&mut self, id: &str) -> StoreResult<bool>;

    // --- Quota Center applications
    /// Files an application.
    fn quota_application_insert(&mut self, row: &QuotaApplicationRow) -> StoreResult<()>;
    /// An application by id (any account; the caller checks).
    fn quota_application_get(&mut self, id: &str) -> StoreResult<Option<QuotaApplicationRow>>;
    /// An account's applications, newest first (all accounts for `None`).
    fn quota_application_list(&mut self, account: Option<&str>) -> StoreResult<Vec<QuotaApplicationRow>>;
    /// Records a decision: status, approved value, audit reason and time.
    fn quota_application_decide(&mut self, row: &QuotaApplicationRow) -> StoreResult<()>;

    // --- web console sessions
    /// Starts a session.
    fn console_session_insert(&mut self, row: &ConsoleSessionRow) -> StoreResult<()>;
    /// A session by the hash of its id, expired or not (the caller checks).
    fn console_session_get(&mut self, id_hash: &str) -> StoreResult<Option<ConsoleSessionRow>>;
    /// Changes a session's region.
    fn console_session_set_region(&mut self, id_hash: &str, region: &str) -> StoreResult<()>;
    /// Ends a session.
    fn console_session_delete(&mut self, id_hash: &str) -> StoreResult<()>;
    /// Drops the sessions that expired at or before `now`; how many.
    fn console_session_expire(&mut self, now: i64) -> StoreResult<i64>;
    /// How many sessions there are.
    fn console_session_count(&mut self) -> StoreResult<i64>;

    // --- settings (small key/value facts such as the schema's data-plane generation)
    /// Reads a setting.
    fn setting_get(&mut self, key: &str) -> StoreResult<Option<String>>;
    /// Writes a setting.
    fn setting_set(&mut self, key: &str, value: &str) -> StoreResult<()>;

    // --- public address pools
    /// Pools of a region, in insertion order.
    fn pool_list(&mut self, region: &str) -> StoreResult<Vec<PoolRow>>;
    /// All pools.
    fn pool_list_all(&mut self) -> StoreResult<Vec<PoolRow>>;
    /// Adds a pool.
    fn pool_insert(&mut self, row: &PoolRow) -> StoreResult<()>;
    /// Removes a pool.
    fn pool_delete(&mut self, region: &str, cidr: &str) -> StoreResult<()>;
    /// Moves a pool's cursor.
    fn pool_set_cursor(&mut self, region: &str, cidr: &str, cursor: i64) -> StoreResult<()>;
    /// Reads an address's history.
    fn address_get(&mut self, ip: &str) -> StoreResult<Option<AddressRow>>;
    /// Inserts or replaces an address's history.
    fn address_put(&mut self, row: &AddressRow) -> StoreResult<()>;
    /// The free address of a region released longest ago (reuse after the cursor is exhausted).
    fn address_oldest_free(&mut self, region: &str) -> StoreResult<Option<AddressRow>>;
    /// Records that EIP `eip_id` released `ip` (GEN-03 retrieval by id).
    fn address_set_last_eip(&mut self, ip: &str, eip_id: &str) -> StoreResult<()>;
    /// The address EIP `eip_id` released, if it was the last EIP to hold one.
    fn address_of_last_eip(&mut self, eip_id: &str) -> StoreResult<Option<String>>;

    // --- VPCs, vSwitches, security groups
    /// Inserts a VPC.
    fn vpc_insert(&mut self, row: &VpcRow) -> StoreResult<()>;
    /// A VPC of an account.
    fn vpc_get(&mut self, account: &str, id: &str) -> StoreResult<Option<VpcRow>>;
    /// VPCs of an account in a region.
    fn vpc_list(&mut self, account: &str, region: &str) -> StoreResult<Vec<VpcRow>>;
    /// Deletes a VPC.
    fn vpc_delete(&mut self, id: &str) -> StoreResult<()>;
    /// Inserts a vSwitch.
    fn vswitch_insert(&mut self, row: &VSwitchRow) -> StoreResult<()>;
    /// A vSwitch of an account.
    fn vswitch_get(&mut self, account: &str, id: &str) -> StoreResult<Option<VSwitchRow>>;
    /// vSwitches of an account in a region.
    fn vswitch_list(&mut self, account: &str, region: &str) -> StoreResult<Vec<VSwitchRow>>;
    /// Deletes a vSwitch.
    fn vswitch_delete(&mut self, id: &str) -> StoreResult<()>;
    /// Inserts a security group.
    fn sg_insert(&mut self, row: &SecurityGroupRow) -> StoreResult<()>;
    /// A security group of an account.
    fn sg_get(&mut self, account: &str, id: &str) -> StoreResult<Option<SecurityGroupRow>>;
    /// Deletes a security group.
    fn sg_delete(&mut self, id: &str) -> StoreResult<()>;
    /// Security groups of an account in a region.
    fn sg_list(&mut self, account: &str, region: &str) -> StoreResult<Vec<SecurityGroupRow>>;

    // --- instances, ENIs, private IPs
    /// Inserts an instance.
    fn instance_insert(&mut self, row: &InstanceRow) -> StoreResult<()>;
    /// An instance by id (any account; the caller checks ownership).
    fn instance_get(&mut self, id: &str) -> StoreResult<Option<InstanceRow>>;
    /// An instance (any account) with what an EIP association checks of it, in one round trip.
    fn ecs_target(&mut self, id: &str) -> StoreResult<Option<EcsTargetRow>>;
    /// Instances of an account in a region, oldest first.
    fn instance_list(&mut self, account: &str, region: &str) -> StoreResult<Vec<InstanceRow>>;
    /// Replaces an instance row.
    fn instance_update(&mut self, row: &InstanceRow) -> StoreResult<()>;
    /// Deletes an instance.
    fn instance_delete(&mut self, id: &str) -> StoreResult<()>;
    /// Counts instances using a vSwitch or security group.
    fn instance_count_using(&mut self, vswitch_or_sg: &str) -> StoreResult<i64>;
    /// Inserts an ENI.
    fn eni_insert(&mut self, row: &EniRow) -> StoreResult<()>;
    /// ENIs attached to an instance.
    fn eni_list_by_instance(&mut self, instance: &str) -> StoreResult<Vec<EniRow>>;
    /// Counts ENIs in a vSwitch.
    fn eni_count_in_vswitch(&mut self, vswitch: &str) -> StoreResult<i64>;
    /// Deletes an ENI and its private IPs.
    fn eni_delete(&mut self, id: &str) -> StoreResult<()>;
    /// Private IPs taken in a vSwitch.
    fn private_ip_list_vswitch(&mut self, vswitch: &str) -> StoreResult<Vec<PrivateIpRow>>;
    /// Private IPs of an ENI.
    fn private_ip_list_eni(&mut self, eni: &str) -> StoreResult<Vec<PrivateIpRow>>;
    /// Takes a private IP.
    fn private_ip_insert(&mut self, row: &PrivateIpRow) -> StoreResult<()>;
    /// Gives one private IP back.
    fn private_ip_delete(&mut self, vswitch: &str, ip: &str) -> StoreResult<()>;
    /// Gives back every private IP a holder has.
    fn private_ip_delete_holder(&mut self, holder: &str) -> StoreResult<()>;
    /// An ENI by id (any account).
    fn eni_get(&mut self, id: &str) -> StoreResult<Option<EniRow>>;
    /// Every associated EIP of every account and region, without tags, in no
    /// particular order (the data plane's snapshot: one sequential scan, not
    /// one query per row).
    fn eip_list_associated(&mut self) -> StoreResult<Vec<EipRow>>;
    /// Every instance of every account and region, in no particular order
    /// (one sequential scan, for the data plane's snapshot).
    fn instance_list_all(&mut self) -> StoreResult<Vec<InstanceRow>>;
    /// Every ENI of every account and region, in no particular order.
    fn eni_list_all(&mut self) -> StoreResult<Vec<EniRow>>;
    /// Every private IP held by an ENI or other holder, in no particular order.
    fn private_ip_list_all(&mut self) -> StoreResult<Vec<PrivateIpRow>>;
    /// Whether an ENI already has this MAC address.
    fn eni_mac_taken(&mut self, mac: &str) -> StoreResult<bool>;
    /// Replaces an ENI row.
    fn eni_update(&mut self, row: &EniRow) -> StoreResult<()>;
    /// ENIs of an account in a region, oldest first.
    fn eni_list(&mut self, account: &str, region: &str) -> StoreResult<Vec<EniRow>>;

    // --- EIPs
    /// Inserts an EIP with its tags.
    fn eip_insert(&mut self, row: &EipRow) -> StoreResult<()>;
    /// An EIP by id (any account).
    fn eip_get(&mut self, id: &str) -> StoreResult<Option<EipRow>>;
    /// Replaces an EIP row's columns. Tags are written by `eip_insert` only:
    /// no action changes them afterwards, so updates never touch `eip_tag`.
    fn eip_update(&mut self, row: &EipRow) -> StoreResult<()>;
    /// Sets a VPC's name and description.
    fn vpc_rename(&mut self, id: &str, name: &str, description: &str) -> StoreResult<()>;
    /// Sets a vSwitch's name and description.
    fn vswitch_rename(&mut self, id: &str, name: &str, description: &str) -> StoreResult<()>;
    /// A VPC's secondary IPv4 CIDR blocks, oldest first.
    fn vpc_cidr_list(&mut self, vpc: &str) -> StoreResult<Vec<String>>;
    /// Adds a secondary CIDR block to a VPC.
    fn vpc_cidr_add(&mut self, vpc: &str, cidr: &str, at: i64) -> StoreResult<()>;
    /// Removes one; whether it was there.
    fn vpc_cidr_remove(&mut self, vpc: &str, cidr: &str) -> StoreResult<bool>;
    /// Sets an instance's user data (Base64 as sent).
    fn user_data_put(&mut self, instance: &str, data: &str) -> StoreResult<()>;
    /// An instance's user data, if it was given any.
    fn user_data_get(&mut self, instance: &str) -> StoreResult<Option<String>>;
    /// Replaces an EIP's tags (TagResources / UntagResources).
    fn eip_tags_set(&mut self, id: &str, tags: &[(String, String)]) -> StoreResult<()>;
    /// Moves an EIP to another resource group (MoveResourceGroup).
    fn eip_set_resource_group(&mut self, id: &str, group: &str) -> StoreResult<()>;
    /// Deletes an EIP.
    fn eip_delete(&mut self, id: &str) -> StoreResult<()>;

    // --- Tags of other resources (EIPs keep theirs on the EIP)
    /// Every tag of an account's resources of one type, by resource then key.
    fn tag_list(&mut self, account: &str, resource_type: &str) -> StoreResult<Vec<TagRow>>;
    /// Sets one tag (a new value replaces the old one).
    fn tag_put(&mut self, row: &TagRow) -> StoreResult<()>;
    /// Removes one tag; whether it existed.
    fn tag_delete(&mut self, resource_type: &str, resource_id: &str, key: &str) -> StoreResult<bool>;
    /// EIPs associated with an instance-like target.
    fn eip_list_by_target(&mut self, target_id: &str) -> StoreResult<Vec<EipRow>>;
    /// EIPs that map to a private IP of a vSwitch (any mode).
    fn eip_list_by_private_ip(&mut self, vswitch: &str, ip: &str) -> StoreResult<Vec<EipRow>>;
    /// A filtered page of EIPs and the total count.
    fn eip_query(&mut self, q: &EipQuery) -> StoreResult<(i64, Vec<EipRow>)>;
    /// Number of EIPs an account holds in a region.
    fn eip_count(&mut self, account: &str, region: &str) -> StoreResult<i64>;
    /// Counts an account's EIPs in every region (its EIP quota's usage).
    fn eip_count_all_regions(&mut self, account: &str) -> StoreResult<i64>;

    // --- NAT gateways and their entries
    /// Inserts a NAT gateway.
    fn nat_insert(&mut self, row: &NatGatewayRow) -> StoreResult<()>;
    /// A NAT gateway by id (any account).
    fn nat_get(&mut self, id: &str) -> StoreResult<Option<NatGatewayRow>>;
    /// The NAT gateway owning an SNAT or forward table.
    fn nat_get_by_table(&mut self, table_id: &str) -> StoreResult<Option<NatGatewayRow>>;
    /// Replaces a NAT gateway row.
    fn nat_update(&mut self, row: &NatGatewayRow) -> StoreResult<()>;
    /// Deletes a NAT gateway (its entries must be gone).
    fn nat_delete(&mut self, id: &str) -> StoreResult<()>;
    /// NAT gateways of an account in a region, oldest first.
    fn nat_list(&mut self, account: &str, region: &str) -> StoreResult<Vec<NatGatewayRow>>;
    /// Inserts an SNAT entry.
    fn snat_insert(&mut self, row: &SnatEntryRow) -> StoreResult<()>;
    /// An SNAT entry by id.
    fn snat_get(&mut self, id: &str) -> StoreResult<Option<SnatEntryRow>>;
    /// Deletes an SNAT entry.
    fn snat_delete(&mut self, id: &str) -> StoreResult<()>;
    /// SNAT entries of a gateway, oldest first.
    fn snat_list(&mut self, nat_gateway: &str) -> StoreResult<Vec<SnatEntryRow>>;
    /// Inserts a DNAT entry.
    fn forward_insert(&mut self, row: &ForwardEntryRow) -> StoreResult<()>;
    /// A DNAT entry by id.
    fn forward_get(&mut self, id: &str) -> StoreResult<Option<ForwardEntryRow>>;
    /// Deletes a DNAT entry.
    fn forward_delete(&mut self, id: &str) -> StoreResult<()>;
    /// DNAT entries of a gateway, oldest first.
    fn forward_list(&mut self, nat_gateway: &str) -> StoreResult<Vec<ForwardEntryRow>>;

    // --- HaVips and quotas
    /// Inserts a HaVip.
    fn havip_insert(&mut self, row: &HaVipRow) -> StoreResult<()>;
    /// A HaVip by id (any account).
    fn havip_get(&mut self, id: &str) -> StoreResult<Option<HaVipRow>>;
    /// Replaces a HaVip row.
    fn havip_update(&mut self, row: &HaVipRow) -> StoreResult<()>;
    /// Deletes a HaVip.
    fn havip_delete(&mut self, id: &str) -> StoreResult<()>;
    /// HaVips of an account in a region, oldest first.
    fn havip_list(&mut self, account: &str, region: &str) -> StoreResult<Vec<HaVipRow>>;
    /// Number of HaVips an account holds (all regions).
    fn havip_count(&mut self, account: &str) -> StoreResult<i64>;
    /// Associates an instance or ENI with a HaVip.
    fn havip_member_insert(&mut self, row: &HaVipMemberRow) -> StoreResult<()>;
    /// Removes one association.
    fn havip_member_delete(&mut self, havip: &str, instance: &str) -> StoreResult<()>;
    /// Instances and ENIs of a HaVip, oldest first.
    fn havip_member_list(&mut self, havip: &str) -> StoreResult<Vec<HaVipMemberRow>>;
    /// HaVips an instance or ENI is associated with.
    fn havip_member_list_by_instance(&mut self, instance: &str) -> StoreResult<Vec<HaVipMemberRow>>;
    /// A quota of an account, when set.
    fn quota_get(&mut self, account: &str, name: &str) -> StoreResult<Option<i64>>;
    /// Sets a quota of an account.
    fn quota_set(&mut self, account: &str, name: &str, value: i64) -> StoreResult<()>;

    // --- load balancers
    /// Inserts a load balancer.
    fn lb_insert(&mut self, row: &LoadBalancerRow) -> StoreResult<()>;
    /// A load balancer by id (any account).
    fn lb_get(&mut self, id: &str) -> StoreResult<Option<LoadBalancerRow>>;
    /// Replaces a load balancer row.
    fn lb_update(&mut self, row: &LoadBalancerRow) -> StoreResult<()>;
    /// Deletes a load balancer and its zones.
    fn lb_delete(&mut self, id: &str) -> StoreResult<()>;
    /// Load balancers of one kind of an account in a region, oldest first.
    fn lb_list(&mut self, account: &str, region: &str, kind: &str) -> StoreResult<Vec<LoadBalancerRow>>;
    /// Load balancers of one kind of an account in every region, oldest first.
    fn lb_list_all_regions(&mut self, account: &str, kind: &str) -> StoreResult<Vec<LoadBalancerRow>>;
    /// Adds a zone to an ALB/NLB.
    fn lb_zone_insert(&mut self, row: &LbZoneRow) -> StoreResult<()>;
    /// Replaces a zone row.
    fn lb_zone_update(&mut self, row: &LbZoneRow) -> StoreResult<()>;
    /// Zones of an ALB/NLB, by zone id.
    fn lb_zone_list(&mut self, lb: &str) -> StoreResult<Vec<LbZoneRow>>;

    /// Creates or replaces a CLB listener.
    fn clb_listener_put(&mut self, row: &ClbListenerRow) -> StoreResult<()>;
    /// Listeners of a CLB, by port.
    fn clb_listener_list(&mut self, lb: &str) -> StoreResult<Vec<ClbListenerRow>>;
    /// Adds or re-weights a CLB backend server.
    fn clb_backend_put(&mut self, row: &ClbBackendRow) -> StoreResult<()>;
    /// Backend servers of a CLB, by server id.
    fn clb_backend_list(&mut self, lb: &str) -> StoreResult<Vec<ClbBackendRow>>;
    /// Records a traffic sample, replacing the EIP's earlier sample of the
    /// same minute.
    fn traffic_put(&mut self, row: &TrafficRow) -> StoreResult<()>;
    /// Samples taken at or after `since_ms`, oldest first.
    fn traffic_since(&mut self, since_ms: i64) -> StoreResult<Vec<TrafficRow>>;
    /// Drops samples taken before `before_ms`.
    fn traffic_expire(&mut self, before_ms: i64) -> StoreResult<usize>;
    /// One EIP's samples taken before `until_ms`, oldest first, from the
    /// last one taken at or before `from_ms` on (the totals at `from_ms`),
    /// or from `from_ms` on when there was none.
    fn traffic_of(&mut self, eip_id: &str, from_ms: i64, until_ms: i64) -> StoreResult<Vec<TrafficRow>>;
    /// Makes `rows` the checked CLB backends of `regions`: rows of those
    /// regions not in `rows` go, the others are written as given.
    fn backend_health_replace(&mut self, regions: &[String], rows: &[BackendHealthRow]) -> StoreResult<()>;
    /// The checked backends of one CLB, by listener port and server id.
    fn backend_health_of(&mut self, lb_id: &str) -> StoreResult<Vec<BackendHealthRow>>;
    /// Deletes one listener (false when there was none).
    fn clb_listener_delete(&mut self, lb: &str, port: i64) -> StoreResult<bool>;
    /// Removes one backend server (false when it was not a backend).
    fn clb_backend_delete(&mut self, lb: &str, server_id: &str) -> StoreResult<bool>;

    // --- tasks (asynchronous transitions)
    /// Schedules a task.
    fn task_insert(&mut self, row: &TaskRow) -> StoreResult<()>;
    /// Tasks due at or before `now`, earliest first.
    fn task_due(&mut self, now: i64, limit: i64) -> StoreResult<Vec<TaskRow>>;
    /// Removes a task.
    fn task_delete(&mut self, id: &str) -> StoreResult<()>;
    /// Claims for `holder`, until `until`, up to `limit` tasks due at or
    /// before `now` that nobody holds, whose claim has lapsed, or that are
    /// `holder`'s own already; earliest first. Where the backend locks rows,
    /// tasks another transaction is claiming at this moment are skipped, not
    /// waited for (run it in a [`StoreExt::claim`] job).
    fn task_claim(&mut self, now: i64, limit: i64, holder: &str, until: i64) -> StoreResult<Vec<TaskRow>>;
    /// Removes a task if `holder` holds its claim; false when it is gone or
    /// claimed by another.
    fn task_take(&mut self, id: &str, holder: &str) -> StoreResult<bool>;
    /// When the next task may be run: the earliest due time, or, for a task
    /// claimed past its due time, the end of that claim.
    fn task_next_due(&mut self) -> StoreResult<Option<i64>>;
    /// Number of scheduled tasks.
    fn task_count(&mut self) -> StoreResult<i64>;

    // --- idempotency
    /// A stored ClientToken result.
    fn token_get(&mut self, account: &str, action: &str, token: &str) -> StoreResult<Option<TokenRow>>;
    /// Stores a ClientToken result.
    fn token_insert(&mut self, row: &TokenRow) -> StoreResult<()>;
    /// Forgets tokens older than `before`.
    fn token_expire(&mut self, before: i64) -> StoreResult<i64>;

    // --- signature nonces of writes (replay refusal across restarts)
    /// Records a nonce until `expires_at`; false if it is recorded and has
    /// not expired at `now`.
    fn nonce_claim(&mut self, key: &str, expires_at: i64, now: i64) -> StoreResult<bool>;
    /// Nonces that have not expired at `now`, with their expiry.
    fn nonce_live(&mut self, now: i64) -> StoreResult<Vec<(String, i64)>>;
    /// Forgets nonces expired at `now`.
    fn nonce_expire(&mut self, now: i64) -> StoreResult<i64>;

    // --- data-plane leases and change notes
    /// Every region's lease, by region.
    fn lease_list(&mut self) -> StoreResult<Vec<LeaseRow>>;
    /// Takes or renews a lease (replaces the region's row).
    fn lease_put(&mut self, row: &LeaseRow) -> StoreResult<()>;
    /// Lets a lease lapse now if `holder` holds it (a clean stop: a standby
    /// need not wait out the lease); whether it did.
    fn lease_release(&mut self, region: &str, holder: &str, now: i64) -> StoreResult<bool>;
    /// Says what this transaction changed, for the data planes of other
    /// processes sharing the store (see [`Store::subscribe`]). Several notes
    /// merge; a transaction without one counts as [`Changes::anything`].
    fn note_changes(&mut self, changes: &Changes);
}
