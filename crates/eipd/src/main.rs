//! `eipd`: a self-hosted Elastic IP service that speaks Alibaba Cloud's RPC
//! OpenAPI (VPC 2016-04-28, ECS 2014-05-26, SLB 2014-05-15, ALB 2020-06-16,
//! NLB 2022-04-30) on one port, so the official
//! SDKs work against it by changing only the endpoint.

use eip_agent as dataplane;
use eipd::{listener, logbuf, server};

/// mimalloc: request handling is allocation-heavy and glibc malloc showed up
/// as a tenth of the server's CPU in profiles.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use eip_controller::clock::SystemClock;
use eip_controller::{Config, Controller, accounts, demo, tasks};
use eipd::store::{Create, StoreArgs};
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "eipd", version, about = "Self-hosted Elastic IP service with Alibaba Cloud's EIP API and semantics")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server (VPC, ECS, SLB, ALB and NLB products on one port) on an embedded
    /// SQLite store, or on a PostgreSQL store shared with other nodes (--database-url).
    Serve(ServeArgs),
    /// Print the API coverage document (the source of docs/api-coverage.md).
    ApiCoverage,
    /// Manage accounts in a server's store (works while the server runs).
    #[command(subcommand)]
    Account(AccountCommand),
    /// Manage AccessKey pairs in a server's store (works while the server runs).
    #[command(subcommand)]
    Accesskey(AccessKeyCommand),
    /// Administer NAT gateways in a server's store (works while the server runs).
    #[command(subcommand)]
    Nat(NatCommand),
    /// Set per-account quotas in a server's store (works while the server runs).
    #[command(subcommand)]
    Quota(QuotaCommand),
    /// The namespace lab of `serve --lab`.
    #[command(subcommand)]
    Lab(LabCommand),
    /// Operate HaVips in a server's store (works while the server runs).
    #[command(subcommand)]
    Havip(HavipCommand),
    /// Show or move the control-plane clock of a server's store, for every node on it
    /// (works while they run): rules and timers (7-day retrieval, task delays, ClientToken
    /// lifetimes) see the moved time; signature checks keep the host's.
    #[command(subcommand)]
    Clock(ClockCommand),
    /// Run the data plane alone on a gateway host, from the store the API nodes share:
    /// one agent at a time holds each region's lease, a standby takes over when it dies.
    Agent(eipd::agent::AgentArgs),
}

#[derive(Subcommand)]
enum ClockCommand {
    /// Print the control-plane time and how far it is ahead of the host's.
    Show {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Move the clock forward by DURATION (7d, 36h, 90m, 45s, 1d12h).
    Advance {
        /// How far.
        duration: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Move the clock forward to TIME (YYYY-MM-DDThh:mm:ssZ, UTC); never back.
    Set {
        /// The new time.
        time: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
enum HavipCommand {
    /// Make INSTANCE_ID (an instance or an ENI) the HaVip's master (DescribeHaVips'
    /// MasterInstanceId). When the server runs with `--lab`, the floating address moves to
    /// that instance's namespace (onto the ENI's NIC for an ENI) at once and the gateway's
    /// neighbour entry follows it (the gratuitous ARP's job).
    Failover {
        #[command(flatten)]
        store: StoreArgs,
        /// The HaVip (havip-…).
        havip_id: String,
        /// The instance or ENI to become master; it must be associated with the HaVip.
        instance_id: String,
    },
}

#[derive(Subcommand)]
enum LabCommand {
    /// Remove every namespace (and with them every link and nftables table) the lab of
    /// this data directory made, and every `openeip-` namespace. Safe to repeat.
    Down {
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
enum NatCommand {
    /// Record when a NAT gateway was really created (importing existing gateways). Gateways
    /// in EIP bind mode NAT created before 2022-09-19 give their EIPs no private IP (NAT-03).
    SetCreationTime {
        #[command(flatten)]
        store: StoreArgs,
        /// The gateway (ngw-…).
        nat_gateway_id: String,
        /// Creation time, YYYY-MM-DDThh:mm:ssZ (UTC).
        time: String,
    },
}

#[derive(Subcommand)]
enum QuotaCommand {
    /// Set a quota of an account: eip_count (EIPs held, all regions; default 20),
    /// havip_permission (1 = may create HaVips; default 0), havip_count (default 50),
    /// nat_gateway_eips (EIPs per NAT gateway; default 20) or eni_multi_binded_eips
    /// (MULTI_BINDED EIPs per ENI; default 10).
    Set {
        #[command(flatten)]
        store: StoreArgs,
        /// Account name (or id).
        account: String,
        /// Quota name.
        name: String,
        /// New value.
        value: i64,
    },
    /// List the Quota Center applications of every account, newest first.
    Applications {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Approve an application in review: the quota takes the desired value (or --value).
    Approve {
        /// The application (ApplicationId).
        application_id: String,
        /// Grant this value instead of the one asked for.
        #[arg(long)]
        value: Option<i64>,
        /// The AuditReason the applicant reads.
        #[arg(long, default_value = "Approved.")]
        reason: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Reject an application in review.
    Reject {
        /// The application (ApplicationId).
        application_id: String,
        /// The AuditReason the applicant reads.
        #[arg(long, default_value = "Rejected.")]
        reason: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// The review policy: applications for a quota up to CEILING are approved when filed,
    /// higher ones wait for `eipd quota approve|reject` (0: every one waits). By default
    /// the HaVip permission is approved and everything else waits.
    Policy {
        #[command(flatten)]
        store: StoreArgs,
        /// Quota name (as for `set`).
        name: String,
        /// Highest value approved without an operator.
        ceiling: i64,
    },
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account with a new AccessKey pair and print the pair.
    Create {
        /// Account name (unique).
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List accounts, whether each is enabled, and their AccessKeyIds.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Disable an account: none of its AccessKeys signs requests until it is enabled.
    Disable {
        /// Account name (or id).
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Enable a disabled account again.
    Enable {
        /// Account name (or id).
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Add AMOUNT dollars (e.g. 25 or 12.50) to an account's balance (BssOpenApi
    /// QueryAccountBalance) and print the new balance.
    Topup {
        /// Account name (or id).
        name: String,
        /// Dollars, more than 0 and at most 1000000.
        #[arg(allow_hyphen_values = true)]
        amount: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
enum AccessKeyCommand {
    /// Create another AccessKey pair for an account and print it (the secret is shown
    /// only here).
    Create {
        /// Account name (or id).
        account: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List an account's AccessKeyIds, whether each is enabled, and when it was made.
    List {
        /// Account name (or id).
        account: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Disable a key: requests it signs get `InvalidAccessKeyId.Inactive`.
    Disable {
        /// The AccessKeyId.
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Enable a disabled key again.
    Enable {
        /// The AccessKeyId.
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Delete a disabled key (an enabled one must be disabled first, as on the cloud).
    Delete {
        /// The AccessKeyId.
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Parser)]
struct ServeArgs {
    /// Address to listen on. Point the SDK's endpoint here (protocol http).
    #[arg(long, default_value = "127.0.0.1:8716", env = "EIPD_LISTEN")]
    listen: SocketAddr,
    #[command(flatten)]
    store: StoreArgs,
    /// How long asynchronous transitions take (Associating, Unassociating, Releasing,
    /// instance Pending/Starting/Stopping), in milliseconds. Must be at least 1.
    #[arg(long, default_value_t = 500, env = "EIPD_TASK_DELAY_MS", value_parser = clap::value_parser!(i64).range(1..=3_600_000))]
    task_delay_ms: i64,
    /// Seed a demo estate for the root account in cn-hangzhou: a VPC, a vSwitch,
    /// a security group and two running ECS instances (demo-1, demo-2). Idempotent.
    #[arg(long)]
    demo: bool,
    /// Public address pool of a region, REGION=CIDR (repeatable). The pools given for
    /// a region replace its default /20 inside 198.18.0.0/15 (the benchmarking range);
    /// regions not named keep their default.
    #[arg(long = "pool", value_name = "REGION=CIDR")]
    pools: Vec<String>,
    /// Log format: text or json. The level comes from EIPD_LOG (default "info").
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    /// HTTP worker threads (1 = a single event loop, best on small machines).
    #[arg(long, default_value_t = 1, env = "EIPD_WORKER_THREADS")]
    worker_threads: usize,
    /// Run the data plane in a lab of network namespaces on this host (Linux, root,
    /// `ip`, `nft`, `conntrack`): an internet namespace (openeip-internet), a gateway per
    /// region (openeip-gw-REGION) owning one nftables table, a bridge per vSwitch and a
    /// namespace per ECS instance named after its id. EIPs become InUse only once their
    /// translation is in the kernel. A clean stop, or `eipd lab down`, removes it all.
    #[arg(long, conflicts_with = "gateways")]
    lab: bool,
    /// Operator mode: program the gateway of REGION in the existing network namespace
    /// NETNS (repeatable; name the host's own namespace with `ip netns attach NETNS 1`).
    /// eipd loads its one nftables table there and creates no namespace, link or route:
    /// the operator routes the region's pool to that namespace and its private networks
    /// from it (docs/dataplane.md, "Operator mode"). EIPs become InUse once programmed.
    #[arg(long = "gateway", value_name = "REGION=NETNS")]
    gateways: Vec<String>,
    /// Operator mode: the gateway's interface towards the internet, in every NETNS.
    #[arg(long, default_value = "pub0", requires = "gateways")]
    uplink: String,
    /// With a data plane on a shared store (--database-url): how long this node's lease on
    /// the gateways lasts unless renewed (ms), as `eipd agent --lease-ms`.
    #[arg(long, default_value_t = eip_agent::leased::DEFAULT_LEASE_MS, env = "EIPD_LEASE_MS", value_parser = clap::value_parser!(i64).range(300..=600_000))]
    lease_ms: i64,
    /// Per-account API rate limits like the cloud's (AllocateEipAddress 120 calls per 60 s):
    /// a call beyond its allowance gets HTTP 400 `Throttling.User` with `x-acs-retry-after`.
    #[arg(long, env = "EIPD_THROTTLE")]
    throttle: bool,
    /// One allowance, ACTION=CALLS/SECONDS (repeatable): turns throttling on, and
    /// replaces the published allowance of that action.
    #[arg(long = "throttle-limit", value_name = "ACTION=CALLS/SECONDS")]
    throttle_limits: Vec<String>,
    /// Most client connections served at once; more wait until one closes.
    #[arg(long, default_value_t = 512, env = "EIPD_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..=65_536))]
    max_connections: u32,
    /// Seconds a client may take to send a request's head, and again its body;
    /// idle keep-alive connections are closed after as long.
    #[arg(long, default_value_t = 30, env = "EIPD_CLIENT_TIMEOUT_SECS", value_parser = clap::value_parser!(u64).range(1..=3_600))]
    client_timeout_secs: u64,
}

fn init_logs(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("EIPD_LOG").unwrap_or_else(|_| "info".into());
    use std::io::IsTerminal;
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(logbuf::BufferedStderr);
    if format == "json" { b.json().init() } else { b.init() }
}

/// Writes the root pair to `dir/credentials`, mode 0600 whatever was there:
/// a new file is written next to it and renamed over it.
fn write_credentials(dir: &Path, id: &str, secret: &str, listen: &SocketAddr) -> std::io::Result<PathBuf> {
    use std::io::Write;
    let path = dir.join("credentials");
    let tmp = dir.join(".credentials.new");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
    writeln!(
        f,
        "# openeip root account (created by eipd)\n[default]\naccess_key_id = {id}\naccess_key_secret = {secret}\nregion_id = cn-hangzhou\nendpoint = {listen}\nprotocol = http"
    )?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(path)
}

/// Makes the data directory's secrets private: the directory is created
/// 0700; the database (and SQLite's -wal and -shm files, which get the
/// database's mode) and the credentials file are set to 0600 if they are
/// looser. An existing directory that others can read is reported, not
/// changed (it may be shared on purpose, e.g. `--data-dir .`). With the state
/// in PostgreSQL (`embedded` false) no database file is made.
fn secure_data_dir(dir: &Path, embedded: bool) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mode = std::fs::metadata(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(
            dir = %dir.display(),
            mode = format!("{:o}", mode & 0o777),
            "the data directory is open to other users; its files are kept 0600, but `chmod 700` it to hide their names too"
        );
    }
    let db = dir.join("eipd.db");
    if embedded && !db.exists() {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&db)
            .map_err(|e| format!("cannot create {}: {e}", db.display()))?;
    }
    for name in ["eipd.db", "eipd.db-wal", "eipd.db-shm", "credentials"] {
        let path = dir.join(name);
        let Ok(meta) = std::fs::metadata(&path) else { continue };
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| format!("cannot make {} private: {e}", path.display()))?;
            tracing::warn!(file = %path.display(), "was readable by other users; now 0600");
        }
    }
    Ok(())
}

async fn serve(a: ServeArgs) -> Result<(), String> {
    let gateways = eipd::agent::parse_gateways(&a.gateways)?;
    let mode = if a.lab {
        Some(dataplane::Mode::Lab { data_dir: a.store.data_dir.clone() })
    } else if !gateways.is_empty() {
        Some(dataplane::Mode::Operator { gateways, uplink: a.uplink.clone() })
    } else {
        None
    };
    if mode.is_some() {
        dataplane::check_host()?;
    }
    // The port first: a server that cannot listen touches nothing.
    let listener =
        tokio::net::TcpListener::bind(a.listen).await.map_err(|e| format!("cannot listen on {}: {e}", a.listen))?;
    // The database holds every AccessKey secret (so does the credentials file).
    secure_data_dir(&a.store.data_dir, a.store.embedded())?;
    let store = a.store.open(Create::Yes)?;
    let ctl = eip_controller::clock::controller_following(
        store,
        Config { task_delay_ms: a.task_delay_ms, dataplane: mode.is_some() },
    )
    .map_err(|e| format!("cannot read the control-plane clock: {e}"))?;
    let fixed = match (std::env::var("EIPD_ROOT_ACCESS_KEY_ID"), std::env::var("EIPD_ROOT_ACCESS_KEY_SECRET")) {
        (Ok(id), Ok(secret)) if !id.is_empty() && !secret.is_empty() => Some((id, secret)),
        (Ok(_), Err(_)) | (Err(_), Ok(_)) => {
            return Err("set both EIPD_ROOT_ACCESS_KEY_ID and EIPD_ROOT_ACCESS_KEY_SECRET, or neither".into());
        }
        _ => None,
    };
    if let Some((id, _)) = &fixed
        && !eip_api::bounds::is_plausible_access_key_id(id)
    {
        return Err(format!(
            "EIPD_ROOT_ACCESS_KEY_ID must be 1 to {} letters, digits, '.', '_' or '-'",
            eip_api::bounds::MAX_ACCESS_KEY_ID_LEN
        ));
    }
    let fixed_key = fixed.is_some();
    a.store.protect_secrets(&ctl, Create::Yes).await?;
    let boot = accounts::bootstrap(&ctl, fixed).await.map_err(|e| format!("bootstrap: {e}"))?;
    let mut pools: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for spec in &a.pools {
        let (region, cidr) = spec.split_once('=').ok_or_else(|| format!("--pool {spec}: expected REGION=CIDR"))?;
        pools.entry(region.to_owned()).or_default().push(cidr.to_owned());
    }
    for (region, cidrs) in &pools {
        let kept = accounts::set_pools(&ctl, region, cidrs).await.map_err(|e| format!("--pool {region}: {e}"))?;
        for k in kept {
            tracing::warn!(region = %region, pool = %k, "pool not listed by --pool is kept: addresses from it were handed out");
        }
    }
    let credentials = match &boot.new_secret {
        Some(secret) => Some(
            write_credentials(&a.store.data_dir, &boot.access_key_id, secret, &a.listen)
                .map_err(|e| format!("cannot write the credentials file: {e}"))?,
        ),
        None => None,
    };
    let demo_ids =
        if a.demo { Some(demo::seed(&ctl, &boot.root_account).await.map_err(|e| format!("demo: {e}"))?) } else { None };
    let throttle = throttle_of(&a)?;
    let mut nonces = server::NonceCache::default();
    nonces.restore(tasks::live_nonces(&ctl).map_err(|e| format!("loading signature nonces: {e}"))?);
    let state = Arc::new(server::AppState {
        ctl: ctl.clone(),
        keys: Default::default(),
        nonces: parking_lot::Mutex::new(nonces),
        metrics: Default::default(),
        dataplane: mode.is_some().then(Default::default),
        client_timeout: std::time::Duration::from_secs(a.client_timeout_secs),
        console: eip_console::ConsoleState::new(ctl.clone()),
        throttle,
    });
    // On a shared store other nodes may run a data plane for the same
    // gateways: this one serves them only while it holds their lease.
    let dp = match (mode, &state.dataplane) {
        (Some(mode), Some(h)) if ctl.store().shared() => {
            let (leased, active) = eipd::agent::start_leased(ctl.clone(), mode, a.lease_ms, h.clone()).await;
            if !active {
                println!("data plane: standby (another node or agent holds the gateways' lease)");
            }
            Some(Running::Leased(leased))
        }
        (Some(mode), Some(h)) => Some(Running::Alone(dataplane::DataPlane::start(ctl.clone(), mode, h.clone()).await?)),
        _ => None,
    };
    tokio::spawn(tasks::run(ctl.clone()));
    let janitor = ctl.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(600)).await;
            if let Err(e) = tasks::expire_tokens(&janitor).await {
                tracing::warn!(error = %e, "token expiry failed");
            }
            if let Err(e) = tasks::expire_nonces(&janitor).await {
                tracing::warn!(error = %e, "nonce expiry failed");
            }
        }
    });
    // Announce only what is true: the port is bound and the state is ready.
    println!("openeip eipd {} listening on http://{}", env!("CARGO_PKG_VERSION"), a.listen);
    println!("console: http://{}/console/ (sign in with an AccessKey pair)", a.listen);
    println!("data directory: {}", a.store.data_dir.display());
    if !a.store.embedded() {
        println!("store: {} (shared)", a.store.describe());
    }
    match (&boot.new_secret, credentials) {
        (Some(secret), Some(path)) => {
            println!("root AccessKeyId:     {}", boot.access_key_id);
            println!("root AccessKeySecret: {secret}");
            println!("(shown once; saved to {} with mode 0600)", path.display());
        }
        _ if fixed_key => {
            println!("root AccessKeyId: {} (secret from EIPD_ROOT_ACCESS_KEY_SECRET)", boot.access_key_id);
            if a.store.data_dir.join("credentials").exists() {
                println!("(the pair in {}/credentials is no longer active)", a.store.data_dir.display());
            }
        }
        _ => {
            println!("root AccessKeyId: {} (secret in {}/credentials)", boot.access_key_id, a.store.data_dir.display())
        }
    }
    if let Some(ids) = demo_ids {
        println!("demo estate in {}: instances {}", demo::DEMO_REGION, ids.join(", "));
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let limits = listener::Limits {
        max_connections: a.max_connections as usize,
        header_timeout: std::time::Duration::from_secs(a.client_timeout_secs),
    };
    let served = listener::serve(listener, server::router(state), limits, async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
        }
        tracing::info!("shutting down");
    })
    .await
    .map_err(|e| e.to_string());
    match dp {
        Some(Running::Alone(dp)) => dp.shutdown().await,
        Some(Running::Leased(l)) => l.shutdown().await,
        None => {}
    }
    served
}

/// The rate limiter `--throttle` / `--throttle-limit` ask for, if any.
fn throttle_of(a: &ServeArgs) -> Result<Option<eipd::throttle::Throttle>, String> {
    use eip_domain::throttle::{PUBLISHED, parse_limit};
    if !a.throttle && a.throttle_limits.is_empty() {
        return Ok(None);
    }
    let mut limits: std::collections::HashMap<String, _> =
        PUBLISHED.iter().map(|(action, l)| ((*action).to_owned(), *l)).collect();
    for s in &a.throttle_limits {
        let (action, limit) = parse_limit(s).map_err(|e| format!("--throttle-limit {e}"))?;
        if !eip_api::catalog::ACTIONS.iter().any(|x| x.name == action) {
            return Err(format!("--throttle-limit {s}: {action} is not an action eipd serves"));
        }
        limits.insert(action, limit);
    }
    let t = eipd::throttle::Throttle::new(limits);
    tracing::info!(limits = %t.describe(), "per-account rate limits on");
    Ok(Some(t))
}

/// The data plane `serve` runs: alone on its own store, or under a lease on a shared one.
enum Running {
    Alone(dataplane::DataPlane),
    Leased(eip_agent::leased::Leased),
}

async fn havip(cmd: HavipCommand) -> Result<(), String> {
    match cmd {
        HavipCommand::Failover { store, havip_id, instance_id } => {
            let ctl = admin_controller(&store).await?;
            eip_controller::set_havip_master(&ctl, &havip_id, &instance_id).await.map_err(|e| e.to_string())?;
            println!("{havip_id}: master is {instance_id}");
            let namespaces = eip_dataplane::lab::list_namespaces().map_err(|e| e.to_string())?;
            if !namespaces.iter().any(|n| n == eip_dataplane::INTERNET_NS) {
                return Ok(()); // no lab: the store is all there is
            }
            let rows = eip_store::StoreExt::read(ctl.store().as_ref(), eip_dataplane::desired::read_rows)
                .map_err(|e| e.to_string())?;
            let ip = rows
                .havips
                .iter()
                .find(|h| h.id == havip_id)
                .and_then(|h| h.ip.parse().ok())
                .ok_or_else(|| format!("{havip_id} has no address"))?;
            let d = eip_dataplane::desired::build(0, &rows);
            let t0 = std::time::Instant::now();
            eip_dataplane::lab::havip_failover(&rows, &d, ip, &instance_id).map_err(|e| e.to_string())?;
            println!("lab: {ip} moved to {instance_id} ({} ms)", t0.elapsed().as_millis());
        }
    }
    Ok(())
}

async fn lab(cmd: LabCommand) -> Result<(), String> {
    match cmd {
        LabCommand::Down { store } => {
            let record = dataplane::record_path(&store.data_dir);
            let removed = eip_dataplane::lab::teardown_recorded(&record).map_err(|e| e.to_string())?;
            if removed.is_empty() {
                println!("no lab namespaces left");
            }
            for n in removed {
                println!("removed namespace {n}");
            }
        }
    }
    Ok(())
}

/// A controller over the existing store of a server, for admin commands.
async fn admin_controller(args: &StoreArgs) -> Result<Arc<Controller>, String> {
    let store = args.open(Create::No)?;
    let clock =
        SystemClock::from_store(store.as_ref()).map_err(|e| format!("cannot read the control-plane clock: {e}"))?;
    let ctl = Controller::new(store, Arc::new(clock), Config::default());
    args.protect_secrets(&ctl, Create::No).await?;
    Ok(ctl)
}

async fn nat(cmd: NatCommand) -> Result<(), String> {
    match cmd {
        NatCommand::SetCreationTime { store, nat_gateway_id, time } => {
            let ctl = admin_controller(&store).await?;
            eip_controller::nat::set_creation_time(&ctl, &nat_gateway_id, &time).await.map_err(|e| e.to_string())?;
            println!("{nat_gateway_id}: creation time set to {time}");
        }
    }
    Ok(())
}

async fn clock(cmd: ClockCommand) -> Result<(), String> {
    use eip_controller::clock as c;
    let (store, moved) = match cmd {
        ClockCommand::Show { store } => (store, None),
        ClockCommand::Advance { duration, store } => (store, Some(Ok(duration))),
        ClockCommand::Set { time, store } => (store, Some(Err(time))),
    };
    let store = store.open(Create::No)?;
    if let Some(how) = moved {
        let r = match how {
            Ok(d) => match c::parse_duration(&d) {
                Ok(ms) => c::advance(store.as_ref(), ms).await,
                Err(e) => Err(e),
            },
            Err(t) => match eip_types::time::parse_iso(&t) {
                Some(at) => c::set(store.as_ref(), at).await,
                None => Err(eip_types::Error::invalid("Time", format!("{t:?} is not YYYY-MM-DDThh:mm:ssZ"))),
            },
        };
        r.map_err(|e| e.to_string())?;
        // Running processes look every FOLLOW_MS: once this returns, they all have.
        tokio::time::sleep(std::time::Duration::from_millis(3 * c::FOLLOW_MS)).await;
    }
    let offset = c::stored_offset(store.as_ref()).map_err(|e| e.to_string())?;
    let now = c::real_now_ms() + offset;
    println!("control-plane time: {}", eip_types::time::format_iso(now));
    println!("ahead of the host:  {} s", offset / 1000);
    Ok(())
}

async fn quota(cmd: QuotaCommand) -> Result<(), String> {
    match cmd {
        QuotaCommand::Set { store, account, name, value } => {
            let ctl = admin_controller(&store).await?;
            eip_controller::quotas::set_quota(&ctl, &account, &name, value).await.map_err(|e| e.to_string())?;
            println!("{account}: {name} = {value}");
        }
        QuotaCommand::Applications { store } => {
            let ctl = admin_controller(&store).await?;
            let rows = eip_controller::quota_center::applications(&ctl).map_err(|e| e.to_string())?;
            println!("APPLICATION\tACCOUNT\tQUOTA\tDESIRED\tSTATUS\tAPPROVED\tAPPLIED\tREASON");
            for a in rows {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    a.id,
                    a.account_id,
                    a.quota_name,
                    a.desire_value,
                    a.status,
                    a.approve_value.map_or_else(|| "-".to_owned(), |v| v.to_string()),
                    eip_types::time::format_iso(a.applied_at),
                    a.reason
                );
            }
        }
        QuotaCommand::Approve { application_id, value, reason, store } => {
            let ctl = admin_controller(&store).await?;
            let a = eip_controller::quota_center::decide(&ctl, &application_id, true, value, &reason)
                .await
                .map_err(|e| e.to_string())?;
            println!("{}: Agree, {} = {}", a.id, a.quota_name, a.approve_value.unwrap_or_default());
        }
        QuotaCommand::Reject { application_id, reason, store } => {
            let ctl = admin_controller(&store).await?;
            let a = eip_controller::quota_center::decide(&ctl, &application_id, false, None, &reason)
                .await
                .map_err(|e| e.to_string())?;
            println!("{}: Disagree", a.id);
        }
        QuotaCommand::Policy { store, name, ceiling } => {
            let ctl = admin_controller(&store).await?;
            eip_controller::quota_center::set_policy(&ctl, &name, ceiling).await.map_err(|e| e.to_string())?;
            println!("{name}: applications up to {ceiling} are approved when filed");
        }
    }
    Ok(())
}

async fn account(cmd: AccountCommand) -> Result<(), String> {
    let store = match &cmd {
        AccountCommand::Create { store, .. }
        | AccountCommand::List { store }
        | AccountCommand::Disable { store, .. }
        | AccountCommand::Enable { store, .. }
        | AccountCommand::Topup { store, .. } => store.clone(),
    };
    let ctl = admin_controller(&store).await?;
    match cmd {
        AccountCommand::Create { name, .. } => {
            let k = accounts::create_account(&ctl, &name).await.map_err(|e| e.to_string())?;
            println!("Account:         {}", k.account_id);
            println!("AccessKeyId:     {}", k.id);
            println!("AccessKeySecret: {}", k.secret);
        }
        AccountCommand::List { .. } => {
            for (a, keys) in accounts::list_accounts(&ctl).map_err(|e| e.to_string())? {
                let state = if a.active { "enabled" } else { "disabled" };
                println!("{}\t{}\t{state}\t{}", a.id, a.name, keys.join(","));
            }
        }
        AccountCommand::Disable { name, .. } => {
            let a = accounts::set_account_active(&ctl, &name, false).await.map_err(|e| e.to_string())?;
            until_heard(&ctl).await;
            println!("{} ({}): disabled", a.name, a.id);
        }
        AccountCommand::Enable { name, .. } => {
            let a = accounts::set_account_active(&ctl, &name, true).await.map_err(|e| e.to_string())?;
            println!("{} ({}): enabled", a.name, a.id);
        }
        AccountCommand::Topup { name, amount, .. } => {
            use eip_controller::bss;
            let micros = bss::parse_dollars(&amount).map_err(|e| e.to_string())?;
            let balance = bss::topup(&ctl, &name, micros).await.map_err(|e| e.to_string())?;
            println!("{name}: balance USD {}", bss::dollars(balance));
        }
    }
    Ok(())
}

/// After an admin change that running nodes must see at once (a disabled key
/// or account): on a shared store they hear of it through the change
/// listener within milliseconds; wait that long before returning, so the
/// change is in force everywhere once the command is done.
async fn until_heard(ctl: &Controller) {
    if ctl.store().shared() {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

async fn accesskey(cmd: AccessKeyCommand) -> Result<(), String> {
    let store = match &cmd {
        AccessKeyCommand::Create { store, .. }
        | AccessKeyCommand::List { store, .. }
        | AccessKeyCommand::Disable { store, .. }
        | AccessKeyCommand::Enable { store, .. }
        | AccessKeyCommand::Delete { store, .. } => store.clone(),
    };
    let ctl = admin_controller(&store).await?;
    let e = |e: eip_types::Error| e.to_string();
    match cmd {
        AccessKeyCommand::Create { account, .. } => {
            let k = accounts::create_key(&ctl, &account).await.map_err(e)?;
            println!("Account:         {}", k.account_id);
            println!("AccessKeyId:     {}", k.id);
            println!("AccessKeySecret: {}", k.secret);
        }
        AccessKeyCommand::List { account, .. } => {
            for k in accounts::list_keys(&ctl, &account).map_err(e)? {
                let state = if k.active { "enabled" } else { "disabled" };
                println!("{}\t{state}\t{}", k.id, eip_types::time::format_iso(k.created_at));
            }
        }
        AccessKeyCommand::Disable { id, .. } => {
            accounts::set_key_active(&ctl, &id, false).await.map_err(e)?;
            until_heard(&ctl).await;
            println!("{id}: disabled");
        }
        AccessKeyCommand::Enable { id, .. } => {
            accounts::set_key_active(&ctl, &id, true).await.map_err(e)?;
            println!("{id}: enabled");
        }
        AccessKeyCommand::Delete { id, .. } => {
            accounts::delete_key(&ctl, &id).await.map_err(e)?;
            until_heard(&ctl).await;
            println!("{id}: deleted");
        }
    }
    Ok(())
}

/// Runs an admin command to completion; exits non-zero on failure.
fn admin(f: impl std::future::Future<Output = Result<(), String>>) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    if let Err(e) = rt.block_on(f) {
        eprintln!("eipd: {e}");
        std::process::exit(1);
    }
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::ApiCoverage => print!("{}", eip_api::catalog::coverage_markdown()),
        Command::Account(cmd) => admin(account(cmd)),
        Command::Accesskey(cmd) => admin(accesskey(cmd)),
        Command::Nat(cmd) => admin(nat(cmd)),
        Command::Quota(cmd) => admin(quota(cmd)),
        Command::Clock(cmd) => admin(clock(cmd)),
        Command::Lab(cmd) => admin(lab(cmd)),
        Command::Havip(cmd) => admin(havip(cmd)),
        Command::Agent(a) => {
            init_logs("text");
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
            let r = rt.block_on(eipd::agent::run(a));
            logbuf::flush();
            if let Err(e) = r {
                eprintln!("eipd: {e}");
                std::process::exit(1);
            }
        }
        Command::Serve(a) => {
            init_logs(&a.log_format);
            // One I/O thread: requests are short, and the store's writer has its
            // own thread, so a second worker mostly adds cross-thread wake-ups.
            let rt = match a.worker_threads {
                0 | 1 => tokio::runtime::Builder::new_current_thread().enable_all().build(),
                n => tokio::runtime::Builder::new_multi_thread().worker_threads(n).enable_all().build(),
            }
            .expect("tokio runtime");
            let r = rt.block_on(serve(a));
            logbuf::flush();
            if let Err(e) = r {
                eprintln!("eipd: {e}");
                std::process::exit(1);
            }
        }
    }
}
