//! What one association change and one full resync cost at scale, through
//! [`NftNetlink`] and through [`NftCli`] (a benchmark, not part of the product;
//! run as root, in release):
//!
//! ```text
//! cargo run --release -p eip-dataplane --example apply_bench -- [--n 100000] [--k 2000] [--cli-k 100] [--ct 1000] [--ns oeipnl-bench]
//! ```
//!
//! It creates the namespace `--ns` (`oeipnl-bench`), loads a gateway table with N 1:1
//! associations by a full apply (`nft -f`, timed: the "full resync" number),
//! applies it again over the loaded table (3 times), reads it back with
//! `nft -j list table` and over netlink (5 times), then times K single-association
//! deltas through netlink (add a new mapping, delete it, alternating; re-map an
//! existing one), the same through the CLI for `--cli-k` of each, and a
//! conntrack flush with `--ct` unrelated entries in the table. It prints a
//! markdown table and deletes the namespace.

use eip_dataplane::desired::{GatewayState, PRIVATE_BLOCKS};
use eip_dataplane::kernel::{Kernel, NftCli};
use eip_dataplane::render::{self, Batch};
use eip_dataplane::{Cidr, NftNetlink};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

const DEFAULT_NS: &str = "oeipnl-bench";

fn eip(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 0, 0)) + i)
}

fn private(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 1, 0, 0)) + i)
}

fn gateway(nat: BTreeMap<Ipv4Addr, Ipv4Addr>) -> GatewayState {
    GatewayState {
        pools: vec![Cidr::parse("198.18.0.0/15").expect("pool")],
        private_nets: PRIVATE_BLOCKS.iter().map(|c| Cidr::parse(c).expect("private block")).collect(),
        nat,
        ..GatewayState::default()
    }
}

/// The delta batch between two tiny states: it only depends on what differs,
/// so it is the batch the reconciler would send with 100k entries around.
fn delta(old: &[(Ipv4Addr, Ipv4Addr)], new: &[(Ipv4Addr, Ipv4Addr)]) -> Batch {
    let g = |m: &[(Ipv4Addr, Ipv4Addr)]| gateway(m.iter().copied().collect());
    render::delta(&g(old), &g(new)).expect("a delta")
}

#[derive(Default)]
struct Times(Vec<Duration>);

impl Times {
    fn time<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let r = f();
        self.0.push(t.elapsed());
        r
    }
    fn row(&mut self, what: &str) -> String {
        self.0.sort();
        let n = self.0.len();
        let q = |p: f64| self.0[((n as f64 * p).ceil() as usize).clamp(1, n) - 1];
        let us = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1e6);
        format!("| {what} | {n} | {} | {} | {} |", us(q(0.5)), us(q(0.99)), us(self.0[n - 1]))
    }
}

fn sh(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0]).args(&args[1..]).output().map_err(|e| format!("{}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

fn arg(args: &[String], name: &str, default: u32) -> Result<u32, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args.get(i + 1).ok_or(format!("{name} needs a value"))?.parse().map_err(|e| format!("{name}: {e}")),
    }
}

fn run(ns: &str, n: u32, k: u32, cli_k: u32, ct: u32) -> Result<Vec<String>, String> {
    let net = NftNetlink::new();
    let mut rows =
        vec!["| Operation | Count | p50 µs | p99 µs | max µs |".to_string(), "|---|---|---|---|---|".to_string()];
    let g = gateway((1..=n).map(|i| (eip(i), private(i))).collect());
    let full = render::full(&g);
    let mut t = Times::default();
    t.time(|| NftCli.apply(ns, &full)).map_err(|e| e.0)?;
    rows.push(t.row(&format!("full apply `nft -f`, {n} associations, empty namespace")));
    let mut t = Times::default();
    for _ in 0..3 {
        t.time(|| NftCli.apply(ns, &full)).map_err(|e| e.0)?;
    }
    rows.push(t.row(&format!("full resync `nft -f` over the loaded {n}")));
    let mut t = Times::default();
    let table = t.time(|| NftCli.read(ns)).map_err(|e| e.0)?;
    rows.push(t.row("read back (`nft -j list table`)"));
    if table != Some(render::expected(&g)) {
        return Err("the loaded table does not read back as rendered".into());
    }
    let mut t = Times::default();
    for _ in 0..5 {
        if t.time(|| net.read(ns)).map_err(|e| e.0)? != table {
            return Err("the netlink read differs from `nft -j list table`".into());
        }
    }
    rows.push(t.row("read back (netlink)"));

    // Fresh EIPs beyond N (same /15 pool), existing ones to re-map.
    let fresh = |j: u32| (eip(n + 1 + j % 10_000), private(n + 1 + j % 10_000));
    let mut bench = |kernel: &dyn Kernel, label: &str, count: u32| -> Result<(), String> {
        let (mut add, mut del, mut remap) = (Times::default(), Times::default(), Times::default());
        for j in 0..count {
            let m = fresh(j);
            let (plus, minus) = (delta(&[], &[m]), delta(&[m], &[]));
            add.time(|| kernel.apply(ns, &plus)).map_err(|e| e.0)?;
            del.time(|| kernel.apply(ns, &minus)).map_err(|e| e.0)?;
            // Re-map EIP i to another private address and back (two ops).
            let i = 1 + (j * 7919) % n;
            let (a, b) = ((eip(i), private(i)), (eip(i), private(n + 20_000 + j % 10_000)));
            let (there, back) = (delta(&[a], &[b]), delta(&[b], &[a]));
            remap.time(|| kernel.apply(ns, &there)).map_err(|e| e.0)?;
            remap.time(|| kernel.apply(ns, &back)).map_err(|e| e.0)?;
        }
        rows.push(add.row(&format!("{label}: add one association")));
        rows.push(del.row(&format!("{label}: delete one association")));
        rows.push(remap.row(&format!("{label}: re-map one association")));
        Ok(())
    };
    bench(&net, "netlink", k)?;
    bench(&NftCli, "nft CLI", cli_k)?;
    // A reconciler catching up: one batch of 10000 associations, then their removal.
    let many: Vec<_> = (0..10_000).map(|i| (eip(n + 10_001 + i), private(n + 40_000 + i))).collect();
    let (plus, minus) = (delta(&[], &many), delta(&many, &[]));
    let (mut add, mut del) = (Times::default(), Times::default());
    add.time(|| net.apply(ns, &plus)).map_err(|e| e.0)?;
    del.time(|| net.apply(ns, &minus)).map_err(|e| e.0)?;
    rows.push(add.row("netlink: one delta adding 10000 associations"));
    rows.push(del.row("netlink: one delta deleting 10000 associations"));
    if NftCli.read(ns).map_err(|e| e.0)? != Some(render::expected(&g)) {
        return Err("the table drifted during the benchmark".into());
    }

    // Conntrack: `ct` unrelated entries, flushes of an EIP with none and with one.
    for i in 0..ct {
        let (s, sp) = (format!("203.0.{}.{}", 113 + i / 50_000, 1 + (i / 250) % 250), (1024 + i % 250).to_string());
        sh(&[
            "ip",
            "netns",
            "exec",
            ns,
            "conntrack",
            "-I",
            "-p",
            "udp",
            "-t",
            "600",
            "-s",
            &s,
            "-d",
            "198.19.255.1",
            "--sport",
            &sp,
            "--dport",
            "53",
            "-r",
            "10.2.0.1",
            "-q",
            &s,
            "--reply-port-src",
            "53",
            "--reply-port-dst",
            &sp,
        ])?;
    }
    let target = eip(1);
    let insert_target = || {
        sh(&[
            "ip",
            "netns",
            "exec",
            ns,
            "conntrack",
            "-I",
            "-p",
            "tcp",
            "-t",
            "600",
            "--state",
            "ESTABLISHED",
            "-s",
            "203.0.113.10",
            "-d",
            &target.to_string(),
            "--sport",
            "40000",
            "--dport",
            "80",
            "-r",
            &private(1).to_string(),
            "-q",
            "203.0.113.10",
            "--reply-port-src",
            "80",
            "--reply-port-dst",
            "40000",
        ])
    };
    for (kernel, label) in [(&net as &dyn Kernel, "netlink"), (&NftCli as &dyn Kernel, "conntrack CLI")] {
        let (mut none, mut one) = (Times::default(), Times::default());
        for _ in 0..20 {
            none.time(|| kernel.flush_conntrack(ns, eip(2))).map_err(|e| e.0)?;
            insert_target()?;
            one.time(|| kernel.flush_conntrack(ns, target)).map_err(|e| e.0)?;
        }
        rows.push(none.row(&format!("{label}: conntrack flush, 0 of {ct} entries match")));
        rows.push(one.row(&format!("{label}: conntrack flush, 1 of {} entries match", ct + 1)));
    }
    Ok(rows)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let parsed = (|| {
        Ok::<_, String>((
            arg(&args, "--n", 100_000)?,
            arg(&args, "--k", 2000)?,
            arg(&args, "--cli-k", 100)?,
            arg(&args, "--ct", 1000)?,
        ))
    })();
    let (n, k, cli_k, ct) = match parsed {
        Ok(v) if v.0 >= 1 && v.0 <= 100_000 => v,
        Ok(_) => {
            eprintln!("--n must be 1..=100000");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let ns = match args.iter().position(|a| a == "--ns") {
        None => DEFAULT_NS,
        Some(i) => match args.get(i + 1) {
            Some(v) => v.as_str(),
            None => {
                eprintln!("--ns needs a value");
                return ExitCode::FAILURE;
            }
        },
    };
    let _ = sh(&["ip", "netns", "del", ns]);
    if let Err(e) = sh(&["ip", "netns", "add", ns]) {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    let r = run(ns, n, k, cli_k, ct);
    let _ = sh(&["ip", "netns", "del", ns]);
    match r {
        Ok(rows) => {
            println!("{}", rows.join("\n"));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("apply_bench: {e}");
            ExitCode::FAILURE
        }
    }
}
