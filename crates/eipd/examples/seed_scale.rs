//! `seed_scale --data-dir D --n N`: seeds a fresh data directory with N ECS
//! instances in `cn-hangzhou`, each with its own EIP associated in NAT mode and
//! `InUse`, for the data-plane scale benchmark (`bench/scale_dataplane.py`).
//!
//! Everything goes through the controller's dispatch (`Controller::call`) with
//! the parameters an SDK would send, and the asynchronous transitions
//! (instances `Pending` → `Starting` → `Running`, EIPs `Associating` →
//! `InUse`) are completed by the task runner's own `run_due`, so the rows are
//! exactly those the API produces. The root account is bootstrapped as `eipd
//! serve` does, with the key pair of `EIPD_ROOT_ACCESS_KEY_ID` /
//! `EIPD_ROOT_ACCESS_KEY_SECRET` (or a generated one written to
//! `D/credentials`), and the region's pool is set as `--pool` sets it.
//!
//! The estate: a VPC `10.0.0.0/8`, a security group, one `/24` vSwitch per 252
//! instances (`10.x.y.0/24`, from `10.0.0.0`), N instances started with
//! `RunInstances` (`Amount` up to 100), N EIPs (`AllocateEipAddress`) each
//! associated (`AssociateEipAddress`) with one instance.
//!
//! Durability: each API write normally flushes the WAL (fdatasync, about
//! 3.6 ms on this machine's disk), which for the ~200k writes of N = 100k would
//! add about 12 minutes. By default the seeding store skips the per-commit
//! flush (SQLite `synchronous=NORMAL`: commits still go through the WAL in
//! order) and the database and WAL are synced once at the end; `--durable`
//! keeps the per-write flush.
//!
//! Time (2 vCPUs, N = 100k): about 9.6 minutes, 91 % of it in
//! AssociateEipAddress, whose cost grows with the number of EIPs (see the
//! comment at the EIP loop); the rest is about 50 s. Prints one JSON line with
//! the phases' timings and writes it to `D/seed.json`.

use clap::Parser;
use eip_api::{Params, Product};
use eip_controller::clock::SystemClock;
use eip_controller::{Body, Config, Controller, Ctx, accounts, tasks};
use eip_store::{Store, StoreExt, Tx, WriteJob};
use eip_store_sqlite::SqliteStore;
use eip_types::{EipStatus, InstanceStatus};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

const REGION: &str = "cn-hangzhou";
const ZONE: &str = "cn-hangzhou-h";
/// Usable addresses of a `/24` vSwitch (the network address and the last three are reserved).
const PER_VSWITCH: usize = 252;

#[derive(Parser)]
#[command(about = "Seed a data directory with N instances, each with an associated (InUse) EIP")]
struct Args {
    /// Data directory to create (must not hold an eipd.db yet).
    #[arg(long)]
    data_dir: PathBuf,
    /// Number of instances and associated EIPs.
    #[arg(long, default_value_t = 100_000)]
    n: usize,
    /// Public address pool of cn-hangzhou (as `eipd serve --pool cn-hangzhou=CIDR`).
    #[arg(long, default_value = "198.18.0.0/15")]
    pool: String,
    /// Flush every write to disk as `eipd serve` does (about 3.6 ms per write here).
    #[arg(long)]
    durable: bool,
}

/// The SQLite store with the per-commit flush turned off (see the module docs).
struct Unflushed(SqliteStore);

impl Store for Unflushed {
    fn submit(&self, job: WriteJob) {
        self.0.submit(WriteJob { durable: false, ..job });
    }
    fn read_dyn(&self, f: &mut (dyn FnMut(&mut dyn Tx) -> eip_types::Result<()> + Send)) -> eip_types::Result<()> {
        self.0.read_dyn(f)
    }
    fn backend(&self) -> &'static str {
        self.0.backend()
    }
    fn external_version(&self) -> Option<i64> {
        self.0.external_version()
    }
}

fn params(pairs: &[(&str, &str)]) -> Params {
    Params::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

fn field(b: &Body, k: &str) -> Result<String, String> {
    b.get(k).and_then(|v| v.as_str()).map(str::to_owned).ok_or_else(|| format!("no {k} in {b:?}"))
}

struct Seeder {
    ctl: Arc<Controller>,
    account: String,
    calls: u64,
}

impl Seeder {
    async fn call(&mut self, product: Product, action: &'static str, p: &[(&str, &str)]) -> Result<Body, String> {
        let ctx = Ctx {
            account: self.account.clone(),
            product,
            action,
            request_id: format!("seed-{}", self.calls),
            nonce: None,
        };
        self.calls += 1;
        self.ctl.call(&ctx, &params(p)).await.map_err(|e| format!("{action}: {e}"))
    }

    /// Runs the task runner's batches until no task is left, waiting for due times.
    async fn drain_tasks(&self) -> Result<usize, String> {
        let mut done = 0;
        loop {
            let n = tasks::run_due(&self.ctl).await.map_err(|e| e.to_string())?;
            done += n;
            if n == 0 {
                let left = self.ctl.task_backlog().map_err(|e| e.to_string())?;
                if left == 0 {
                    return Ok(done);
                }
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        }
    }
}

fn ms(t: Instant) -> f64 {
    (t.elapsed().as_secs_f64() * 1e4).round() / 10.0
}

async fn seed(a: Args) -> Result<serde_json::Value, String> {
    std::fs::create_dir_all(&a.data_dir).map_err(|e| format!("{}: {e}", a.data_dir.display()))?;
    let db = a.data_dir.join("eipd.db");
    if db.exists() {
        return Err(format!("{} exists: seed a fresh data directory", db.display()));
    }
    let t_all = Instant::now();
    let sqlite = SqliteStore::open(&db).map_err(|e| format!("cannot open {}: {e}", db.display()))?;
    let store: Arc<dyn Store> = if a.durable { Arc::new(sqlite) } else { Arc::new(Unflushed(sqlite)) };
    // Task delay 1 ms, no data plane: the task runner completes every transition.
    let ctl = Controller::new(store, Arc::new(SystemClock::new()), Config { task_delay_ms: 1, dataplane: false });
    let fixed = match (std::env::var("EIPD_ROOT_ACCESS_KEY_ID"), std::env::var("EIPD_ROOT_ACCESS_KEY_SECRET")) {
        (Ok(id), Ok(secret)) if !id.is_empty() && !secret.is_empty() => Some((id, secret)),
        _ => None,
    };
    let boot = accounts::bootstrap(&ctl, fixed).await.map_err(|e| format!("bootstrap: {e}"))?;
    if let Some(secret) = &boot.new_secret {
        std::fs::write(
            a.data_dir.join("credentials"),
            format!("[default]\naccess_key_id = {}\naccess_key_secret = {secret}\n", boot.access_key_id),
        )
        .map_err(|e| e.to_string())?;
    }
    accounts::set_pools(&ctl, REGION, std::slice::from_ref(&a.pool)).await.map_err(|e| format!("pool: {e}"))?;
    // Far more EIPs than the cloud's default quota of 20 per account.
    eip_controller::quotas::set_quota(&ctl, accounts::ROOT, "eip_count", 1_000_000)
        .await
        .map_err(|e| format!("quota: {e}"))?;
    let mut s = Seeder { ctl: ctl.clone(), account: boot.root_account.clone(), calls: 0 };

    // The network: a VPC, a security group, /24 vSwitches.
    let t = Instant::now();
    let vpc = s
        .call(Product::Vpc, "CreateVpc", &[("RegionId", REGION), ("CidrBlock", "10.0.0.0/8"), ("VpcName", "scale-vpc")])
        .await?;
    let vpc_id = field(&vpc, "VpcId")?;
    let sg = s
        .call(
            Product::Ecs,
            "CreateSecurityGroup",
            &[("RegionId", REGION), ("VpcId", &vpc_id), ("SecurityGroupName", "scale-sg")],
        )
        .await?;
    let sg_id = field(&sg, "SecurityGroupId")?;
    let n_vsw = a.n.div_ceil(PER_VSWITCH);
    if n_vsw > 65_000 {
        return Err("too many instances for 10.0.0.0/8 in /24 vSwitches".into());
    }
    let mut vswitches = Vec::with_capacity(n_vsw);
    for k in 0..n_vsw {
        let cidr = format!("10.{}.{}.0/24", k / 256, k % 256);
        let name = format!("scale-vsw-{k}");
        let v = s
            .call(
                Product::Vpc,
                "CreateVSwitch",
                &[("VpcId", &vpc_id), ("ZoneId", ZONE), ("CidrBlock", &cidr), ("VSwitchName", &name)],
            )
            .await?;
        vswitches.push(field(&v, "VSwitchId")?);
    }
    let network_ms = ms(t);

    // The instances: RunInstances with Amount up to 100, then their start-up tasks.
    let t = Instant::now();
    let mut instances: Vec<String> = Vec::with_capacity(a.n);
    let mut mac_retries = 0u64;
    for (k, vsw) in vswitches.iter().enumerate() {
        let mut left = PER_VSWITCH.min(a.n - k * PER_VSWITCH);
        while left > 0 {
            let amount = left.min(100);
            let amount_text = amount.to_string();
            let p = [
                ("RegionId", REGION),
                ("InstanceType", "ecs.g7.large"),
                ("ImageId", "ubuntu_22_04_x64_20G_alibase_20240101.vhd"),
                ("VSwitchId", vsw.as_str()),
                ("SecurityGroupId", sg_id.as_str()),
                ("InstanceName", "scale"),
                ("Amount", amount_text.as_str()),
            ];
            // ENI MACs are 24 random bits (`00:16:3e:xx:xx:xx`): past a few
            // thousand instances a new one collides now and then, the
            // transaction fails on the unique index and rolls back whole, and
            // a client retries. So does the seeder (counted in the report).
            let r = loop {
                match s.call(Product::Ecs, "RunInstances", &p).await {
                    Err(e) if e.contains("eni.mac") && mac_retries < 10_000 => mac_retries += 1,
                    other => break other?,
                }
            };
            let ids = r
                .get("InstanceIdSets")
                .and_then(|v| v.get("InstanceIdSet"))
                .and_then(|v| v.as_array())
                .ok_or("RunInstances: no InstanceIdSet")?;
            instances.extend(ids.iter().filter_map(|v| v.as_str()).map(str::to_owned));
            left -= amount;
        }
    }
    let run_ms = ms(t);
    let t = Instant::now();
    let instance_tasks = s.drain_tasks().await?;
    let start_ms = ms(t);

    // The EIPs: each allocated, then associated (NAT mode) with its instance;
    // then the association tasks. Allocating and associating in turn (as a
    // user would) rather than all allocations first matters: each
    // AssociateEipAddress with an ECS instance scans the whole eip table
    // (`eip_list_by_private_ip`: `private_vswitch_id = ? AND private_ip = ?`
    // has no usable index, the only one on those columns is partial on
    // `mode = 'NAT'`), so its cost grows with the EIPs that exist.
    let (mut allocate, mut associate) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    let mut slowest_associate = std::time::Duration::ZERO;
    for inst in &instances {
        let t = Instant::now();
        let e = s.call(Product::Vpc, "AllocateEipAddress", &[("RegionId", REGION)]).await?;
        let eip = field(&e, "AllocationId")?;
        allocate += t.elapsed();
        let t = Instant::now();
        s.call(
            Product::Vpc,
            "AssociateEipAddress",
            &[
                ("RegionId", REGION),
                ("AllocationId", &eip),
                ("InstanceId", inst),
                ("InstanceType", "EcsInstance"),
                ("Mode", "NAT"),
            ],
        )
        .await?;
        associate += t.elapsed();
        slowest_associate = slowest_associate.max(t.elapsed());
    }
    let allocate_ms = (allocate.as_secs_f64() * 1e4).round() / 10.0;
    let associate_ms = (associate.as_secs_f64() * 1e4).round() / 10.0;
    let t = Instant::now();
    let eip_tasks = s.drain_tasks().await?;
    let complete_ms = ms(t);

    // Check what the API would now report, then make it all durable.
    let account = boot.root_account.clone();
    let (running, in_use) = ctl
        .store()
        .read(move |tx| {
            let running =
                tx.instance_list(&account, REGION)?.iter().filter(|i| i.status == InstanceStatus::Running).count();
            let q = eip_store::EipQuery {
                account_id: account.clone(),
                region_id: REGION.to_owned(),
                status: Some(EipStatus::InUse),
                limit: 1,
                ..Default::default()
            };
            let (in_use, _) = tx.eip_query(&q)?;
            Ok((running, in_use))
        })
        .map_err(|e| e.to_string())?;
    if running != a.n || in_use as usize != a.n {
        return Err(format!("expected {} running instances and InUse EIPs, got {running} and {in_use}", a.n));
    }
    let api_calls = s.calls;
    let t = Instant::now();
    drop(s);
    drop(ctl);
    for f in ["eipd.db", "eipd.db-wal"] {
        if let Ok(file) = std::fs::File::open(a.data_dir.join(f)) {
            file.sync_all().map_err(|e| format!("sync {f}: {e}"))?;
        }
    }
    let sync_ms = ms(t);
    let out = json!({
        "n": a.n,
        "durable_per_write": a.durable,
        "pool": a.pool,
        "vswitches": n_vsw,
        "api_calls": api_calls,
        "instance_tasks": instance_tasks,
        "eip_tasks": eip_tasks,
        "run_instances_mac_collision_retries": mac_retries,
        "ms": {
            "network": network_ms,
            "run_instances": run_ms,
            "instance_tasks": start_ms,
            "allocate": allocate_ms,
            "associate": associate_ms,
            "slowest_associate": (slowest_associate.as_secs_f64() * 1e4).round() / 10.0,
            "eip_tasks": complete_ms,
            "final_sync": sync_ms,
            "total": ms(t_all),
        },
        "db_bytes": std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0),
    });
    Ok(out)
}

fn main() {
    let a = Args::parse();
    let dir = a.data_dir.clone();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    match rt.block_on(seed(a)) {
        Ok(out) => {
            let line = out.to_string();
            println!("{line}");
            if let Err(e) = std::fs::write(dir.join("seed.json"), format!("{line}\n")) {
                eprintln!("seed_scale: cannot write seed.json: {e}");
            }
        }
        Err(e) => {
            eprintln!("seed_scale: {e}");
            std::process::exit(1);
        }
    }
}
