//! The kernel seam: the only place the data plane changes the host.
//!
//! Exists so the reconciler's logic (ordering, retries, drift repair) is
//! tested against [`FakeKernel`], which refuses what the kernel refuses (a
//! delta on a missing table, deleting an absent element, adding a present
//! one), while [`NftCli`] does it for real in a named network namespace.

use crate::TABLE;
use crate::render::{Batch, Effect, TableState};
use std::collections::BTreeMap;
use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// A kernel operation that failed; the message is the tool's own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KernelError(pub String);

/// What the data plane needs from a kernel, per network namespace.
pub trait Kernel: Send {
    /// Applies one batch as one transaction.
    fn apply(&self, ns: &str, batch: &Batch) -> Result<(), KernelError>;
    /// Reads the table back (`None` when it does not exist).
    fn read(&self, ns: &str) -> Result<Option<TableState>, KernelError>;
    /// Deletes the conntrack entries of `addr` in both directions: flows
    /// whose original destination is it (inbound, DNAT) and flows whose
    /// reply goes to it (outbound, SNAT).
    fn flush_conntrack(&self, ns: &str, addr: Ipv4Addr) -> Result<(), KernelError>;
}

/// The `nft` and `conntrack` command-line tools, run with `ip netns exec`.
#[derive(Debug, Default, Clone)]
pub struct NftCli;

fn run(args: &[&str], stdin: Option<&str>) -> Result<std::process::Output, KernelError> {
    let mut c = Command::new(args[0]);
    c.args(&args[1..]).stdout(Stdio::piped()).stderr(Stdio::piped());
    c.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = c.spawn().map_err(|e| KernelError(format!("{}: {e}", args.join(" "))))?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input.as_bytes()).map_err(|e| KernelError(format!("{}: {e}", args.join(" "))))?;
    }
    child.wait_with_output().map_err(|e| KernelError(format!("{}: {e}", args.join(" "))))
}

fn failed(args: &[&str], out: &std::process::Output) -> KernelError {
    KernelError(format!(
        "{} exited with {}: {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    ))
}

impl NftCli {
    /// The per-EIP counters of one accounting set (`eip_rx`, `eip_tx`) of the
    /// gateway in `ns`; empty when the table is not there.
    pub fn counters(&self, ns: &str, set: &str) -> Result<BTreeMap<Ipv4Addr, crate::render::Count>, KernelError> {
        let args = ["ip", "netns", "exec", ns, "nft", "-j", "list", "set", "ip", TABLE, set];
        let out = run(&args, None)?;
        if !out.status.success() {
            if String::from_utf8_lossy(&out.stderr).contains("No such file or directory") {
                return Ok(BTreeMap::new());
            }
            return Err(failed(&args, &out));
        }
        crate::render::parse_counters(&String::from_utf8_lossy(&out.stdout)).map_err(KernelError)
    }
}

impl Kernel for NftCli {
    fn apply(&self, ns: &str, batch: &Batch) -> Result<(), KernelError> {
        let args = ["ip", "netns", "exec", ns, "nft", "-f", "-"];
        let out = run(&args, Some(&batch.script))?;
        if out.status.success() { Ok(()) } else { Err(failed(&args, &out)) }
    }

    fn read(&self, ns: &str) -> Result<Option<TableState>, KernelError> {
        let args = ["ip", "netns", "exec", ns, "nft", "-j", "list", "table", "ip", TABLE];
        let out = run(&args, None)?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            if err.contains("No such file or directory") {
                return Ok(None);
            }
            return Err(failed(&args, &out));
        }
        crate::render::parse_listing(&String::from_utf8_lossy(&out.stdout)).map(Some).map_err(KernelError)
    }

    fn flush_conntrack(&self, ns: &str, addr: Ipv4Addr) -> Result<(), KernelError> {
        let a = addr.to_string();
        for dir in ["--orig-dst", "--reply-dst"] {
            let args = ["ip", "netns", "exec", ns, "conntrack", "-D", dir, &a];
            let out = run(&args, None)?;
            // conntrack exits 1 when nothing matched: that is success here.
            let none = String::from_utf8_lossy(&out.stderr).contains("0 flow entries have been deleted");
            if !out.status.success() && !none {
                return Err(failed(&args, &out));
            }
        }
        Ok(())
    }
}

/// One recorded kernel call of [`FakeKernel`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// A full batch applied.
    Full(String),
    /// A delta batch applied.
    Delta(String),
    /// Conntrack entries of an address deleted.
    Flush(String, Ipv4Addr),
}

/// An in-memory kernel with nftables' refusal rules.
#[derive(Default)]
pub struct FakeKernel {
    state: Mutex<FakeState>,
}

#[derive(Default)]
struct FakeState {
    tables: BTreeMap<String, TableState>,
    ops: Vec<Op>,
    fail_next: usize,
    fail_flushes: usize,
}

impl FakeKernel {
    /// A fake with no tables.
    pub fn new() -> FakeKernel {
        FakeKernel::default()
    }
    /// The next `n` calls (apply or flush) fail.
    pub fn fail_next(&self, n: usize) {
        self.state.lock().expect("fake kernel").fail_next = n;
    }
    /// The next `n` conntrack flushes fail.
    pub fn fail_flushes(&self, n: usize) {
        self.state.lock().expect("fake kernel").fail_flushes = n;
    }
    /// The table of a namespace.
    pub fn table(&self, ns: &str) -> Option<TableState> {
        self.state.lock().expect("fake kernel").tables.get(ns).cloned()
    }
    /// Changes a table behind the reconciler's back (drift).
    pub fn tamper(&self, ns: &str, f: impl FnOnce(&mut Option<TableState>)) {
        let mut s = self.state.lock().expect("fake kernel");
        let mut t = s.tables.remove(ns);
        f(&mut t);
        if let Some(t) = t {
            s.tables.insert(ns.to_owned(), t);
        }
    }
    /// Every successful call so far, in order.
    pub fn ops(&self) -> Vec<Op> {
        self.state.lock().expect("fake kernel").ops.clone()
    }

    fn injected(s: &mut FakeState) -> Result<(), KernelError> {
        if s.fail_next > 0 {
            s.fail_next -= 1;
            return Err(KernelError("injected failure".into()));
        }
        Ok(())
    }
}

impl Kernel for FakeKernel {
    fn apply(&self, ns: &str, batch: &Batch) -> Result<(), KernelError> {
        let mut s = self.state.lock().expect("fake kernel");
        Self::injected(&mut s)?;
        match &batch.effect {
            Effect::Full(t) => {
                s.tables.insert(ns.to_owned(), t.clone());
                s.ops.push(Op::Full(ns.to_owned()));
            }
            Effect::Delta(d) => {
                let mut t = s.tables.get(ns).cloned().ok_or_else(|| KernelError("No such file or directory".into()))?;
                let gone = |x| KernelError(format!("No such file or directory: {x}"));
                for (e, p) in &d.unmap {
                    t.eip2priv.remove(e).ok_or_else(|| gone(e))?;
                    t.priv2eip.remove(p).ok_or_else(|| gone(p))?;
                }
                for e in &d.unvisible {
                    t.visible.remove(e).then_some(()).ok_or_else(|| gone(e))?;
                }
                for (e, p) in &d.map {
                    let exists = KernelError(format!("File exists: {e}"));
                    if t.eip2priv.insert(*e, *p).is_some() || t.priv2eip.insert(*p, *e).is_some() {
                        return Err(exists);
                    }
                }
                for e in &d.visible {
                    if !t.visible.insert(*e) {
                        return Err(KernelError(format!("File exists: {e}")));
                    }
                }
                s.tables.insert(ns.to_owned(), t);
                s.ops.push(Op::Delta(ns.to_owned()));
            }
        }
        Ok(())
    }

    fn read(&self, ns: &str) -> Result<Option<TableState>, KernelError> {
        Ok(self.state.lock().expect("fake kernel").tables.get(ns).cloned())
    }

    fn flush_conntrack(&self, ns: &str, addr: Ipv4Addr) -> Result<(), KernelError> {
        let mut s = self.state.lock().expect("fake kernel");
        Self::injected(&mut s)?;
        if s.fail_flushes > 0 {
            s.fail_flushes -= 1;
            return Err(KernelError("injected conntrack failure".into()));
        }
        s.ops.push(Op::Flush(ns.to_owned(), addr));
        Ok(())
    }
}
