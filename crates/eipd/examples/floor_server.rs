//! The cheapest server that can answer the official SDK: the floor under
//! `bench/cpu_per_call.py`'s figure on a given machine.
//!
//! One thread, blocking std sockets, no framework, no authentication, no
//! store: it reads one HTTP/1.1 request (headers and `Content-Length` body),
//! answers with a fixed DescribeEipAddresses-shaped JSON body and keeps the
//! connection open. With `--durable FILE` every write action (any action
//! but a Describe) also writes `--bytes N` (default 16 KiB, about four
//! SQLite WAL frames) at the start of FILE and calls `fdatasync`, the least
//! a durable commit can do. `--direct` writes them with `O_DIRECT|O_DSYNC`
//! instead (one FUA write, no page cache, no separate flush call).
//!
//! `bench/floor.py` paces the official Python SDK against it and against
//! eipd, and reads each server's CPU from /proc. Whatever this server costs
//! per call, no server on the machine can cost less for the same traffic.
//!
//! Usage: `floor_server PORT [--durable FILE [--bytes N] [--direct]]`
//! (prints `ready` when listening).

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{FileExt, OpenOptionsExt};

/// How a write action is made durable.
struct Durable {
    file: File,
    /// `O_DIRECT|O_DSYNC`: the write itself is durable.
    direct: bool,
    /// What is written, page-aligned for `O_DIRECT`.
    page: AlignedBuf,
}

/// A 4 KiB-aligned buffer, as `O_DIRECT` requires.
struct AlignedBuf {
    raw: Vec<u8>,
    start: usize,
    len: usize,
}

impl AlignedBuf {
    fn new(len: usize) -> Self {
        let raw = vec![0x5au8; len + 4096];
        let start = (4096 - (raw.as_ptr() as usize % 4096)) % 4096;
        AlignedBuf { raw, start, len }
    }
    fn bytes(&self) -> &[u8] {
        &self.raw[self.start..self.start + self.len]
    }
}

const BODY: &str = r#"{"RequestId":"5C0C3D2B-4F3A-4D5E-9A41-0F2B1C3D4E5F","TotalCount":1,"PageNumber":1,"PageSize":10,"EipAddresses":{"EipAddress":[{"AllocationId":"eip-floor0000000000000001","IpAddress":"198.18.0.10","RegionId":"cn-hangzhou","Status":"Available","InstanceId":"","InstanceType":"","Bandwidth":"5","InternetChargeType":"PayByTraffic","ChargeType":"PostPaid","AllocationTime":"2026-11-26T00:00:00Z","Name":"","Description":"","ISP":"BGP","Netmode":"public","Mode":"NAT","Tags":{"Tag":[]}}]}}"#;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: floor_server PORT [--durable FILE [--bytes N] [--direct]]";
    let port: u16 = args.get(1).and_then(|p| p.parse().ok()).expect(usage);
    let opt = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let direct = args.iter().any(|a| a == "--direct");
    let bytes: usize = opt("--bytes").map(|b| b.parse().expect(usage)).unwrap_or(16 * 1024);
    let durable = opt("--durable").map(|path| {
        // Write the whole file once and flush it, so later writes overwrite
        // allocated blocks and need no metadata change.
        let page = AlignedBuf::new(bytes);
        let f = File::options().create(true).truncate(true).write(true).open(&path).expect("open");
        for i in 0..16 {
            f.write_all_at(page.bytes(), (i * bytes) as u64).expect("fill");
        }
        f.sync_all().expect("sync");
        drop(f);
        let mut o = File::options();
        o.write(true);
        if direct {
            o.custom_flags(libc_flags());
        }
        Durable { file: o.open(&path).expect("reopen"), direct, page }
    });
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    println!("ready");
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let _ = serve(stream, durable.as_ref());
    }
}

/// Serves one keep-alive connection until the client closes it.
fn serve(mut s: TcpStream, durable: Option<&Durable>) -> std::io::Result<()> {
    s.set_nodelay(true)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut have = 0usize;
    loop {
        // Read until the end of the headers, then the body.
        let (head_end, body_len) = loop {
            if let Some(end) = find(&buf[..have], b"\r\n\r\n") {
                break (end + 4, content_length(&buf[..end]));
            }
            let n = s.read(&mut buf[have..])?;
            if n == 0 {
                return Ok(());
            }
            have += n;
        };
        while have < head_end + body_len {
            let n = s.read(&mut buf[have..])?;
            if n == 0 {
                return Ok(());
            }
            have += n;
        }
        let req = &buf[..head_end + body_len];
        if let Some(d) = durable.filter(|_| is_write(req)) {
            d.file.write_all_at(d.page.bytes(), 0)?;
            if !d.direct {
                d.file.sync_data()?;
            }
        }
        let resp = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json;charset=utf-8\r\ncontent-length: {}\r\nx-acs-request-id: 5C0C3D2B-4F3A-4D5E-9A41-0F2B1C3D4E5F\r\n\r\n{}",
            BODY.len(),
            BODY
        );
        s.write_all(resp.as_bytes())?;
        buf.copy_within(head_end + body_len..have, 0);
        have -= head_end + body_len;
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &[u8]) -> usize {
    let text = String::from_utf8_lossy(head);
    text.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case("content-length").then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0)
}

/// A write is any action that is not a Describe (the V3 signer sends the
/// action in the `x-acs-action` header, V1 in `Action=`).
fn is_write(req: &[u8]) -> bool {
    let text = String::from_utf8_lossy(req).to_ascii_lowercase();
    let action = text
        .lines()
        .find_map(|l| l.strip_prefix("x-acs-action:").map(|v| v.trim().to_string()))
        .or_else(|| text.split("action=").nth(1).map(|v| v.split('&').next().unwrap_or("").to_string()));
    matches!(action, Some(a) if !a.starts_with("describe"))
}

/// `O_DIRECT | O_DSYNC` on Linux x86-64 and aarch64.
fn libc_flags() -> i32 {
    const O_DSYNC: i32 = 0o10000;
    #[cfg(target_arch = "aarch64")]
    const O_DIRECT: i32 = 0o200000;
    #[cfg(not(target_arch = "aarch64"))]
    const O_DIRECT: i32 = 0o40000;
    O_DIRECT | O_DSYNC
}
