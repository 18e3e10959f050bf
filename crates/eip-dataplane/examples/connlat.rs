//! New-connection latency probe for `bench/conn_latency.sh` (a benchmark
//! helper, not part of the product). Standard library only.
//!
//! ```text
//! connlat serve ADDR:PORT                 accept and close connections forever
//! connlat client ADDR:PORT [--count N]    N sequential connects; one JSON line
//! connlat emit-table N                    our gateway table (render::full) with N 1:1 EIPs
//! connlat emit-iptables N                 iptables-restore input: N DNAT + N SNAT rules
//! connlat target N                        the EIP the last mapping uses (the one to probe)
//! ```
//!
//! EIP `i` (1..=N) is `198.18.0.0 + i`, its private address `10.1.0.0 + i`,
//! except the last one (the target, at the end of every rule chain), which is
//! mapped to the server's private address [`SERVER_IP`].
//!
//! The client times each `connect()` (SYN out to SYN-ACK in, so the SYN's
//! walk through the gateway's nat chains is in it) with `Instant`, then waits
//! for the server's close (EOF) and closes. Connects per second are over the
//! whole loop, accept and close included, one connection at a time.

use eip_dataplane::Cidr;
use eip_dataplane::desired::{GatewayState, PRIVATE_BLOCKS};
use eip_dataplane::render::{self, UPLINK};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The server's (the instance's) private address.
const SERVER_IP: Ipv4Addr = Ipv4Addr::new(10, 255, 255, 2);
/// The pool the EIPs come from.
const POOL: &str = "198.18.0.0/15";

fn eip(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 0, 0)) + i)
}

fn private(i: u32, n: u32) -> Ipv4Addr {
    if i == n { SERVER_IP } else { Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 1, 0, 0)) + i) }
}

/// The (EIP, private) pairs for N mappings, in order; the target is last.
fn mappings(n: u32) -> impl Iterator<Item = (Ipv4Addr, Ipv4Addr)> {
    (1..=n).map(move |i| (eip(i), private(i, n)))
}

fn parse_n(s: Option<&String>) -> Result<u32, String> {
    let n: u32 = s.ok_or("missing N")?.parse().map_err(|e| format!("bad N: {e}"))?;
    // 198.18.0.0/15 holds 131072 addresses; 10.1.0.0 + N must stay below SERVER_IP.
    if n == 0 || n > 130_000 {
        return Err("N must be 1..=130000".into());
    }
    Ok(n)
}

fn emit_table(n: u32) -> String {
    let g = GatewayState {
        pools: vec![Cidr::parse(POOL).expect("pool")],
        private_nets: PRIVATE_BLOCKS.iter().map(|c| Cidr::parse(c).expect("private block")).collect(),
        nat: mappings(n).collect::<BTreeMap<_, _>>(),
        ..GatewayState::default()
    };
    render::full(&g).script
}

fn emit_iptables(n: u32) -> String {
    let mut s = String::with_capacity(n as usize * 120 + 200);
    s.push_str(
        "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n",
    );
    for (e, p) in mappings(n) {
        s.push_str(&format!("-A PREROUTING -i {UPLINK} -d {e}/32 -j DNAT --to-destination {p}\n"));
    }
    for (e, p) in mappings(n) {
        s.push_str(&format!("-A POSTROUTING -o {UPLINK} -s {p}/32 -j SNAT --to-source {e}\n"));
    }
    s.push_str("COMMIT\n");
    s
}

fn serve(addr: &str) -> Result<(), String> {
    let l = TcpListener::bind(addr).map_err(|e| format!("bind {addr}: {e}"))?;
    println!("listening {}", l.local_addr().map_err(|e| e.to_string())?);
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    loop {
        match l.accept() {
            Ok((c, _)) => drop(c),
            Err(e) => eprintln!("accept: {e}"),
        }
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Nearest rank: the smallest value with at least p % of the values at or below it.
    let k = ((p / 100.0 * sorted.len() as f64).ceil() as usize).saturating_sub(1);
    sorted[k.min(sorted.len() - 1)]
}

fn client(addr: &str, count: usize) -> Result<(), String> {
    let sa: SocketAddr = addr.parse().map_err(|e| format!("bad address {addr}: {e}"))?;
    let mut lat_us = Vec::with_capacity(count);
    let mut errors = 0usize;
    let mut no_eof = 0usize;
    let mut first_error = None;
    let start = Instant::now();
    for _ in 0..count {
        let t = Instant::now();
        match TcpStream::connect(sa) {
            Ok(mut c) => {
                lat_us.push(t.elapsed().as_secs_f64() * 1e6);
                // Wait for the server's close before closing: one connection
                // at a time, so the client never runs ahead of the accept
                // loop (a full accept queue drops SYNs: 1 s retransmits),
                // and the client leaves no TIME_WAIT behind.
                let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
                if !matches!(c.read(&mut [0u8; 16]), Ok(0)) {
                    no_eof += 1;
                }
            }
            Err(e) => {
                errors += 1;
                first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut sorted = lat_us.clone();
    sorted.sort_by(f64::total_cmp);
    let mean = if sorted.is_empty() { f64::NAN } else { sorted.iter().sum::<f64>() / sorted.len() as f64 };
    // Connects that needed a SYN retransmission (the first one waits 1 s).
    let slow = sorted.iter().filter(|&&v| v > 100_000.0).count();
    let num = |v: f64| if v.is_finite() { format!("{v:.1}") } else { "null".into() };
    let err =
        first_error.map(|e| format!("\"{}\"", e.replace('\\', "\\\\").replace('"', "\\\""))).unwrap_or("null".into());
    println!(
        "{{\"target\":\"{sa}\",\"count\":{count},\"ok\":{},\"errors\":{errors},\"no_eof\":{no_eof},\"first_error\":{err},\
         \"p50_us\":{},\"p90_us\":{},\"p99_us\":{},\"mean_us\":{},\"min_us\":{},\"max_us\":{},\
         \"over_100ms\":{slow},\"elapsed_s\":{elapsed:.4},\"connects_per_s\":{:.0}}}",
        sorted.len(),
        num(pct(&sorted, 50.0)),
        num(pct(&sorted, 90.0)),
        num(pct(&sorted, 99.0)),
        num(mean),
        num(sorted.first().copied().unwrap_or(f64::NAN)),
        num(sorted.last().copied().unwrap_or(f64::NAN)),
        sorted.len() as f64 / elapsed,
    );
    Ok(())
}

fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("serve") => serve(args.get(1).ok_or("serve ADDR:PORT")?),
        Some("client") => {
            let addr = args.get(1).ok_or("client ADDR:PORT [--count N]")?;
            let count = match args.get(2).map(String::as_str) {
                Some("--count") => args.get(3).ok_or("--count N")?.parse().map_err(|e| format!("bad count: {e}"))?,
                Some(other) => return Err(format!("unknown argument {other}")),
                None => 2000,
            };
            client(addr, count)
        }
        Some("emit-table") => {
            print!("{}", emit_table(parse_n(args.get(1))?));
            Ok(())
        }
        Some("emit-iptables") => {
            print!("{}", emit_iptables(parse_n(args.get(1))?));
            Ok(())
        }
        Some("target") => {
            println!("{}", eip(parse_n(args.get(1))?));
            Ok(())
        }
        _ => Err("usage: connlat serve ADDR:PORT | client ADDR:PORT [--count N] | emit-table N | \
                  emit-iptables N | target N"
            .into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("connlat: {e}");
            ExitCode::FAILURE
        }
    }
}
