//! A cheap load generator for AssociateEipAddress across several eipd nodes
//! (`assoc_load --endpoints HOST:PORT[,HOST:PORT…] --clients N --seconds S`).
//!
//! Exists because the Python SDKs cost far more CPU per call than eipd does:
//! with them the clients, not the server or its database, are the bound. Each
//! client here is a thread with one keep-alive HTTP/1.1 connection to one
//! node (clients are spread over the nodes in turn) sending V1-signed RPC
//! requests, as the official SDKs' legacy signer does.
//!
//! Setup (not measured): one VPC, vSwitch and security group, `RunInstances
//! Amount=N` waited until Running, one EIP per client. Measured for S
//! seconds, every client loops: AssociateEipAddress (timed) → poll until
//! InUse → UnassociateEipAddress → poll until Available, pausing
//! `--poll-ms` (10) between polls: SDK waiters and Terraform poll every
//! second or more, and polling much faster turns the run into a read
//! benchmark. Printed: completed
//! associations per second, AssociateEipAddress latency p50/p99/max, and
//! how many calls failed (by error code). Run eipd with a short
//! `--task-delay-ms` (1) so the transitions do not dominate.

use eip_api::sign::{percent_encode, v1_signature, v1_string_to_sign};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

const REGION: &str = "cn-hangzhou";

struct Args {
    endpoints: Vec<String>,
    clients: usize,
    seconds: u64,
    /// Pause between two status polls.
    poll: Duration,
    ak: String,
    secret: String,
}

fn args() -> Args {
    let mut a = Args {
        endpoints: vec!["127.0.0.1:8080".into()],
        clients: 32,
        seconds: 20,
        poll: Duration::from_millis(10),
        ak: std::env::var("EIPD_ROOT_ACCESS_KEY_ID").unwrap_or_else(|_| "testid".into()),
        secret: std::env::var("EIPD_ROOT_ACCESS_KEY_SECRET").unwrap_or_else(|_| "testsecret".into()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--endpoints" => a.endpoints = value().split(',').map(str::to_owned).collect(),
            "--clients" => a.clients = value().parse().expect("--clients N"),
            "--seconds" => a.seconds = value().parse().expect("--seconds S"),
            "--poll-ms" => a.poll = Duration::from_millis(value().parse().expect("--poll-ms MS")),
            other => panic!("unknown flag {other} (--endpoints, --clients, --seconds, --poll-ms)"),
        }
    }
    a
}

/// One keep-alive connection to one node, signing with the V1 signer.
struct Conn {
    endpoint: String,
    stream: Option<BufReader<TcpStream>>,
    ak: String,
    secret: String,
    nonce: u64,
}

/// A call's outcome: HTTP status and the JSON body.
struct Reply {
    status: u16,
    body: serde_json::Value,
}

impl Reply {
    fn code(&self) -> &str {
        self.body.get("Code").and_then(|c| c.as_str()).unwrap_or("")
    }
}

impl Conn {
    fn new(endpoint: &str, a: &Args) -> Conn {
        Conn { endpoint: endpoint.to_owned(), stream: None, ak: a.ak.clone(), secret: a.secret.clone(), nonce: 0 }
    }

    fn call(&mut self, action: &str, version: &str, params: &[(&str, &str)]) -> std::io::Result<Reply> {
        self.nonce += 1;
        let nonce = format!("{:x}-{:x}-{}", std::process::id(), thread_id(), self.nonce);
        let now = time_iso();
        let mut pairs: Vec<(&str, &str)> = vec![
            ("Action", action),
            ("Version", version),
            ("Format", "JSON"),
            ("AccessKeyId", &self.ak),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", &nonce),
            ("Timestamp", &now),
        ];
        pairs.extend_from_slice(params);
        let signature = v1_signature(&self.secret, &v1_string_to_sign("POST", &pairs));
        let mut body = String::new();
        for (k, v) in pairs.iter().chain(std::iter::once(&("Signature", signature.as_str()))) {
            if !body.is_empty() {
                body.push('&');
            }
            body.push_str(&percent_encode(k));
            body.push('=');
            body.push_str(&percent_encode(v));
        }
        // One reconnect: the server may have closed an idle connection.
        match self.send(&body) {
            Ok(r) => Ok(r),
            Err(_) => {
                self.stream = None;
                self.send(&body)
            }
        }
    }

    fn send(&mut self, body: &str) -> std::io::Result<Reply> {
        if self.stream.is_none() {
            let s = TcpStream::connect(&self.endpoint)?;
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(Duration::from_secs(30)))?;
            self.stream = Some(BufReader::new(s));
        }
        let Some(r) = self.stream.as_mut() else { unreachable!("connected above") };
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
            self.endpoint,
            body.len()
        );
        let s = r.get_mut();
        s.write_all(head.as_bytes())?;
        s.write_all(body.as_bytes())?;
        let mut line = String::new();
        r.read_line(&mut line)?;
        let status: u16 =
            line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, format!("bad status line {line:?}"))
            })?;
        let mut len = 0usize;
        loop {
            line.clear();
            r.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut buf = vec![0; len];
        r.read_exact(&mut buf)?;
        let body = serde_json::from_slice(&buf).unwrap_or(serde_json::Value::Null);
        Ok(Reply { status, body })
    }

    /// A call that must succeed (setup).
    fn must(&mut self, action: &str, version: &str, params: &[(&str, &str)]) -> serde_json::Value {
        let r = self.call(action, version, params).unwrap_or_else(|e| panic!("{action}: {e}"));
        assert!(r.status == 200, "{action}: HTTP {} {}", r.status, r.body);
        r.body
    }
}

fn thread_id() -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::thread::current().id().hash(&mut h);
    h.finish()
}

fn time_iso() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    eip_types::time::format_iso(i64::try_from(secs).unwrap_or(0) * 1000)
}

const VPC: &str = "2016-04-28";
const ECS: &str = "2014-05-26";

fn s(v: &serde_json::Value, k: &str) -> String {
    v.get(k).and_then(|x| x.as_str()).unwrap_or_else(|| panic!("no {k} in {v}")).to_owned()
}

/// Resources for `n` clients: (instance id, allocation id) pairs.
fn setup(c: &mut Conn, n: usize) -> Vec<(String, String)> {
    let vpc = s(&c.must("CreateVpc", VPC, &[("RegionId", REGION), ("CidrBlock", "10.0.0.0/8")]), "VpcId");
    let wait_vpc = Instant::now();
    loop {
        let v = c.must("DescribeVpcs", VPC, &[("RegionId", REGION), ("VpcId", &vpc)]);
        if v.to_string().contains("\"Available\"") || wait_vpc.elapsed() > Duration::from_secs(30) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let zone = "cn-hangzhou-h";
    let vsw = s(
        &c.must(
            "CreateVSwitch",
            VPC,
            &[("RegionId", REGION), ("VpcId", &vpc), ("ZoneId", zone), ("CidrBlock", "10.1.0.0/16")],
        ),
        "VSwitchId",
    );
    let sg = s(&c.must("CreateSecurityGroup", ECS, &[("RegionId", REGION), ("VpcId", &vpc)]), "SecurityGroupId");
    let amount = n.to_string();
    let r = c.must(
        "RunInstances",
        ECS,
        &[
            ("RegionId", REGION),
            ("ZoneId", zone),
            ("VSwitchId", &vsw),
            ("SecurityGroupId", &sg),
            ("ImageId", "ubuntu_22_04_x64_20G_alibase_20240101.vhd"),
            ("InstanceType", "ecs.g7.large"),
            ("Amount", &amount),
        ],
    );
    let ids: Vec<String> = r["InstanceIdSets"]["InstanceIdSet"]
        .as_array()
        .unwrap_or_else(|| panic!("RunInstances: {r}"))
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), n, "RunInstances made {} instances", ids.len());
    let started = Instant::now();
    for id in &ids {
        loop {
            let list = format!("[\"{id}\"]");
            let d = c.must("DescribeInstances", ECS, &[("RegionId", REGION), ("InstanceIds", &list)]);
            if d.to_string().contains("\"Running\"") {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(120), "{id} never ran");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    ids.into_iter()
        .map(|id| {
            let a = s(&c.must("AllocateEipAddress", VPC, &[("RegionId", REGION)]), "AllocationId");
            (id, a)
        })
        .collect()
}

/// Polls until the EIP reads `status`; false on a failed call.
fn wait_status(c: &mut Conn, aid: &str, status: &str, poll: Duration) -> bool {
    let want = format!("\"Status\":\"{status}\"");
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(30) {
        match c.call("DescribeEipAddresses", VPC, &[("RegionId", REGION), ("AllocationId", aid)]) {
            Ok(r) if r.status == 200 && r.body.to_string().contains(&want) => return true,
            Ok(r) if r.status == 200 => std::thread::sleep(poll),
            _ => return false,
        }
    }
    false
}

fn main() {
    let a = args();
    let mut c = Conn::new(&a.endpoints[0], &a);
    let pairs = setup(&mut c, a.clients);
    let done = Arc::new(AtomicU64::new(0));
    let lat: Arc<Mutex<Vec<Duration>>> = Default::default();
    let errors: Arc<Mutex<BTreeMap<String, u64>>> = Default::default();
    let start = Arc::new(Barrier::new(a.clients + 1));
    let stop_at = Arc::new(Mutex::new(None::<Instant>));
    let mut threads = Vec::new();
    for (i, (iid, aid)) in pairs.into_iter().enumerate() {
        let mut c = Conn::new(&a.endpoints[i % a.endpoints.len()], &a);
        let (done, lat, errors, start, stop_at, poll) =
            (done.clone(), lat.clone(), errors.clone(), start.clone(), stop_at.clone(), a.poll);
        threads.push(std::thread::spawn(move || {
            let mut mine = Vec::new();
            start.wait();
            let end = stop_at.lock().unwrap_or_else(|e| e.into_inner()).unwrap_or_else(Instant::now);
            let fail = |what: String| *errors.lock().unwrap_or_else(|e| e.into_inner()).entry(what).or_default() += 1;
            while Instant::now() < end {
                let t = Instant::now();
                let params = [("RegionId", REGION), ("AllocationId", aid.as_str()), ("InstanceId", iid.as_str())];
                match c.call("AssociateEipAddress", VPC, &params) {
                    Ok(r) if r.status == 200 => mine.push(t.elapsed()),
                    Ok(r) => {
                        fail(format!("Associate {} {}", r.status, r.code()));
                        continue;
                    }
                    Err(e) => {
                        fail(format!("Associate io {}", e.kind()));
                        continue;
                    }
                }
                if !wait_status(&mut c, &aid, "InUse", poll) {
                    fail("wait InUse".into());
                    continue;
                }
                done.fetch_add(1, Ordering::Relaxed);
                let params = [("RegionId", REGION), ("AllocationId", aid.as_str())];
                match c.call("UnassociateEipAddress", VPC, &params) {
                    Ok(r) if r.status == 200 => {}
                    Ok(r) => fail(format!("Unassociate {} {}", r.status, r.code())),
                    Err(e) => fail(format!("Unassociate io {}", e.kind())),
                }
                if !wait_status(&mut c, &aid, "Available", poll) {
                    fail("wait Available".into());
                }
            }
            lat.lock().unwrap_or_else(|e| e.into_inner()).extend(mine);
        }));
    }
    *stop_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now() + Duration::from_secs(a.seconds));
    let t0 = Instant::now();
    start.wait();
    for t in threads {
        t.join().expect("a client panicked");
    }
    let secs = t0.elapsed().as_secs_f64();
    let mut l = std::mem::take(&mut *lat.lock().unwrap_or_else(|e| e.into_inner()));
    l.sort();
    let pct =
        |p: f64| l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1))).copied().unwrap_or_default();
    let n = done.load(Ordering::Relaxed);
    println!(
        "nodes={} clients={} seconds={secs:.1} associations={n} per_s={:.1} associate_p50_ms={:.2} p99_ms={:.2} max_ms={:.2}",
        a.endpoints.len(),
        a.clients,
        n as f64 / secs,
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        l.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    let errors = errors.lock().unwrap_or_else(|e| e.into_inner());
    if !errors.is_empty() {
        println!("failures: {errors:?}");
    }
}
